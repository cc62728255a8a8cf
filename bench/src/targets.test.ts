import { describe, expect, it } from 'vitest';
import type { WireFlush } from './growth.js';
import type { LocalReadPoint, LocalWriteResult } from './local-bench.js';
import type { RedisReadPoint, RedisWriteResult } from './redis-bench.js';
import type { S3Run } from './s3-bench.js';
import { MiB } from './stats.js';
import { judgeLocal, judgeRedis, judgeS3Growth, type TargetVerdict } from './targets.js';

const figure = (growth: number, lines = 1, ms = 1000) => ({ mbps: 100, ms, growth, lines });

function s3(
  name: string,
  design: S3Run['design'],
  server: 'moto' | 's3rver',
  perFlush: (size: number, i: number) => Partial<WireFlush>,
  conditionalWrites?: 'on' | 'off',
): S3Run {
  const flushes: WireFlush[] = [];
  for (let i = 0, size = 0; size < 8 * MiB; i++, size += 512 * 1024) {
    flushes.push({
      size,
      data: 512 * 1024,
      up: 512 * 1024,
      down: 0,
      requests: 1,
      commands: { PutObject: 1 },
      ...perFlush(size, i),
    });
  }
  return {
    name,
    design,
    server,
    flushes,
    seconds: 1,
    ...(conditionalWrites ? { conditionalWrites } : {}),
  };
}

const localWrite: LocalWriteResult = {
  lines: 1,
  bytes: 1,
  runs: 5,
  ours: 10,
  seed: 300,
  limitBuffer: 2,
  limitJoin: 8,
  oursFsync: 20,
  limitFsync: 18,
};
const localRead: LocalReadPoint[] = [
  { sizeMB: 400, lines: 1, ours: figure(20e6), raw: figure(5e6), naive: figure(900e6) },
];
const redisWrite: RedisWriteResult = { lines: 1, bytes: 1, runs: 5, ours: 10, seed: 250, limit: 9 };
/** 1 GB of 300-byte lines read in 2 s: 1.67 M lines/s. */
const redisRead = (growth: number, ms = 2000): RedisReadPoint[] => [
  { sizeMB: 300, ours: figure(30e6, 1e6, 500), paged: figure(20e6), seed: figure(900e6) },
  { sizeMB: 1000, ours: figure(growth, 3.33e6, ms), paged: figure(20e6) },
];
const s3Runs = (): S3Run[] => [
  s3('seed (moto)', 'seed', 'moto', (size) => ({ up: size + 512 * 1024, down: size, requests: 2 })),
  s3(
    'object layout (moto, off)',
    'object',
    'moto',
    (size) => (size >= 5 * MiB ? { up: 512 * 1024 + 300, requests: 4 } : { up: size + 512 * 1024 }),
    'off',
  ),
  s3(
    'segments layout (moto)',
    'segments',
    'moto',
    (_, i) => (i === 0 ? { requests: 2 } : {}),
    'on',
  ),
];

const status = (verdicts: TargetVerdict[], prefix: string): string | undefined =>
  verdicts.find((v) => v.target.startsWith(prefix))?.status;
const allMet = (v: TargetVerdict[]) =>
  expect(v.map((x) => x.status)).toEqual(Array(v.length).fill('MET'));

describe('judgeLocal', () => {
  it('marks every local target MET when the figures reach them', () => {
    const v = judgeLocal(localWrite, localRead);
    allMet(v);
    expect(v.length).toBe(3);
  });

  it('judges local against the joined-string limit, not the prebuilt Buffer', () => {
    expect(status(judgeLocal(localWrite, localRead), 'Local: within 1.5×')).toBe('MET'); // 10 / 8 = 1.25, while 10 / 2 = 5
  });

  it('does not claim the read-memory target from a quick run of a small checkpoint', () => {
    const small = [
      { sizeMB: 20, lines: 1, ours: figure(1e6), raw: figure(1e6), naive: figure(40e6) },
    ];
    expect(status(judgeLocal(localWrite, small), 'Read memory')).toBe('NOT MEASURED');
  });

  it('fails the read-memory target when growth reaches 64 MB', () => {
    const big = [
      { sizeMB: 400, lines: 1, ours: figure(70e6), raw: figure(1e6), naive: figure(900e6) },
    ];
    expect(status(judgeLocal(localWrite, big), 'Read memory')).toBe('NOT MET');
  });
});

describe('judgeRedis', () => {
  it('marks every Redis target MET when the figures reach them', () => {
    const v = judgeRedis(redisWrite, redisRead(40e6), {});
    allMet(v);
    expect(v.length).toBe(3);
  });

  it('says NOT MET with the ceiling when the seed is not slow enough to be beaten 20×', () => {
    const v = judgeRedis({ ...redisWrite, seed: 120, limit: 8 }, redisRead(40e6), {});
    expect(status(v, 'Redis: ≥ 20×')).toBe('NOT MET');
    expect(v.find((x) => x.target.startsWith('Redis: ≥ 20×'))?.note).toContain('15.0×');
  });

  it('names the commands of a flush when the write is over the limit', () => {
    const v = judgeRedis({ ...redisWrite, ours: 15 }, redisRead(40e6), { XADD: 1, EVALSHA: 1 });
    expect(status(v, 'Redis: within 1.2×')).toBe('NOT MET');
    expect(v.find((x) => x.target.startsWith('Redis: within'))?.note).toContain(
      'EVALSHA ×1, XADD ×1',
    );
  });

  it('fails the read target when 1 GB grows past 64 MB or reads under 1 M lines/s', () => {
    expect(status(judgeRedis(redisWrite, redisRead(70e6), {}), 'Redis read')).toBe('NOT MET');
    expect(status(judgeRedis(redisWrite, redisRead(40e6, 4000), {}), 'Redis read')).toBe('NOT MET');
  });

  it('does not judge the read target from a run under 300 MB', () => {
    const small = redisRead(10e6).map((p) => ({ ...p, sizeMB: p.sizeMB / 100 }));
    expect(status(judgeRedis(redisWrite, small, {}), 'Redis read')).toBe('NOT MEASURED');
  });
});

describe('judgeS3Growth', () => {
  it('marks the S3 targets MET when the object layout sends only new bytes and segments stay flat', () => {
    const v = judgeS3Growth(s3Runs());
    allMet(v);
    expect(v.length).toBe(3);
  });

  it('fails the object layout when a flush past 5 MiB uploads the whole object or anything is downloaded', () => {
    const r = s3Runs();
    r[1] = s3(
      'object layout (moto, off)',
      'object',
      'moto',
      (size) => ({
        up: size + 512 * 1024,
        down: size >= 6 * MiB ? 10 : 0,
      }),
      'off',
    );
    const v = judgeS3Growth(r);
    expect(status(v, 'S3 object layout: downloads')).toBe('NOT MET');
    expect(status(v, 'S3 object layout: past 5 MiB')).toBe('NOT MET');
  });

  it('fails the segments layout when its cost per flush grows', () => {
    const r = s3Runs();
    r[2] = s3('segments layout (moto)', 'segments', 'moto', (size) => ({
      up: 512 * 1024 + size / 10,
    }));
    expect(status(judgeS3Growth(r), 'S3 segments')).toBe('NOT MET');
  });
});
