import type { Chunk } from './split-lines.js';
import { countNewlines, type StorageTraceContext, trace, traced } from './tracing.js';

/**
 * `promise`, or a rejection with `signal.reason` as soon as `signal` aborts
 * (at once when it already has; `promise` itself when there is no signal).
 * For a backend's `readChunks` that waits on a request it cannot cancel: the
 * read stops at once and the request's result is dropped.
 *
 * @example
 * ```ts
 * const page = await abortable(client.xrange(key, start, end), signal);
 * ```
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * A backend's chunks, with cancellation and per-chunk tracing: an abort of
 * `signal` ends the iteration at once with the signal's reason (even while a
 * chunk is being fetched), and each chunk is one event on the
 * `yoink:storage:read` channel when someone subscribes (`context()` builds
 * the event's context only then). Stopping, finishing or aborting stops the
 * backend's iteration, so it releases its handle or connection.
 *
 * @internal
 */
export async function* watchedChunks(
  source: AsyncIterable<Chunk>,
  signal: AbortSignal | undefined,
  context: () => StorageTraceContext,
): AsyncGenerator<Chunk> {
  signal?.throwIfAborted();
  const it = source[Symbol.asyncIterator]();
  let pending = false;
  try {
    for (;;) {
      pending = true;
      let next: Promise<IteratorResult<Chunk>>;
      if (traced('read')) {
        const ctx = context();
        next = trace(ctx, async () => {
          const r = await it.next();
          if (r.done) ctx.done = true;
          else {
            ctx.bytes =
              typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.byteLength;
            ctx.lines = countNewlines(r.value);
          }
          return r;
        });
      } else {
        next = it.next();
      }
      const result = await abortable(next, signal);
      pending = false;
      if (result.done) return;
      yield result.value;
      signal?.throwIfAborted();
    }
  } finally {
    // If a next() is still pending (aborted mid-request), do not wait for it:
    // the backend saw the signal and its generator finishes on its own.
    const done = it.return?.();
    if (!pending) await done;
    else done?.catch(() => {});
  }
}
