import { RedisStorage } from '@yoink/storage-redis';
import type { Redis } from 'ioredis';
import type { FlushCostPoint } from './local-bench.js';
import { type ReadFigure, readInChild, summariseReads } from './read-bench.js';
import type { ReadChildResult } from './read-child-result.js';
import { MB, median, timeMs } from './stats.js';
import { FLUSH_EVERY, LINE_BYTES, makeLines } from './workload.js';

/** Median write times (ms) of the same lines, three ways, through one client. */
export interface RedisWriteResult {
  lines: number;
  bytes: number;
  runs: number;
  /** RedisStorage: write() per line, flush() every 1,000. */
  ours: number;
  /** The seed: one awaited RPUSH per line. */
  seed: number;
  /** Limit: one multi-value RPUSH per 1,000 lines, no checks. */
  limit: number;
}

let keyCounter = 0;
/** A fresh key for one benchmark run. */
function nextKey(label: string): string {
  return `bench:${label}:${process.pid}:${keyCounter++}`;
}

/** A RedisStorage on `key` through the shared client (so connection set-up is not timed). */
function storageOn(client: Redis, key: string): RedisStorage {
  return new RedisStorage(`redis://?key=${encodeURIComponent(key)}`, { client });
}

/** Deletes a checkpoint's keys (the bench's keys have no hash tag: RedisStorage adds `{key}`). */
async function dropCheckpoint(client: Redis, key: string): Promise<void> {
  await client.del(key, `{${key}}:meta`, `{${key}}:writer`);
}

/**
 * Writes `lines` lines of 300 bytes (flush every 1,000) with RedisStorage, the
 * seed's RPUSH per line and the pipelined multi-value RPUSH limit, all through
 * the same ioredis client, interleaved, `runs` times (after one warm-up round).
 */
export async function redisWrite(
  client: Redis,
  lines: number,
  runs: number,
): Promise<RedisWriteResult> {
  const data = makeLines(lines, LINE_BYTES);
  const ways: Record<'ours' | 'seed' | 'limit', (key: string) => Promise<void>> = {
    ours: async (key) => {
      const s = storageOn(client, key);
      for (let i = 0; i < data.length; i++) {
        await s.write(data[i] as string);
        if ((i + 1) % FLUSH_EVERY === 0) await s.flush();
      }
      await s.close();
    },
    seed: async (key) => {
      for (const line of data) await client.rpush(key, line);
    },
    limit: async (key) => {
      for (let i = 0; i < data.length; i += FLUSH_EVERY) {
        await client.rpush(key, ...data.slice(i, i + FLUSH_EVERY));
      }
    },
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  for (let run = -1; run < runs; run++) {
    for (const [name, fn] of Object.entries(ways)) {
      if (run === -1 && name === 'seed') continue;
      const key = nextKey(name);
      const ms = await timeMs(() => fn(key));
      if (run >= 0) times[name]?.push(ms);
      await dropCheckpoint(client, key);
    }
  }
  const med = (k: string): number => median(times[k] ?? []);
  return {
    lines,
    bytes: data.reduce((n, l) => n + Buffer.byteLength(l), 0),
    runs,
    ours: med('ours'),
    seed: med('seed'),
    limit: med('limit'),
  };
}

/** Read figures of a Redis checkpoint at one size. */
export interface RedisReadPoint {
  sizeMB: number;
  /** RedisStorage.read() (stream pages). */
  ours: ReadFigure;
  /** LRANGE pages of 1,000 over the seed's list. */
  paged: ReadFigure;
  /** The seed: LRANGE 0 -1, everything in memory. */
  seed: ReadFigure;
}

/** Per-flush write costs and read figures as a Redis checkpoint grows. */
export interface RedisScaleResult {
  flush: FlushCostPoint[];
  read: RedisReadPoint[];
}

/**
 * Grows three checkpoints (RedisStorage's stream, the seed's list, the
 * limit's list) to each size in `marksMB` (padding untimed), times `batches`
 * flushes of 1,000 lines at that size, then reads each in a child process
 * (`readRuns` times).
 */
export async function redisScale(
  client: Redis,
  url: string,
  marksMB: readonly number[],
  batches: number,
  readRuns: number,
): Promise<RedisScaleResult> {
  const batch = makeLines(FLUSH_EVERY, LINE_BYTES);
  const batchBytes = batch.reduce((n, l) => n + l.length, 0);
  const padLines = makeLines(Math.ceil(MB / LINE_BYTES), LINE_BYTES);
  const pad = padLines.join('');
  const oursKey = nextKey('scale-ours');
  const seedKey = nextKey('scale-seed');
  const limitKey = nextKey('scale-limit');
  const ours = storageOn(client, oursKey);
  const sizes = { ours: 0, seed: 0, limit: 0 };
  const flush: FlushCostPoint[] = [];
  const read: RedisReadPoint[] = [];
  try {
    // One untimed flush each first, so every contender runs warmed-up code.
    for (const line of batch) await ours.write(line);
    await ours.flush();
    for (const line of batch) await client.rpush(seedKey, line);
    await client.rpush(limitKey, ...batch);
    for (const k of ['ours', 'seed', 'limit'] as const) sizes[k] += batchBytes;
    for (const mark of marksMB) {
      while (sizes.ours < mark * MB) {
        // Padding as a crawler writes it: 1,000-line flushes (the stream holds one entry per flush).
        for (let i = 0; i < padLines.length; i += FLUSH_EVERY) {
          for (const line of padLines.slice(i, i + FLUSH_EVERY)) await ours.write(line);
          await ours.flush();
        }
        sizes.ours += pad.length;
      }
      for (const [key, which] of [
        [seedKey, 'seed'],
        [limitKey, 'limit'],
      ] as const) {
        while (sizes[which] < mark * MB) {
          for (let i = 0; i < padLines.length; i += FLUSH_EVERY) {
            await client.rpush(key, ...padLines.slice(i, i + FLUSH_EVERY));
          }
          sizes[which] += pad.length;
        }
      }
      const t = { ours: [] as number[], seed: [] as number[], limit: [] as number[] };
      for (let b = 0; b < batches; b++) {
        t.ours.push(
          await timeMs(async () => {
            for (const line of batch) await ours.write(line);
            await ours.flush();
          }),
        );
        t.seed.push(
          await timeMs(async () => {
            for (const line of batch) await client.rpush(seedKey, line);
          }),
        );
        t.limit.push(await timeMs(() => client.rpush(limitKey, ...batch)));
        sizes.ours += batchBytes;
        sizes.seed += batchBytes;
        sizes.limit += batchBytes;
      }
      flush.push({
        sizeMB: mark,
        ours: median(t.ours),
        seed: median(t.seed),
        limit: median(t.limit),
      });
      const r: Record<'ours' | 'paged' | 'seed', ReadChildResult[]> = {
        ours: [],
        paged: [],
        seed: [],
      };
      for (let i = 0; i < readRuns; i++) {
        r.ours.push(await readInChild('redis-ours', url, oursKey));
        r.paged.push(await readInChild('redis-paged', url, limitKey));
        r.seed.push(await readInChild('redis-seed', url, limitKey));
      }
      read.push({
        sizeMB: sizes.ours / MB,
        ours: summariseReads(r.ours),
        paged: summariseReads(r.paged),
        seed: summariseReads(r.seed),
      });
    }
  } finally {
    await ours.close();
    await dropCheckpoint(client, oursKey);
    await client.del(seedKey, limitKey);
  }
  return { flush, read };
}
