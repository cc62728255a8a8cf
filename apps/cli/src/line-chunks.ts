import { classifyLine } from '@yoink/checkpoint/lines';

/** A batch of checkpoint text, and how many lines it completes. */
export interface LineChunk {
  /** The text: whole lines, each followed by `\n` (except a torn last line). */
  text: string;
  /** Lines in `text`. */
  lines: number;
  /** UTF-8 bytes of `text`. */
  bytes: number;
}

/** Default size of a batch: 64 KiB of text. */
const DEFAULT_CHUNK_CHARS: number = 64 * 1024;

/**
 * Turns the lines of `read()` back into checkpoint text, in batches of about
 * `chunkChars` characters, so `cat` and `cp` write few large pieces.
 *
 * `read()` does not say whether the last line ended in `\n`. The rule: every
 * line gets its `\n` except a last line that is a torn record (by
 * `@yoink/checkpoint`'s rule), which a crash leaves without one. So a clean
 * checkpoint and a torn one are reproduced byte for byte, and the lines read
 * back from a copy are always exactly the lines of the source.
 */
export async function* lineChunks(
  lines: AsyncIterable<string>,
  chunkChars: number = DEFAULT_CHUNK_CHARS,
): AsyncGenerator<LineChunk, void, undefined> {
  let parts: string[] = [];
  let size = 0;
  let count = 0;
  let previous: string | undefined;
  const take = (): LineChunk => {
    const text = parts.join('');
    const chunk = { text, lines: count, bytes: Buffer.byteLength(text, 'utf8') };
    parts = [];
    size = 0;
    count = 0;
    return chunk;
  };
  for await (const line of lines) {
    if (previous !== undefined) {
      parts.push(previous, '\n');
      size += previous.length + 1;
      count++;
      if (size >= chunkChars) yield take();
    }
    previous = line;
  }
  if (previous !== undefined) {
    parts.push(previous);
    if (classifyLine(previous) !== 'torn') parts.push('\n');
    count++;
  }
  if (count > 0) yield take();
}
