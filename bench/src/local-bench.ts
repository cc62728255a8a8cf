import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalFileStorage } from '@yoink/storage-local';
import { type ReadFigure, readInChild, summariseReads } from './read-bench.js';
import type { ReadChildResult } from './read-child-result.js';
import { MB, median, timeMs } from './stats.js';
import { FLUSH_EVERY, LINE_BYTES, makeLines } from './workload.js';

/** Median write times (ms) of the same lines, four ways. */
export interface LocalWriteResult {
  lines: number;
  bytes: number;
  runs: number;
  /** LocalFileStorage: write() per line, flush() every 1,000. */
  ours: number;
  /** The seed: one awaited FileHandle.write per line. */
  seed: number;
  /** Limit: the bytes as one prebuilt Buffer, one writeFileSync. */
  limitBuffer: number;
  /** Limit for string input: lines.join(''), one writeFileSync (includes UTF-8 encoding). */
  limitJoin: number;
}

async function oursWrite(path: string, lines: readonly string[]): Promise<void> {
  const s = new LocalFileStorage(path);
  for (let i = 0; i < lines.length; i++) {
    await s.write(lines[i] as string);
    if ((i + 1) % FLUSH_EVERY === 0) await s.flush();
  }
  await s.close();
}

async function seedWrite(path: string, lines: readonly string[]): Promise<void> {
  const fh = await open(path, 'a');
  for (const line of lines) await fh.write(line);
  await fh.close();
}

/**
 * Writes `lines` lines of 300 bytes (flush every 1,000) with LocalFileStorage,
 * the seed's approach and the two one-write limits, interleaved, `runs` times
 * (after one warm-up round).
 */
export async function localWrite(
  dir: string,
  lines: number,
  runs: number,
): Promise<LocalWriteResult> {
  const data = makeLines(lines, LINE_BYTES);
  const all = Buffer.from(data.join(''));
  const ways: Record<'ours' | 'seed' | 'limitBuffer' | 'limitJoin', (p: string) => Promise<void>> =
    {
      ours: (p) => oursWrite(p, data),
      seed: (p) => seedWrite(p, data),
      limitBuffer: async (p) => {
        const fd = openSync(p, 'w');
        writeSync(fd, all);
        closeSync(fd);
      },
      limitJoin: async (p) => {
        const fd = openSync(p, 'w');
        writeSync(fd, data.join(''));
        closeSync(fd);
      },
    };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  let n = 0;
  // Round -1 is an untimed warm-up (the slow seed skips it), so every contender runs JIT-compiled code.
  for (let run = -1; run < runs; run++) {
    for (const [name, fn] of Object.entries(ways)) {
      if (run === -1 && name === 'seed') continue;
      const path = join(dir, `write-${n++}.jsonl`);
      const ms = await timeMs(() => fn(path));
      if (run >= 0) times[name]?.push(ms);
      // Outside the timing: write the dirty pages back now, so they do not slow the next contender down.
      const fd = openSync(path, 'r');
      fsyncSync(fd);
      closeSync(fd);
      await rm(path, { force: true });
      await rm(`${path}.lock`, { force: true });
    }
  }
  const med = (k: string): number => median(times[k] ?? []);
  return {
    lines,
    bytes: all.length,
    runs,
    ours: med('ours'),
    seed: med('seed'),
    limitBuffer: med('limitBuffer'),
    limitJoin: med('limitJoin'),
  };
}

/** Median ms per flush of 1,000 lines at one checkpoint size. */
export interface FlushCostPoint {
  /** Checkpoint size before the flushes, MB. */
  sizeMB: number;
  ours: number;
  seed: number;
  limit: number;
}

/**
 * Write cost per flush as the checkpoint grows: three files (ours, seed,
 * limit) are grown to each size in `marksMB` (padding untimed), then
 * `batches` flushes of 1,000 lines are timed at that size.
 */
export async function localFlushScale(
  dir: string,
  marksMB: readonly number[],
  batches: number,
): Promise<FlushCostPoint[]> {
  const batch = makeLines(FLUSH_EVERY, LINE_BYTES);
  const batchBuffer = Buffer.from(batch.join(''));
  const pad = Buffer.from(makeLines(Math.ceil(MB / LINE_BYTES), LINE_BYTES).join(''));
  const oursPath = join(dir, 'scale-ours.jsonl');
  const seedPath = join(dir, 'scale-seed.jsonl');
  const limitPath = join(dir, 'scale-limit.jsonl');
  const ours = new LocalFileStorage(oursPath);
  const seed: FileHandle = await open(seedPath, 'a');
  const limitFd = openSync(limitPath, 'a');
  const sizes = { ours: 0, seed: 0, limit: 0 };
  const points: FlushCostPoint[] = [];
  try {
    // One untimed flush each first, so every contender runs warmed-up code.
    for (const line of batch) await ours.write(line);
    await ours.flush();
    for (const line of batch) await seed.write(line);
    writeSync(limitFd, batch.join(''));
    for (const k of ['ours', 'seed', 'limit'] as const) sizes[k] += batchBuffer.length;
    for (const mark of marksMB) {
      while (sizes.ours < mark * MB) {
        await ours.write(pad.toString());
        await ours.flush();
        sizes.ours += pad.length;
      }
      while (sizes.seed < mark * MB) sizes.seed += (await seed.write(pad)).bytesWritten;
      while (sizes.limit < mark * MB) sizes.limit += writeSync(limitFd, pad);
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
            for (const line of batch) await seed.write(line);
          }),
        );
        t.limit.push(await timeMs(() => writeSync(limitFd, batch.join(''))));
        sizes.ours += batchBuffer.length;
        sizes.seed += batchBuffer.length;
        sizes.limit += batchBuffer.length;
      }
      points.push({
        sizeMB: mark,
        ours: median(t.ours),
        seed: median(t.seed),
        limit: median(t.limit),
      });
    }
  } finally {
    await ours.close();
    await seed.close();
    closeSync(limitFd);
    for (const p of [oursPath, seedPath, limitPath]) await rm(p, { force: true });
  }
  return points;
}

/** Read figures at one checkpoint size. */
export interface LocalReadPoint {
  sizeMB: number;
  lines: number;
  ours: ReadFigure;
  raw: ReadFigure;
  naive: ReadFigure;
}

/**
 * Read throughput and peak RSS growth as the checkpoint grows: one file grown
 * to each size in `sizesMB`, read `runs` times each way, each read in its own
 * child process (LocalFileStorage.read(), a raw createReadStream pass, and a
 * naive readFile + split).
 */
export async function localReadScale(
  dir: string,
  sizesMB: readonly number[],
  runs: number,
): Promise<LocalReadPoint[]> {
  const path = join(dir, 'read.jsonl');
  const block = Buffer.from(makeLines(10_000, LINE_BYTES).join(''));
  const fd = openSync(path, 'w');
  let size = 0;
  const points: LocalReadPoint[] = [];
  try {
    for (const mark of sizesMB) {
      while (size < mark * MB) size += writeSync(fd, block);
      const r: Record<'ours' | 'raw' | 'naive', ReadChildResult[]> = {
        ours: [],
        raw: [],
        naive: [],
      };
      for (let i = 0; i < runs; i++) {
        r.raw.push(await readInChild('local-raw', path));
        r.ours.push(await readInChild('local-ours', path));
        r.naive.push(await readInChild('local-naive', path));
      }
      const ours = summariseReads(r.ours);
      points.push({
        sizeMB: size / MB,
        lines: ours.lines,
        ours,
        raw: summariseReads(r.raw),
        naive: summariseReads(r.naive),
      });
    }
  } finally {
    closeSync(fd);
    await rm(path, { force: true });
  }
  return points;
}
