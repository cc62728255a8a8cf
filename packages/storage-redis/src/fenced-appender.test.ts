import { describe, expect, it } from 'vitest';
import { isDuplicateIdError, makeBatch } from './fenced-appender.js';

const text = (parts: { elements: string[] }[]): string => parts.flatMap((p) => p.elements).join('');

describe('makeBatch', () => {
  it('sends a small flush as one part of one element, numbered from the given sequence', () => {
    const batch = makeBatch(5, 'a\nb\n', 64 * 1024 * 1024);
    expect(batch.seq).toBe(5);
    expect(batch.length).toBe(4);
    expect(batch.done).toBe(0);
    expect(batch.parts).toHaveLength(1);
    expect(batch.parts[0]?.first).toBe(0);
    expect(text(batch.parts)).toBe('a\nb\n');
  });

  it('splits a flush into parts of at most maxCallBytes, numbering elements across parts', () => {
    const line = `${'x'.repeat(999)}\n`;
    const data = line.repeat(100); // 100,000 bytes
    const batch = makeBatch(2, data, 10_000);
    expect(batch.parts.length).toBeGreaterThan(9);
    let next = 0;
    for (const part of batch.parts) {
      expect(part.first).toBe(next);
      next += part.elements.length;
      const bytes = part.elements.reduce((n, e) => n + Buffer.byteLength(e), 0);
      expect(bytes).toBeLessThanOrEqual(10_000);
    }
    expect(text(batch.parts)).toBe(data);
    expect(batch.length).toBe(data.length);
  });

  it('keeps multi-byte characters whole in every element (UTF-8 is exact per element)', () => {
    const data = '日本語😀'.repeat(3000);
    const batch = makeBatch(3, data, 4096);
    for (const part of batch.parts) {
      for (const el of part.elements) {
        expect(Buffer.from(el, 'utf8').toString('utf8')).toBe(el);
      }
    }
    expect(text(batch.parts)).toBe(data);
  });

  it('has no parts for empty data', () => {
    expect(makeBatch(1, '', 1024).parts).toEqual([]);
  });
});

describe('isDuplicateIdError', () => {
  it('recognises Redis refusing an XADD ID at or below the stream top', () => {
    const e = new Error(
      'ERR The ID specified in XADD is equal or smaller than the target stream top item',
    );
    expect(isDuplicateIdError(e)).toBe(true);
    expect(isDuplicateIdError(new Error('OOM command not allowed'))).toBe(false);
  });
});
