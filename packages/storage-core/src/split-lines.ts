/** A chunk of checkpoint content: UTF-8 bytes or already-decoded text. */
export type Chunk = Uint8Array | string;

/**
 * Splits a stream of chunks into lines, without the `\n`.
 *
 * - Lines are split at `\n` only (a `\r` before it is kept, as the contract says).
 * - A multi-byte UTF-8 character split across byte chunks is decoded whole;
 *   invalid bytes become U+FFFD, NUL bytes pass through.
 * - A line may span any number of chunks; memory is bounded by the longest
 *   line plus one chunk, never by the size of the stream.
 * - Empty lines are yielded as `''`; a final segment without `\n` is yielded
 *   too; `'a\n'` yields only `'a'`.
 * - Byte and string chunks may be mixed.
 * - With `options.signal`, an abort ends the iteration before the next line
 *   with the signal's reason.
 *
 * @example
 * ```ts
 * for await (const line of splitLines(fs.createReadStream('crawl.jsonl'))) {
 *   console.log(JSON.parse(line));
 * }
 * ```
 */
export async function* splitLines(
  source: AsyncIterable<Chunk> | Iterable<Chunk>,
  options: { signal?: AbortSignal | undefined } = {},
): AsyncGenerator<string, void, undefined> {
  const { signal } = options;
  if (signal) {
    // Checked before every line: an abort stops the iteration at once, even
    // inside a chunk that holds many lines.
    for await (const line of splitLines(source)) {
      signal.throwIfAborted();
      yield line;
    }
    return;
  }
  // ignoreBOM: a byte order mark is content like any other bytes (read()
  // returns exactly what was written), not something to strip.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  // The unfinished line, kept as parts so a long line costs O(length) to build.
  let parts: string[] = [];
  let pending = false;
  for await (const chunk of source as AsyncIterable<Chunk>) {
    let text: string;
    if (typeof chunk === 'string') {
      // Flush any partial byte sequence left by a previous byte chunk.
      const rest = decoder.decode();
      text = rest ? rest + chunk : chunk;
    } else {
      text = decoder.decode(chunk, { stream: true });
    }
    if (text.length === 0) continue;
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      if (pending) {
        parts.push(text.slice(start, nl));
        yield parts.join('');
        parts = [];
        pending = false;
      } else {
        yield text.slice(start, nl);
      }
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) {
      parts.push(start === 0 ? text : text.slice(start));
      pending = true;
    }
  }
  const tail = decoder.decode();
  if (tail) {
    parts.push(tail);
    pending = true;
  }
  if (pending) yield parts.join('');
}
