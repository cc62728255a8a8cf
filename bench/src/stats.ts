/** The median of `values` (the upper middle one for an even count). @throws {Error} on an empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Runs `fn` and resolves with its wall time in milliseconds. */
export async function timeMs(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Bytes per megabyte (10^6) in every figure of the report. */
export const MB = 1e6;
/** Bytes per mebibyte (2^20): S3 part sizes and memory. */
export const MiB = 2 ** 20;
