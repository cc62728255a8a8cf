import { describe, expect, it } from 'vitest';
import type { S3ReadResult } from './s3-read-bench.js';
import { judgeS3Read } from './s3-read-targets.js';

function result(overrides: {
  segments?: Partial<S3ReadResult['segments']>;
  object?: Partial<S3ReadResult['object']>;
  open?: S3ReadResult['open'];
}): S3ReadResult {
  return {
    latencyMs: 20,
    runs: 3,
    segments: {
      count: 2_000,
      concurrency: 16,
      bytes: 6e6,
      lines: 20_000,
      sequential: { ms: 60_000, requests: 2_000 },
      parallel: { ms: 5_000, requests: 2_000 },
      limit: { ms: 4_000, requests: 2_000 },
      ...overrides.segments,
    },
    object: {
      rangeBytes: 8 * 2 ** 20,
      concurrency: 16,
      bytes: 256 * 2 ** 20,
      lines: 894_784,
      sequential: { ms: 3_000, requests: 1 },
      parallel: { ms: 900, requests: 32 },
      limit: { ms: 800, requests: 32 },
      rawSingle: { ms: 2_500, requests: 1 },
      ...overrides.object,
    },
    open: overrides.open ?? [{ segments: 100_000, requests: 27, fullListing: 101 }],
    openOnMoto: { segments: 2_000, requests: 17, fullListing: 3 },
  };
}

const statuses = (r: S3ReadResult) => judgeS3Read(r).map((v) => v.status);

describe('judgeS3Read', () => {
  it('MET when each figure reaches its target', () => {
    expect(statuses(result({}))).toEqual(['MET', 'MET', 'MET']);
  });

  it('NOT MET below a target, with a note that names the ceiling measured in the same run', () => {
    const verdicts = judgeS3Read(
      result({
        segments: {
          parallel: { ms: 12_000, requests: 2_000 },
          limit: { ms: 11_000, requests: 2_000 },
        },
        object: { parallel: { ms: 2_000, requests: 32 } },
        open: [{ segments: 100_000, requests: 41, fullListing: 101 }],
      }),
    );
    expect(verdicts.map((v) => v.status)).toEqual(['NOT MET', 'NOT MET', 'NOT MET']);
    expect(verdicts[0]?.note).toContain('5.5×');
    expect(verdicts[1]?.note).toContain('no limit per connection');
  });

  it('NOT MEASURED when a quick run reads less than the targets name', () => {
    expect(
      statuses(
        result({
          segments: { count: 200 },
          object: { bytes: 32 * 2 ** 20 },
          open: [{ segments: 1_000, requests: 17, fullListing: 2 }],
        }),
      ),
    ).toEqual(['NOT MEASURED', 'NOT MEASURED', 'NOT MEASURED']);
  });
});
