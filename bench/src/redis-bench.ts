import { RedisStorage } from '@yoink/storage-redis';
import type { Redis } from 'ioredis';
import { type FlushCostPoint, flushCostCurve, growingCheckpoint } from './flush-scale.js';
import { type ReadFigure, readInChild, summariseReads } from './read-bench.js';
import type { ReadChildResult } from './read-child-result.js';
import { interleaved, MB } from './stats.js';
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

/** Writes `lines` with a flush every {@link FLUSH_EVERY}, as a crawler does. */
async function writeFlushing(s: RedisStorage, lines: readonly string[]): Promise<void> {
  for (let i = 0; i < lines.length; i++) {
    await s.write(lines[i] as string);
    if ((i + 1) % FLUSH_EVERY === 0) await s.flush();
  }
  await s.flush();
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
  const onKey =
    (label: string, fn: (key: string) => Promise<void>) =>
    async (): Promise<() => Promise<void>> => {
      const key = nextKey(label);
      await fn(key);
      return () => dropCheckpoint(client, key);
    };
  const ms = await interleaved(
    { rounds: runs, warmUp: true, skipWarmUp: ['seed'] },
    {
      ours: onKey('ours', async (key) => {
        const s = storageOn(client, key);
        await writeFlushing(s, data);
        await s.close();
      }),
      seed: onKey('seed', async (key) => {
        for (const line of data) await client.rpush(key, line);
      }),
      limit: onKey('limit', async (key) => {
        for (let i = 0; i < data.length; i += FLUSH_EVERY) {
          await client.rpush(key, ...data.slice(i, i + FLUSH_EVERY));
        }
      }),
    },
  );
  return {
    lines,
    bytes: data.reduce((n, l) => n + Buffer.byteLength(l), 0),
    runs,
    ...ms,
  };
}

/** Calls per command in the server's INFO commandstats. */
async function commandCalls(client: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const m of (await client.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls.set((m[1] ?? '').toUpperCase(), Number(m[2]));
  }
  return calls;
}

/**
 * The commands one RedisStorage flush of {@link FLUSH_EVERY} lines sends,
 * counted from the server's INFO commandstats around the third flush of a
 * checkpoint (the first ones also open it and load the script).
 */
export async function redisFlushCommands(client: Redis): Promise<Record<string, number>> {
  const key = nextKey('commands');
  const s = storageOn(client, key);
  const batch = makeLines(FLUSH_EVERY, LINE_BYTES);
  try {
    for (let i = 0; i < 2; i++) await writeFlushing(s, batch);
    for (const line of batch) await s.write(line);
    const before = await commandCalls(client);
    await s.flush();
    const after = await commandCalls(client);
    const out: Record<string, number> = {};
    for (const [name, n] of after) {
      const d = n - (before.get(name) ?? 0) - (name === 'INFO' ? 1 : 0);
      if (d > 0) out[name] = d;
    }
    return out;
  } finally {
    await s.close();
    await dropCheckpoint(client, key);
  }
}

/**
 * Write cost per flush as a Redis checkpoint grows: RedisStorage's stream,
 * the seed's list (one RPUSH per line) and the limit's list (one multi-value
 * RPUSH per flush) are padded to each size in `marksMB` in 1,000-line
 * flushes (untimed), then `batches` flushes are timed at that size.
 */
export async function redisFlushScale(
  client: Redis,
  marksMB: readonly number[],
  batches: number,
): Promise<FlushCostPoint[]> {
  const batch = makeLines(FLUSH_EVERY, LINE_BYTES);
  const batchBytes = batch.reduce((n, l) => n + l.length, 0);
  const keys = {
    ours: nextKey('scale-ours'),
    seed: nextKey('scale-seed'),
    limit: nextKey('scale-limit'),
  };
  const ours = storageOn(client, keys.ours);
  const growing = (flush: () => Promise<void>, pad: () => Promise<void>) =>
    growingCheckpoint(
      batchBytes,
      async () => {
        await pad();
        return batchBytes;
      },
      flush,
    );
  const oursFlush = () => writeFlushing(ours, batch);
  const multi = (key: string) => async () => {
    await client.rpush(key, ...batch);
  };
  try {
    return await flushCostCurve(
      {
        ours: growing(oursFlush, oursFlush),
        seed: growing(async () => {
          for (const line of batch) await client.rpush(keys.seed, line);
        }, multi(keys.seed)),
        limit: growing(multi(keys.limit), multi(keys.limit)),
      },
      marksMB,
      batches,
    );
  } finally {
    await ours.close();
    await dropCheckpoint(client, keys.ours);
    await client.del(keys.seed, keys.limit);
  }
}

/** Read figures of a Redis checkpoint at one size. */
export interface RedisReadPoint {
  sizeMB: number;
  /** RedisStorage.read() (stream pages), on a client of its own. */
  ours: ReadFigure;
  /** LRANGE pages of 1,000 over a list of the same lines. */
  paged: ReadFigure;
  /** The seed: LRANGE 0 -1, everything in memory; only up to `seedMaxMB`. */
  seed?: ReadFigure;
}

/**
 * Read throughput and peak RSS growth as a Redis checkpoint grows: a
 * RedisStorage stream and a list of the same lines, grown side by side to
 * each size in `sizesMB` (1,000-line flushes), each read `runs` times in a
 * fresh process: RedisStorage.read(), LRANGE pages of 1,000 and, up to
 * `seedMaxMB`, the seed's LRANGE 0 -1.
 *
 * @throws {Error} when a reader yields another number of lines than was written.
 */
export async function redisReadScale(
  client: Redis,
  url: string,
  sizesMB: readonly number[],
  runs: number,
  seedMaxMB: number,
): Promise<RedisReadPoint[]> {
  const oursKey = nextKey('read-ours');
  const listKey = nextKey('read-list');
  const ours = storageOn(client, oursKey);
  const points: RedisReadPoint[] = [];
  let written = 0;
  let bytes = 0;
  try {
    for (const mark of sizesMB) {
      while (bytes < mark * MB) {
        const batch = makeLines(FLUSH_EVERY, LINE_BYTES, written);
        await ours.write(batch.join(''));
        await ours.flush();
        await client.rpush(listKey, ...batch);
        written += batch.length;
        bytes += batch.length * LINE_BYTES;
      }
      const withSeed = bytes / MB <= seedMaxMB;
      const r: Record<'ours' | 'paged' | 'seed', ReadChildResult[]> = {
        ours: [],
        paged: [],
        seed: [],
      };
      for (let i = 0; i < runs; i++) {
        r.ours.push(await readInChild('redis-ours', url, oursKey));
        r.paged.push(await readInChild('redis-paged', url, listKey));
        if (withSeed) r.seed.push(await readInChild('redis-seed', url, listKey));
      }
      for (const x of [...r.ours, ...r.paged, ...r.seed]) {
        if (x.lines !== written)
          throw new Error(`a Redis reader yielded ${x.lines} lines of ${written}`);
      }
      points.push({
        sizeMB: bytes / MB,
        ours: summariseReads(r.ours),
        paged: summariseReads(r.paged),
        ...(withSeed ? { seed: summariseReads(r.seed) } : {}),
      });
    }
  } finally {
    await ours.close();
    await dropCheckpoint(client, oursKey);
    await client.del(listKey);
  }
  return points;
}
