import type { AzureBenchResult } from './azure-bench.js';
import type { FlushCostPoint, LocalReadPoint, LocalWriteResult } from './local-bench.js';
import type { MachineInfo } from './machine.js';
import type { RedisScaleResult, RedisWriteResult } from './redis-bench.js';
import type { S3Run } from './s3-bench.js';
import type { S3ReadResult } from './s3-read-bench.js';

/** The sizes and repetitions of one benchmark run (full or quick). */
export interface BenchPlan {
  mode: 'full' | 'quick';
  /** Runs per figure; each figure is their median. */
  runs: number;
  localLines: number;
  redisLines: number;
  /** Checkpoint sizes (MB) at which the per-flush write cost is measured. */
  flushMarksMB: number[];
  /** Flushes timed at each size. */
  flushBatches: number;
  /** Local checkpoint sizes (MB) read back. */
  readSizesMB: number[];
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
}

/** Everything one run measured, as the report needs it. */
export interface BenchResults {
  plan: BenchPlan;
  machine: MachineInfo;
  /** The command line that produced the report. */
  command: string;
  seconds: number;
  localWrite: LocalWriteResult;
  localFlush: FlushCostPoint[];
  localRead: LocalReadPoint[];
  redisWrite: RedisWriteResult;
  redisScale: RedisScaleResult;
  s3: S3Run[];
  /** The Azure section (absent in results built without it). */
  azure?: AzureBenchResult;
  /** S3 reads through the latency proxy and open cost (absent in older result sets). */
  s3Read?: S3ReadResult;
}
