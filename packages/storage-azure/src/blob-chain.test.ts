import { describe, expect, it } from 'vitest';
import { chainBlobName, findLast } from './blob-chain.js';

describe('chainBlobName', () => {
  it('names the first blob as given and the next ones with a six-digit suffix', () => {
    expect(chainBlobName('crawls/a.jsonl', 0)).toBe('crawls/a.jsonl');
    expect(chainBlobName('crawls/a.jsonl', 1)).toBe('crawls/a.jsonl.000001');
    expect(chainBlobName('crawls/a.jsonl', 123456)).toBe('crawls/a.jsonl.123456');
  });
});

describe('findLast', () => {
  /** A chain of `length` blobs; records the probes. */
  function chain(length: number): {
    probe: (i: number) => Promise<string | undefined>;
    probes: number[];
  } {
    const probes: number[] = [];
    return {
      probes,
      probe: async (i) => {
        probes.push(i);
        return i < length ? `blob-${i}` : undefined;
      },
    };
  }

  it('finds nothing when the first blob does not exist, in one probe', async () => {
    const c = chain(0);
    expect(await findLast(c.probe)).toBeUndefined();
    expect(c.probes).toEqual([0]);
  });

  it('finds a lone blob in two probes', async () => {
    const c = chain(1);
    expect(await findLast(c.probe)).toEqual({ index: 0, value: 'blob-0' });
    expect(c.probes).toEqual([0, 1]);
  });

  it('finds the last blob of any chain in O(log n) probes', async () => {
    for (const length of [2, 3, 4, 5, 7, 8, 9, 100, 1000, 4097, 65_536, 999_999]) {
      const c = chain(length);
      expect(await findLast(c.probe)).toEqual({ index: length - 1, value: `blob-${length - 1}` });
      // 1 for the first blob, then ≤ log2(n)+1 doubling probes and ≤ log2(n) bisection probes.
      expect(c.probes.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(length)) + 2);
    }
  });
});
