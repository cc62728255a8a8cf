import { describe, expect, it } from 'vitest';
import { planParts } from './merge-parts.js';
import {
  ChainGap,
  chainOf,
  deletable,
  mergedKey,
  type Piece,
  pieceOf,
  planMerges,
  segmentKey,
} from './pieces.js';

const P = 'crawl/';
const MiB = 1024 * 1024;

function seg(seq: number, size = 10, ageMs = 0): Piece {
  return {
    key: segmentKey(P, seq),
    first: seq,
    last: seq,
    merged: false,
    size,
    lastModified: new Date(NOW - ageMs),
  };
}

function merged(first: number, last: number, size = 100, ageMs = 0): Piece {
  return {
    key: mergedKey(P, first, last),
    first,
    last,
    merged: true,
    size,
    lastModified: new Date(NOW - ageMs),
  };
}

const NOW = Date.UTC(2025, 0, 1);

/** Pieces in the order S3 lists them (by key). */
function listed(...pieces: Piece[]): Piece[] {
  return [...pieces].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const keys = (ps: readonly Piece[]): string[] => ps.map((p) => p.key.slice(P.length));

describe('piece names', () => {
  it('a merged range sorts just before the segment it starts with, narrower ranges first', () => {
    const names = [
      segmentKey(P, 1),
      mergedKey(P, 0, 99),
      segmentKey(P, 0),
      mergedKey(P, 0, 5),
      mergedKey(P, 1, 3),
    ].sort();
    expect(names.map((k) => k.slice(P.length))).toEqual([
      '000000000000-000000000005.jsonl',
      '000000000000-000000000099.jsonl',
      '000000000000.jsonl',
      '000000000001-000000000003.jsonl',
      '000000000001.jsonl',
    ]);
  });

  it('parses segments and merged ranges, and nothing else', () => {
    expect(pieceOf(P, { Key: `${P}000000000042.jsonl`, Size: 3 })).toMatchObject({
      first: 42,
      last: 42,
      merged: false,
      size: 3,
    });
    expect(pieceOf(P, { Key: `${P}000000000001-000000000009.jsonl` })).toMatchObject({
      first: 1,
      last: 9,
      merged: true,
    });
    for (const name of [
      'yoink-compaction.json',
      '42.jsonl',
      '000000000009-000000000001.jsonl',
      '000000000001-000000000001.jsonl',
      'x/000000000001.jsonl',
    ]) {
      expect(pieceOf(P, { Key: `${P}${name}` })).toBeUndefined();
    }
  });
});

describe('the chain a reader follows', () => {
  it('prefers the widest merged object at each first number and skips what it covers', () => {
    const { chain, others } = chainOf(
      listed(seg(0), seg(1), seg(2), seg(3), seg(4), merged(0, 2), merged(0, 1)),
    );
    expect(keys(chain)).toEqual([
      '000000000000-000000000002.jsonl',
      '000000000003.jsonl',
      '000000000004.jsonl',
    ]);
    expect(keys(others).sort()).toEqual(
      ['000000000000-000000000001.jsonl', ...[0, 1, 2].map((i) => segmentKey('', i))].sort(),
    );
  });

  it('never mixes: a merged object that overlaps the chain part-way is skipped whole', () => {
    // [0,4] and [3,6] overlap: the chain takes [0,4] then the segments 5 and 6.
    const { chain } = chainOf(listed(merged(0, 4), merged(3, 6), seg(5), seg(6), seg(7)));
    expect(keys(chain)).toEqual([
      '000000000000-000000000004.jsonl',
      '000000000005.jsonl',
      '000000000006.jsonl',
      '000000000007.jsonl',
    ]);
  });

  it('a hole is a ChainGap naming the missing number', () => {
    expect(() => chainOf(listed(seg(0), seg(1), seg(3)))).toThrow(ChainGap);
    const gap = (() => {
      try {
        chainOf(listed(merged(0, 5), seg(7)));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(gap).toBeInstanceOf(ChainGap);
    expect((gap as ChainGap).expected).toBe(6);
    expect((gap as ChainGap).found.first).toBe(7);
  });

  it('starts wherever the first piece starts', () => {
    expect(keys(chainOf(listed(seg(5), seg(6))).chain)).toEqual([
      segmentKey('', 5),
      segmentKey('', 6),
    ]);
  });
});

describe('planning merges', () => {
  it('gathers small pieces into runs of the target size and never merges the last piece', () => {
    const chain = Array.from({ length: 10 }, (_, i) => seg(i, 30));
    const runs = planMerges(chain, 100);
    // 4 × 30 = 120 ≥ 100 closes a run; the ninth is left alone (one piece), the tenth is the last.
    expect(runs.map((r) => r.map((p) => p.first))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
  });

  it('merges a short trailing run only when it holds two non-empty pieces', () => {
    expect(planMerges([seg(0, 10), seg(1, 10), seg(2, 10)], 100)).toHaveLength(1);
    // A merged object followed by empty fences: nothing worth rewriting.
    expect(planMerges([merged(0, 9, 50), seg(10, 0), seg(11, 0), seg(12, 5)], 100)).toEqual([]);
    expect(planMerges([merged(0, 9, 50), seg(10, 0), seg(11, 7), seg(12, 5)], 100)).toEqual([
      [merged(0, 9, 50), seg(10, 0), seg(11, 7)],
    ]);
  });

  it('leaves pieces of the target size or more where they are', () => {
    const runs = planMerges(
      [seg(0, 10), seg(1, 10), merged(2, 50, 200), seg(51, 10), seg(52, 10), seg(53, 1)],
      100,
    );
    expect(runs.map((r) => r.map((p) => p.first))).toEqual([
      [0, 1],
      [51, 52],
    ]);
  });
});

describe('what may be deleted', () => {
  it('a piece covered by chain pieces older than the grace period', () => {
    const m = merged(0, 2, 30, 60_000);
    const originals = [seg(0, 10, 120_000), seg(1, 10, 120_000), seg(2, 10, 120_000)];
    const chain = [m, seg(3, 10, 1000)];
    expect(keys(deletable(chain, originals, 30_000, NOW))).toEqual(keys(originals));
    expect(deletable(chain, originals, 90_000, NOW)).toEqual([]);
    expect(keys(deletable(chain, originals, 0, NOW))).toEqual(keys(originals));
  });

  it('a piece overlapping two chain pieces only when both are old enough', () => {
    const chain = [merged(0, 4, 50, 60_000), seg(5, 10, 1_000), seg(6, 10, 60_000)];
    const straddler = merged(3, 6, 40);
    expect(deletable(chain, [straddler], 30_000, NOW)).toEqual([]);
    expect(deletable(chain, [straddler], 0, NOW)).toEqual([straddler]);
  });
});

describe('planning the parts of a merged object', () => {
  const sizes = { minPartBytes: 5 * MiB, partBytes: 8 * MiB, copyPartBytes: 5 * 1024 * MiB };

  it('joins small pieces into parts of partBytes, the last one shorter', () => {
    const sources = Array.from({ length: 20 }, (_, i) => seg(i, MiB));
    const parts = planParts(sources, { ...sizes, canCopy: true });
    expect(parts.map((p) => [p.kind, p.bytes])).toEqual([
      ['upload', 8 * MiB],
      ['upload', 8 * MiB],
      ['upload', 4 * MiB],
    ]);
  });

  it('copies a large piece server-side, filling a waiting part from its head first', () => {
    const sources = [seg(0, MiB), seg(1, 20 * MiB), seg(2, MiB)];
    const parts = planParts(sources, { ...sizes, canCopy: true });
    expect(parts.map((p) => [p.kind, p.bytes])).toEqual([
      ['upload', 8 * MiB],
      ['copy', 13 * MiB],
      ['upload', MiB],
    ]);
    const head = parts[0];
    expect(
      head?.kind === 'upload' && head.ranges.map((r) => [r.piece.first, r.start, r.end]),
    ).toEqual([
      [0, 0, MiB - 1],
      [1, 0, 7 * MiB - 1],
    ]);
  });

  it('every part but the last has at least 5 MiB, with or without copies', () => {
    const sources = [1, 7, 0.5, 12, 3, 5, 0, 9, 0.25].map((mb, i) => seg(i, Math.round(mb * MiB)));
    for (const canCopy of [true, false]) {
      const parts = planParts(sources, { ...sizes, canCopy });
      expect(parts.slice(0, -1).every((p) => p.bytes >= 5 * MiB)).toBe(true);
      expect(parts.reduce((n, p) => n + p.bytes, 0)).toBe(sources.reduce((n, p) => n + p.size, 0));
      if (!canCopy) expect(parts.every((p) => p.kind === 'upload')).toBe(true);
    }
  });
});
