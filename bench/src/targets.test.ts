import { describe, expect, it } from 'vitest';
import { FULL_PLAN, QUICK_PLAN } from './plan.js';
import type { BenchResults } from './results.js';
import type { S3Flush, S3Run } from './s3-bench.js';
import { MiB } from './stats.js';
import { judgeTargets, type TargetVerdict } from './targets.js';

const figure = (growth: number) => ({ mbps: 100, ms: 1000, growth, lines: 1 });

function s3(
  name: string,
  server: 'moto' | 's3rver',
  perFlush: (size: number, i: number) => Partial<S3Flush>,
): S3Run {
  const flushes: S3Flush[] = [];
  for (let i = 0, size = 0; size < 8 * MiB; i++, size += 512 * 1024) {
    flushes.push({
      size,
      data: 512 * 1024,
      up: 512 * 1024,
      down: 0,
      requests: 1,
      ...perFlush(size, i),
    });
  }
  return { name, server, flushes, seconds: 1 };
}

function results(overrides: Partial<BenchResults> = {}): BenchResults {
  return {
    plan: FULL_PLAN,
    machine: {
      cpuModel: 'cpu',
      cores: 2,
      memoryGiB: 8,
      node: 'v20',
      os: 'linux',
      loadAverage: [0, 0, 0],
      redisServer: '7',
      date: '2026-01-01T00:00:00.000Z',
    },
    command: 'pnpm bench',
    seconds: 1,
    localWrite: { lines: 1, bytes: 1, runs: 5, ours: 10, seed: 300, limitBuffer: 2, limitJoin: 8 },
    localFlush: [],
    localRead: [
      { sizeMB: 400, lines: 1, ours: figure(20e6), raw: figure(5e6), naive: figure(900e6) },
    ],
    redisWrite: { lines: 1, bytes: 1, runs: 5, ours: 10, seed: 250, limit: 9 },
    redisScale: {
      flush: [],
      read: [{ sizeMB: 300, ours: figure(30e6), paged: figure(20e6), seed: figure(900e6) }],
    },
    s3: [
      s3('seed (moto)', 'moto', (size) => ({ up: size + 512 * 1024, down: size, requests: 2 })),
      s3('object layout (UploadPartCopy) (moto)', 'moto', (size) =>
        size >= 5 * MiB ? { up: 512 * 1024 + 300, requests: 4 } : { up: size + 512 * 1024 },
      ),
      s3('segments layout (moto)', 'moto', (_, i) => (i === 0 ? { requests: 2 } : {})),
    ],
    ...overrides,
  };
}

const status = (verdicts: TargetVerdict[], prefix: string): string | undefined =>
  verdicts.find((v) => v.target.startsWith(prefix))?.status;

describe('judgeTargets', () => {
  it('marks every target MET when the figures reach them', () => {
    const v = judgeTargets(results());
    expect(v.map((x) => x.status)).toEqual(Array(v.length).fill('MET'));
    expect(v.length).toBe(9);
  });

  it('judges local against the joined-string limit, not the prebuilt Buffer', () => {
    const v = judgeTargets(results());
    expect(status(v, 'Local: within 1.5×')).toBe('MET'); // 10 / 8 = 1.25, while 10 / 2 = 5
  });

  it('says NOT MET with the ceiling when the seed is not slow enough to be beaten 20×', () => {
    const v = judgeTargets(
      results({ redisWrite: { lines: 1, bytes: 1, runs: 5, ours: 10, seed: 120, limit: 8 } }),
    );
    expect(status(v, 'Redis: ≥ 20×')).toBe('NOT MET');
    expect(v.find((x) => x.target.startsWith('Redis: ≥ 20×'))?.note).toContain('15.0×');
  });

  it('fails the object layout when a flush past 5 MiB uploads the whole object or anything is downloaded', () => {
    const r = results();
    r.s3[1] = s3('object layout (UploadPartCopy) (moto)', 'moto', (size) => ({
      up: size + 512 * 1024,
      down: size >= 6 * MiB ? 10 : 0,
    }));
    const v = judgeTargets(r);
    expect(status(v, 'S3 object layout: downloads')).toBe('NOT MET');
    expect(status(v, 'S3 object layout: past 5 MiB')).toBe('NOT MET');
  });

  it('fails the segments layout when its cost per flush grows', () => {
    const r = results();
    r.s3[2] = s3('segments layout (moto)', 'moto', (size) => ({ up: 512 * 1024 + size / 10 }));
    expect(status(judgeTargets(r), 'S3 segments')).toBe('NOT MET');
  });

  it('does not claim the read-memory target from a quick run of a small checkpoint', () => {
    const v = judgeTargets(
      results({
        plan: QUICK_PLAN,
        localRead: [
          { sizeMB: 20, lines: 1, ours: figure(1e6), raw: figure(1e6), naive: figure(40e6) },
        ],
      }),
    );
    expect(status(v, 'Read memory')).toBe('NOT MEASURED');
  });

  it('fails the read-memory target when growth reaches 64 MB', () => {
    const v = judgeTargets(
      results({
        localRead: [
          { sizeMB: 400, lines: 1, ours: figure(70e6), raw: figure(1e6), naive: figure(900e6) },
        ],
      }),
    );
    expect(status(v, 'Read memory')).toBe('NOT MET');
  });
});
