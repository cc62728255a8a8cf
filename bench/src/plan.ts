import { MiB } from './stats.js';

/** The sizes and repetitions of one benchmark run (full or quick). */
export interface BenchPlan {
  mode: 'full' | 'quick';
  /** Runs per write figure; each figure is their median. */
  runs: number;
  localLines: number;
  redisLines: number;
  /** Checkpoint sizes (MB) at which the per-flush write cost is measured. */
  flushMarksMB: number[];
  /** Flushes timed at each size. */
  flushBatches: number;
  /** Local checkpoint sizes (MB) read back. */
  readSizesMB: number[];
  /** Redis checkpoint sizes (MB) read back (issue 17: up to 1 GB). */
  redisReadSizesMB: number[];
  /** The seed's Redis reader (LRANGE 0 -1, all in memory) runs only up to this size (MB). */
  redisSeedReadMaxMB: number;
  /** Reads per size and reader. */
  readRuns: number;
  /** S3 object size grown to, bytes. */
  s3TotalBytes: number;
  /** Bytes per S3 flush. */
  s3FlushBytes: number;
  /** Azure checkpoint size grown to, bytes. */
  azureTotalBytes: number;
  /** Bytes per Azure flush. */
  azureFlushBytes: number;
  /** Lines written in the Azure throughput runs. */
  azureLines: number;
  /** Segments read through the latency proxy, parallel versus one GET at a time. */
  s3ReadSegments: number;
  /** Size of the object read through the latency proxy, parallel ranges versus one stream. */
  s3ReadObjectBytes: number;
  /** Segment counts at which the requests of opening a segments checkpoint are counted. */
  s3OpenCounts: readonly number[];
  /** Records the CheckpointManager benchmark appends and reads. */
  checkpointRecords: number;
  /** Lines of the file `yoink-storage cp` copies. */
  cliLines: number;
}

/** The full run (`pnpm bench`): several minutes, checkpoints up to hundreds of MB. */
export const FULL_PLAN: BenchPlan = {
  mode: 'full',
  runs: 5,
  localLines: 200_000,
  redisLines: 100_000,
  flushMarksMB: [1, 3, 10, 30, 100, 300],
  flushBatches: 5,
  readSizesMB: [25, 50, 100, 200, 400],
  redisReadSizesMB: [5, 32, 100, 300, 1_000],
  redisSeedReadMaxMB: 300,
  readRuns: 3,
  s3TotalBytes: 32 * MiB,
  s3FlushBytes: 512 * 1024,
  azureTotalBytes: 32 * MiB,
  azureFlushBytes: 512 * 1024,
  azureLines: 100_000,
  s3ReadSegments: 2_000,
  s3ReadObjectBytes: 256 * MiB,
  s3OpenCounts: [0, 1, 10, 100, 1_000, 10_000, 100_000],
  checkpointRecords: 100_000,
  cliLines: 250_000,
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
  redisReadSizesMB: [2, 5, 10],
  redisSeedReadMaxMB: 10,
  readRuns: 1,
  s3TotalBytes: 6 * MiB,
  s3FlushBytes: 512 * 1024,
  azureTotalBytes: 6 * MiB,
  azureFlushBytes: 512 * 1024,
  azureLines: 10_000,
  s3ReadSegments: 200,
  s3ReadObjectBytes: 32 * MiB,
  s3OpenCounts: [0, 1, 10, 100, 1_000, 10_000, 100_000],
  checkpointRecords: 10_000,
  cliLines: 25_000,
};
