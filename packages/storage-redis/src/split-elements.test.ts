import { describe, expect, it } from 'vitest';
import { splitElements } from './split-elements.js';

describe('splitElements', () => {
  it('returns short data as one element and nothing for empty data', () => {
    expect(splitElements('a\nb\n', 10)).toEqual(['a\nb\n']);
    expect(splitElements('', 10)).toEqual([]);
  });

  it('cuts after a newline in the second half of a piece when there is one', () => {
    expect(splitElements('aaaa\nbb\ncccc\n', 8)).toEqual(['aaaa\nbb\n', 'cccc\n']);
  });

  it('cuts a long line anywhere, and joins back to the input', () => {
    const text = 'x'.repeat(25);
    const parts = splitElements(text, 10);
    expect(parts.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(parts.join('')).toBe(text);
  });

  it('never cuts inside a surrogate pair', () => {
    const text = '🎉'.repeat(20);
    const parts = splitElements(text, 7);
    expect(parts.join('')).toBe(text);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(7);
      expect(Buffer.from(p, 'utf8').toString('utf8')).toBe(p);
    }
  });
});
