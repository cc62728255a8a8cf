import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalFileStorage } from '@yoink/storage-local';
import { type FlushCostPoint, flushCostCurve, growingCheckpoint } from './flush-scale.js';
import { type ReadFigure, readInChild, summariseReads } from './read-bench.js';
import type { ReadChildResult } from './read-child-result.js';
import { interleaved, MB } from './stats.js';
import { FLUSH_EVERY, LINE_BYTES, makeLines } from './workload.js';

/** Median write times (ms) of the same lines, six ways. */
export interface LocalWriteResult {
  lines: number;
  bytes: number;
  runs: number;
  /** LocalFileStorage: write() per line, flush() every 1,000. */
  ours: number;
  /** The seed: one awaited FileHandle.write per line. */
  seed: number;
  /** Limit: the bytes as one prebuilt Buffer, one writeSync. */
  limitBuffer: number;
  /** Limit for string input: lines.join(''), one writeSync (includes UTF-8 encoding). */
  limitJoin: number;
  /** LocalFileStorage with `durability: 'fsync'`. */
  oursFsync: number;
  /** Limit with durability: one writeSync of the joined string, then one fsync. */
  limitFsync: number;
}

async function oursWrite(path: string, lines: readonly string[], fsync = false): Promise<void> {
  const s = new LocalFileStorage(path, fsync ? { durability: 'fsync' } : {});
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

function writeOnce(path: string, data: string | Buffer, fsync = false): void {
  const fd = openSync(path, 'w');
  if (typeof data === 'string') writeSync(fd, data);
  else writeSync(fd, data);
  if (fsync) fsyncSync(fd);
  closeSync(fd);
}

/**
 * Writes `lines` lines (flush every {@link FLUSH_EVERY}) with LocalFileStorage,
 * the seed's approach and the one-write limits, with and without fsync,
 * interleaved, `runs` times (after one warm-up round).
 */
export async function localWrite(
  dir: string,
  lines: number,
  runs: number,
): Promise<LocalWriteResult> {
  const data = makeLines(lines, LINE_BYTES);
  const all = Buffer.from(data.join(''));
  let n = 0;
  /** Times `fn` on a fresh file; after the timing, writes its pages back and removes it. */
  const onFile =
    (fn: (path: string) => Promise<void> | void) => async (): Promise<() => Promise<void>> => {
      const path = join(dir, `write-${n++}.jsonl`);
      await fn(path);
      return async () => {
        // Outside the timing: write the dirty pages back now, so they do not slow the next contender down.
        const fd = openSync(path, 'r');
        fsyncSync(fd);
        closeSync(fd);
        await rm(path, { force: true });
        await rm(`${path}.lock`, { recursive: true, force: true });
      };
    };
  const ms = await interleaved(
    { rounds: runs, warmUp: true, skipWarmUp: ['seed'] },
    {
      ours: onFile((p) => oursWrite(p, data)),
      seed: onFile((p) => seedWrite(p, data)),
      limitBuffer: onFile((p) => writeOnce(p, all)),
      limitJoin: onFile((p) => writeOnce(p, data.join(''))),
      oursFsync: onFile((p) => oursWrite(p, data, true)),
      limitFsync: onFile((p) => writeOnce(p, data.join(''), true)),
    },
  );
  return { lines, bytes: all.length, runs, ...ms };
}

/**
 * Write cost per flush as the checkpoint grows: three files (ours, seed,
 * limit) are grown to each size in `marksMB` (padding untimed), then
 * `batches` flushes of {@link FLUSH_EVERY} lines are timed at that size.
 */
export async function localFlushScale(
  dir: string,
  marksMB: readonly number[],
  batches: number,
): Promise<FlushCostPoint[]> {
  const batch = makeLines(FLUSH_EVERY, LINE_BYTES);
  const batchText = batch.join('');
  const pad = Buffer.from(makeLines(Math.ceil(MB / LINE_BYTES), LINE_BYTES).join(''));
  const paths = ['ours', 'seed', 'limit'].map((k) => join(dir, `scale-${k}.jsonl`));
  const [oursPath = '', seedPath = '', limitPath = ''] = paths;
  const ours = new LocalFileStorage(oursPath);
  const seed = await open(seedPath, 'a');
  const limitFd = openSync(limitPath, 'a');
  const sized = (pad: () => Promise<number>, flush: () => Promise<void>) =>
    growingCheckpoint(Buffer.byteLength(batchText), pad, flush);
  try {
    return await flushCostCurve(
      {
        ours: sized(
          async () => {
            await ours.write(pad.toString());
            await ours.flush();
            return pad.length;
          },
          async () => {
            for (const line of batch) await ours.write(line);
            await ours.flush();
          },
        ),
        seed: sized(
          async () => (await seed.write(pad)).bytesWritten,
          async () => {
            for (const line of batch) await seed.write(line);
          },
        ),
        limit: sized(
          async () => writeSync(limitFd, pad),
          async () => {
            writeSync(limitFd, batch.join(''));
          },
        ),
      },
      marksMB,
      batches,
    );
  } finally {
    await ours.close();
    await seed.close();
    closeSync(limitFd);
    for (const p of paths) await rm(p, { force: true });
  }
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
