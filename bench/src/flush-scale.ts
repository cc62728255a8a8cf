import { markdownTable, num, ratio } from './markdown.js';
import { interleaved, MB } from './stats.js';

/** Median ms per flush of one batch at one checkpoint size. */
export interface FlushCostPoint {
  /** Checkpoint size before the flushes, MB. */
  sizeMB: number;
  ours: number;
  seed: number;
  limit: number;
}

/** One contender of {@link flushCostCurve}: its own checkpoint. */
export interface GrowingCheckpoint {
  /** Bytes in the checkpoint now. */
  size(): number;
  /** Pads the checkpoint (untimed) up to at least `bytes`. */
  growTo(bytes: number): Promise<void>;
  /** Writes and flushes one batch (timed). */
  flushBatch(): Promise<void>;
}

/**
 * A {@link GrowingCheckpoint} that keeps its own size: `pad` appends untimed
 * padding and resolves with the bytes it added; `flush` writes one batch of
 * `batchBytes`.
 */
export function growingCheckpoint(
  batchBytes: number,
  pad: () => Promise<number>,
  flush: () => Promise<void>,
): GrowingCheckpoint {
  let size = 0;
  return {
    size: () => size,
    growTo: async (bytes) => {
      while (size < bytes) size += await pad();
    },
    flushBatch: async () => {
      await flush();
      size += batchBytes;
    },
  };
}

/**
 * Write cost per flush as the checkpoint grows: each contender's checkpoint
 * is padded to each size in `marksMB` (untimed), then `batches` flushes of
 * one batch are timed at that size, interleaved. `atMark` runs after the
 * flushes at each size (the Redis section reads there).
 */
export async function flushCostCurve(
  checkpoints: Record<'ours' | 'seed' | 'limit', GrowingCheckpoint>,
  marksMB: readonly number[],
  batches: number,
  atMark?: (sizeMB: number) => Promise<void>,
): Promise<FlushCostPoint[]> {
  const points: FlushCostPoint[] = [];
  // One untimed flush each first, so every contender runs warmed-up code.
  for (const c of Object.values(checkpoints)) await c.flushBatch();
  for (const mark of marksMB) {
    for (const c of Object.values(checkpoints)) await c.growTo(mark * MB);
    const ms = await interleaved(
      { rounds: batches },
      {
        ours: () => checkpoints.ours.flushBatch(),
        seed: () => checkpoints.seed.flushBatch(),
        limit: () => checkpoints.limit.flushBatch(),
      },
    );
    points.push({ sizeMB: mark, ...ms });
    await atMark?.(checkpoints.ours.size() / MB);
  }
  return points;
}

/** The per-flush cost curve as a table: ms per flush of each contender and the two ratios. */
export function flushCostTable(points: readonly FlushCostPoint[]): string {
  return markdownTable(
    [
      'checkpoint',
      'ours ms/flush',
      'seed ms/flush',
      'limit ms/flush',
      'seed / ours',
      'ours / limit',
    ],
    points.map((f) => [
      `${num(f.sizeMB, 0)} MB`,
      num(f.ours, 2),
      num(f.seed, 2),
      num(f.limit, 2),
      ratio(f.seed / f.ours),
      ratio(f.ours / f.limit, 2),
    ]),
  );
}
