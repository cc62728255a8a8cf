/**
 * Default size bound of one stream element, in UTF-16 code units (64 KiB of
 * ASCII, ≤ 192 KiB of UTF-8). Smaller elements make smaller transient
 * strings and Buffers when reading; measured on a 300 MB checkpoint, peak
 * RSS growth of a read was ~50 MB with 256 Ki units and ~40 MB with 64 Ki.
 */
export const DEFAULT_ELEMENT_CHARS: number = 64 * 1024;

/**
 * Cuts `data` into pieces of at most `maxChars` UTF-16 code units, in order,
 * so that joining them gives `data` back. A cut prefers the last `\n` in the
 * second half of a piece (so elements usually hold whole lines, which reads
 * well in `redis-cli`), and never falls inside a surrogate pair (each piece is
 * valid UTF-16 on its own, so it encodes to UTF-8 without replacement
 * characters).
 *
 * @example
 * ```ts
 * splitElements('a\nb\nc\n', 4); // ['a\nb\n', 'c\n']
 * ```
 */
export function splitElements(data: string, maxChars: number = DEFAULT_ELEMENT_CHARS): string[] {
  if (data.length <= maxChars) return data.length === 0 ? [] : [data];
  const max = Math.max(2, Math.floor(maxChars));
  const out: string[] = [];
  let start = 0;
  while (data.length - start > max) {
    let end = start + max;
    const nl = data.lastIndexOf('\n', end - 1);
    if (nl >= start + max / 2) {
      end = nl + 1;
    } else {
      const code = data.charCodeAt(end - 1);
      // A high surrogate at the end of the piece: keep it with its low half.
      if (code >= 0xd800 && code <= 0xdbff) end -= 1;
    }
    out.push(data.slice(start, end));
    start = end;
  }
  if (start < data.length) out.push(data.slice(start));
  return out;
}
