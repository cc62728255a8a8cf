import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Chunk, splitLines } from './split-lines.js';

async function lines(chunks: Chunk[]): Promise<string[]> {
  const out: string[] = [];
  for await (const l of splitLines(chunks)) out.push(l);
  return out;
}

/** What the contract says `read()` yields for a given content. */
function expected(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\n');
  if (text.endsWith('\n')) parts.pop();
  return parts;
}

/** Splits `bytes` at the given (sorted, deduplicated) offsets. */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

describe('splitLines', () => {
  it('yields lines without \\n, and a last segment without \\n', async () => {
    expect(await lines(['a\nb\nc'])).toEqual(['a', 'b', 'c']);
    expect(await lines(['a\nb\n'])).toEqual(['a', 'b']);
    expect(await lines(['\n'])).toEqual(['']);
    expect(await lines([''])).toEqual([]);
    expect(await lines([])).toEqual([]);
  });

  it('keeps empty lines', async () => {
    expect(await lines(['\n\na\n\n', 'b'])).toEqual(['', '', 'a', '', 'b']);
  });

  it('splits at \\n only and keeps \\r', async () => {
    expect(await lines(['a\r\nb\rc\n'])).toEqual(['a\r', 'b\rc']);
  });

  it('joins a line split across many chunks', async () => {
    const chunks = 'x'.repeat(10_000).match(/.{1,7}/g) as string[];
    expect(await lines([...chunks, '\nend'])).toEqual(['x'.repeat(10_000), 'end']);
  });

  it('decodes a multi-byte character split across byte chunks', async () => {
    const bytes = new TextEncoder().encode('é🎉\n日本\n');
    // Cut inside every multi-byte sequence: one byte per chunk.
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    expect(await lines(chunks)).toEqual(['é🎉', '日本']);
  });

  it('mixes byte and string chunks, even after a partial byte sequence', async () => {
    const euro = new TextEncoder().encode('€'); // 3 bytes
    expect(await lines([euro.subarray(0, 3), 'a\n', euro, '\n'])).toEqual(['€a', '€']);
    // A string arriving after a truncated sequence: the bytes decode to U+FFFD.
    expect(await lines([euro.subarray(0, 2), 'x\n'])).toEqual(['\uFFFDx']);
  });

  it('passes NUL bytes through and replaces invalid UTF-8', async () => {
    expect(await lines([Uint8Array.of(0, 0, 0x0a, 0xff, 0x61)])).toEqual(['\0\0', '\uFFFDa']);
  });

  it('keeps a UTF-8 byte order mark: bytes are bytes', async () => {
    const bom = Uint8Array.of(0xef, 0xbb, 0xbf);
    expect(await lines([bom, new TextEncoder().encode('{"a":1}\n')])).toEqual(['\uFEFF{"a":1}']);
    expect(await lines([Uint8Array.of(0xef), Uint8Array.of(0xbb, 0xbf, 0x61)])).toEqual([
      '\uFEFFa',
    ]);
    expect(await lines(['\uFEFFa\n'])).toEqual(['\uFEFFa']);
  });

  it('reads from async iterables', async () => {
    async function* gen(): AsyncGenerator<Chunk> {
      yield 'a\nb';
      yield new TextEncoder().encode('c\nd');
    }
    const out: string[] = [];
    for await (const l of splitLines(gen())) out.push(l);
    expect(out).toEqual(['a', 'bc', 'd']);
  });

  it('holds at most one line plus one chunk (memory bounded by the longest line)', async () => {
    // 2,000 chunks of 1,000 short lines each: the generator checks that the
    // splitter pulls the next chunk only after yielding every line of this one.
    let pulled = 0;
    let yielded = 0;
    async function* gen(): AsyncGenerator<Chunk> {
      for (let i = 0; i < 2_000; i++) {
        pulled++;
        expect(pulled - Math.floor(yielded / 1_000)).toBeLessThanOrEqual(1);
        yield 'line\n'.repeat(1_000);
      }
    }
    for await (const _ of splitLines(gen())) yielded++;
    expect(yielded).toBe(2_000_000);
  });

  it('property: any split of any byte string reads back the same lines', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.string({ unit: 'binary' }),
            fc.constantFrom('\n', '\n\n', '\r\n', 'é', '🎉', '\0'),
          ),
        ),
        fc.array(fc.nat(), { maxLength: 30 }),
        async (pieces, offsets) => {
          const text = pieces.join('');
          const bytes = new TextEncoder().encode(text);
          expect(await lines(cut(bytes, offsets))).toEqual(expected(text));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: arbitrary bytes decode the same however they are split', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        async (bytes, offsets) => {
          const whole = await lines([bytes]);
          expect(await lines(cut(bytes, offsets))).toEqual(whole);
          expect(whole).toEqual(expected(new TextDecoder().decode(bytes)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: string chunks split anywhere (even inside surrogate pairs) join back', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme' }).map((s) => s.replace(/x/g, '\n')),
        fc.array(fc.nat(), { maxLength: 20 }),
        async (text, offsets) => {
          const points = [...new Set(offsets.map((o) => o % (text.length + 1)))].sort(
            (a, b) => a - b,
          );
          const chunks: string[] = [];
          let prev = 0;
          for (const p of points) {
            chunks.push(text.slice(prev, p));
            prev = p;
          }
          chunks.push(text.slice(prev));
          expect(await lines(chunks)).toEqual(expected(text));
        },
      ),
      { numRuns: 300 },
    );
  });
});
