import type { BenchPlan } from './results.js';
import { MiB } from './stats.js';

/** The full run (`pnpm bench`): several minutes, checkpoints up to hundreds of MB. */
export const FULL_PLAN: BenchPlan = {
  mode: 'full',
  runs: 5,
  localLines: 200_000,
  redisLines: 100_000,
  flushMarksMB: [1, 3, 10, 30, 100, 300],
  flushBatches: 5,
  readSizesMB: [25, 50, 100, 200, 400],
  readRuns: 3,
  s3TotalBytes: 32 * MiB,
  s3FlushBytes: 512 * 1024,
  azureTotalBytes: 32 * MiB,
  azureFlushBytes: 512 * 1024,
  azureLines: 100_000,
  s3ReadSegments: 2_000,
  s3ReadObjectBytes: 256 * MiB,
  s3OpenCounts: [0, 1, 10, 100, 1_000, 10_000, 100_000],
};

/** The quick run (`pnpm bench --quick`): under a minute, small sizes, 3 runs per figure. */
export const QUICK_PLAN: BenchPlan = {
  mode: 'quick',
  runs: 3,
  localLines: 20_000,
  redisLines: 10_000,
  flushMarksMB: [1, 3, 10],
  flushBatches: 3,
  readSizesMB: [5, 10, 20],
  readRuns: 1,
  s3TotalBytes: 6 * MiB,
  s3FlushBytes: 512 * 1024,
  azureTotalBytes: 6 * MiB,
  azureFlushBytes: 512 * 1024,
  azureLines: 10_000,
  s3ReadSegments: 200,
  s3ReadObjectBytes: 32 * MiB,
  s3OpenCounts: [0, 1, 10, 100, 1_000, 10_000, 100_000],
};
