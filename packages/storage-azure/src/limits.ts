/**
 * Bytes per AppendBlock request. Azure accepts 4 MiB on every service version
 * (100 MiB only on 2022-11-02 and later; Azurite takes 100 MiB on any), so a
 * larger flush is split into 4 MiB blocks.
 */
const BLOCK_BYTES: number = 4 * 1024 * 1024;

/** Blocks an append blob holds at most (Azure refuses the 50,001st with 409 BlockCountExceedsLimit). */
const MAX_BLOCKS = 50_000;

/** Bytes per ranged download of `read()`: memory stays near one chunk of the stream, not the blob. */
const READ_RANGE_BYTES: number = 8 * 1024 * 1024;

/** The sizes a storage works with; tests turn them down through {@link LIMITS}. */
export interface AzureLimits {
  /** Bytes per AppendBlock ({@link BLOCK_BYTES}). */
  blockBytes: number;
  /** Blocks per blob before rolling over to `<blob>.000001` ({@link MAX_BLOCKS}). */
  maxBlocks: number;
  /** Bytes per ranged download ({@link READ_RANGE_BYTES}). */
  readRangeBytes: number;
}

/**
 * An option key for tests only (not exported by the package): smaller
 * limits, so a test can split a flush into blocks or roll a blob over after a
 * few blocks. A symbol, so the options schema (which checks string keys)
 * neither lists it nor refuses it.
 */
export const LIMITS: unique symbol = Symbol('@yoink/storage-azure:limits');

/** The limits in force: the defaults, or what a test passed under {@link LIMITS}. */
export function limitsOf(options: unknown): AzureLimits {
  const given =
    typeof options === 'object' && options !== null
      ? (options as { [LIMITS]?: Partial<AzureLimits> })[LIMITS]
      : undefined;
  const pick = (value: number | undefined, fallback: number, max: number): number =>
    value !== undefined && Number.isInteger(value) && value >= 1 && value <= max ? value : fallback;
  return {
    blockBytes: pick(given?.blockBytes, BLOCK_BYTES, BLOCK_BYTES),
    maxBlocks: pick(given?.maxBlocks, MAX_BLOCKS, MAX_BLOCKS),
    readRangeBytes: pick(given?.readRangeBytes, READ_RANGE_BYTES, 256 * 1024 * 1024),
  };
}
