import { describe, expect, it } from 'vitest';
import { judgeS3Compaction, type S3CompactionResult } from './s3-compaction-bench.js';

const read = { ms: 100, gets: 10, lists: 1 };

function result(smallAfter: number, writerObjects: number, recentFlushes = 10): S3CompactionResult {
  return {
    server: 'moto',
    small: {
      segments: 2000,
      bytes: 6_000_000,
      lines: 20_000,
      targetBytes: 1024 * 1024,
      objectsBefore: 2000,
      objectsAfter: smallAfter,
      chainAfter: smallAfter,
      bound: 7,
      compaction: {
        ms: 1000,
        requests: 4000,
        merged: 6,
        deleted: 2000,
        copiedBytes: 0,
        uploadedBytes: 6_000_000,
        downloadedBytes: 6_000_000,
      },
      readBefore: read,
      readAfter: read,
    },
    writer: {
      flushes: 1000,
      bytes: 300_000,
      compactAfterSegments: 100,
      targetBytes: 1024 * 1024,
      compactions: 10,
      recentFlushes,
      objects: writerObjects,
      bound: 4,
    },
  };
}

describe('judgeS3Compaction', () => {
  it('is MET when the objects left are within the bound, for the operator and the writer', () => {
    expect(judgeS3Compaction(result(7, 4)).map((v) => v.status)).toEqual(['MET', 'MET']);
  });

  it('is NOT MET past the bound, each target on its own figures', () => {
    expect(judgeS3Compaction(result(8, 4)).map((v) => v.status)).toEqual(['NOT MET', 'MET']);
    expect(judgeS3Compaction(result(7, 5)).map((v) => v.status)).toEqual(['MET', 'NOT MET']);
  });

  it('explains a writer that flushed faster than its compactions ran', () => {
    const [, writer] = judgeS3Compaction(result(7, 4, 150));
    expect(writer?.note).toMatch(/150 flushes landed after the last compaction started/);
    expect(judgeS3Compaction(result(7, 4, 10))[1]?.note).toBe('');
  });
});
