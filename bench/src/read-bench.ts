import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ReadChildResult } from './read-child-result.js';

const CHILD = fileURLToPath(new URL('./read-child.js', import.meta.url));

/** How a read child reads: see read-child.ts. */
export type ReadMode =
  | 'local-ours'
  | 'local-raw'
  | 'local-naive'
  | 'redis-ours'
  | 'redis-paged'
  | 'redis-seed';

/**
 * Reads a checkpoint once in a fresh Node process and resolves with its
 * timing and peak RSS, so the memory figure is that read's alone.
 *
 * @param target a file path (local modes) or a `redis://` URL (redis modes).
 * @param key the Redis key (redis modes).
 * @throws {Error} when the child fails or prints no result.
 */
export function readInChild(
  mode: ReadMode,
  target: string,
  key?: string,
): Promise<ReadChildResult> {
  const args = [CHILD, mode, target, ...(key === undefined ? [] : [key])];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new Error(`read child (${mode}) failed: ${stderr || error.message}`, { cause: error }),
        );
        return;
      }
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as ReadChildResult);
      } catch (cause) {
        reject(new Error(`read child (${mode}) printed no result: ${stdout}${stderr}`, { cause }));
      }
    });
  });
}

/** The median-time run's throughput and the largest peak RSS growth over several reads. */
export interface ReadFigure {
  /** MB/s of the median run. */
  mbps: number;
  /** Median wall time, ms. */
  ms: number;
  /** Largest peak RSS growth over the runs (peak − RSS before the read), bytes. */
  growth: number;
  /** Lines the reader yielded (0 for byte streams). */
  lines: number;
}

/** Summarises runs of one reader: median time, worst memory growth. */
export function summariseReads(runs: readonly ReadChildResult[]): ReadFigure {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  const mid = sorted[Math.floor(sorted.length / 2)];
  if (!mid) throw new Error('no read runs');
  return {
    ms: mid.ms,
    mbps: mid.bytes / 1e6 / (mid.ms / 1000),
    growth: Math.max(...runs.map((r) => r.peakRss - r.baseRss)),
    lines: mid.lines,
  };
}
