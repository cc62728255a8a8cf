// Sizes the backends use, read from the modules that define them, so that the
// report states them as the code has them. A backend's index.ts exports only
// its public API, so these come from the built non-index modules, by path
// within the workspace (the packages' `exports` maps do not reach them).
import { limitsOf } from '../../packages/storage-azure/dist/limits.js';
import { DEFAULT_READ_PAGE_BYTES } from '../../packages/storage-redis/dist/options.js';
import { MAX_PAGE_COUNT } from '../../packages/storage-redis/dist/stream-reader.js';
import { MIN_PART_BYTES } from '../../packages/storage-s3/dist/s3-context.js';
import { COMPACTION_DEFAULTS, READ_DEFAULTS } from '../../packages/storage-s3/dist/s3-options.js';

/** @yoink/storage-s3's sizes. */
export const S3_SIZES = {
  /** S3's minimum part size: past it the object layout can append with multipart copies. */
  minPartBytes: MIN_PART_BYTES,
  /** Segments fetched ahead / ranges in flight at most (`readConcurrency`'s default). */
  readConcurrency: READ_DEFAULTS.concurrency,
  /** Bytes fetched ahead of the reader at most (`readAheadBytes`'s default). */
  readAheadBytes: READ_DEFAULTS.aheadBytes,
  /** Objects of at least this size are read in ranges (`parallelReadThresholdBytes`'s default). */
  parallelReadThresholdBytes: READ_DEFAULTS.parallelThresholdBytes,
  /** Size of one ranged GET (`readRangeBytes`'s default). */
  readRangeBytes: READ_DEFAULTS.rangeBytes,
  /** `compactTargetBytes`'s default: the size compaction merges segments up to. */
  compactTargetBytes: COMPACTION_DEFAULTS.targetBytes,
} as const;

/** @yoink/storage-redis's sizes. */
export const REDIS_SIZES = {
  /** Bytes of stream entries one read page asks for (`readPageBytes`'s default). */
  readPageBytes: DEFAULT_READ_PAGE_BYTES,
  /** Stream entries one read page asks for at most. */
  maxPageEntries: MAX_PAGE_COUNT,
} as const;

const azure = limitsOf(undefined);
/** @yoink/storage-azure's sizes. */
export const AZURE_SIZES = {
  /** Bytes per AppendBlock request at most. */
  blockBytes: azure.blockBytes,
  /** Bytes per ranged download of `read()`. */
  readRangeBytes: azure.readRangeBytes,
} as const;
