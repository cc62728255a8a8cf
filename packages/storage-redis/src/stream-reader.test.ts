import { describe, expect, it } from 'vitest';
import { MAX_PAGE_COUNT, nextPageCount, type Page, pageText } from './stream-reader.js';

function page(values: string[], extra: [string, string][] = []): Page {
  return values.map((v, i) => [
    Buffer.from(`2-${i}`),
    [
      Buffer.from('d'),
      Buffer.from(v, 'utf8'),
      ...extra.flatMap(([k, x]) => [Buffer.from(k), Buffer.from(x)]),
    ],
  ]);
}

describe('nextPageCount', () => {
  it('asks for about pageBytes of entries of the size just seen', () => {
    const p = page(Array.from({ length: 16 }, () => 'x'.repeat(1023)));
    // 1,024 bytes per entry ("d" + 1,023): 64 entries make 64 KiB.
    expect(nextPageCount(p, 64 * 1024)).toBe(64);
  });

  it('asks for at least one entry and at most MAX_PAGE_COUNT', () => {
    const big = page(['x'.repeat(100_000)]);
    expect(nextPageCount(big, 10)).toBe(1);
    const tiny = page(['a']);
    expect(nextPageCount(tiny, 4 * 1024 * 1024)).toBe(MAX_PAGE_COUNT);
  });
});

describe('pageText', () => {
  it('yields the d field of every entry in order, decoded from UTF-8', () => {
    expect(pageText(page(['a\n', 'é😀\n', 'c']))).toEqual(['a\n', 'é😀\n', 'c']);
  });

  it('ignores fields other than d', () => {
    expect(pageText(page(['x'], [['fence', 'token']]))).toEqual(['x']);
    const noData: Page = [[Buffer.from('1-0'), [Buffer.from('fence'), Buffer.from('t')]]];
    expect(pageText(noData)).toEqual([]);
  });
});
