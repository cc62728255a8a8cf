import { setMaxListeners } from 'node:events';

/** One part of a read: a segment, or a range of an object. */
export interface ReadPart {
  /** The bytes it holds once fetched: its share of the read-ahead budget. */
  readonly bytes: number;
  /** Fetches the whole part into memory (started ahead of its turn). */
  fetch(signal: AbortSignal): Promise<Uint8Array[]>;
  /** Streams the part: used, with nothing else in flight, for a part larger than the budget. */
  stream(signal: AbortSignal): AsyncIterable<Uint8Array>;
}

/** How far a read may run ahead of its consumer. */
export interface ReadAheadLimits {
  /** Parts in flight (or fetched and waiting their turn) at most. */
  readonly concurrency: number;
  /** Bytes of those parts at most. */
  readonly aheadBytes: number;
}

/**
 * Yields the bytes of `parts` in order while fetching up to
 * `limits.concurrency` of them ahead, as long as their bytes fit in
 * `limits.aheadBytes`: memory stays bounded by that budget (plus the chunk
 * being yielded), whatever the checkpoint's size. A part larger than the
 * budget is streamed alone once everything before it has been yielded.
 *
 * `parts` is pulled lazily, one part ahead of what the window admits, so a
 * listing behind it pages as the read goes. A part that fails throws when its
 * turn comes, so everything before it is yielded first. `signal` aborts every
 * request in flight; so does the consumer stopping early (the generator's
 * `return()`), which also waits for them to settle, so their connections are
 * free before the caller releases its client.
 */
export async function* readAhead(
  parts: AsyncIterable<ReadPart>,
  limits: ReadAheadLimits,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  signal?.throwIfAborted();
  const controller = new AbortController();
  // Every request in flight listens to it (the SDK adds one listener per request).
  setMaxListeners(limits.concurrency + 16, controller.signal);
  const onAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const source = parts[Symbol.asyncIterator]();
  const window: { part: ReadPart; result: Promise<Uint8Array[]> }[] = [];
  let reserved = 0;
  let next: ReadPart | undefined;
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && window.length < limits.concurrency) {
        if (next === undefined) {
          const r = await source.next();
          if (r.done) {
            exhausted = true;
            break;
          }
          next = r.value;
        }
        if (reserved + next.bytes > limits.aheadBytes) break;
        const part = next;
        next = undefined;
        const result = part.fetch(controller.signal);
        // Its error is thrown when its turn comes; until then it must not go unhandled.
        result.catch(() => {});
        window.push({ part, result });
        reserved += part.bytes;
      }
      const head = window.shift();
      if (head !== undefined) {
        for (const chunk of await head.result) yield chunk;
        reserved -= head.part.bytes;
        continue;
      }
      if (next === undefined) return;
      // Larger than the whole budget, and nothing else in flight: stream it alone.
      const big = next;
      next = undefined;
      yield* big.stream(controller.signal);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (window.length > 0) {
      controller.abort(new Error('read stopped'));
      await Promise.allSettled(window.map((w) => w.result));
    }
    await source.return?.();
  }
}
