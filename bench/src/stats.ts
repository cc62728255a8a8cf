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

/** Options of {@link interleaved}. */
export interface InterleaveOptions<K extends string> {
  /** Rounds whose times count. */
  rounds: number;
  /** Run one untimed round first, so that every contender runs JIT-compiled code. Default `false`. */
  warmUp?: boolean;
  /** Contenders left out of the warm-up round (the slow seeds). */
  skipWarmUp?: readonly NoInfer<K>[];
}

/**
 * Times each contender once per round, in turn, so that background load
 * hits them alike, and resolves with each one's median time (ms). A
 * contender gets the round number (-1 for the warm-up) and may return a
 * clean-up that runs after its timing.
 *
 * @example
 * ```ts
 * const ms = await interleaved({ rounds: 5 }, { ours: () => write(), seed: () => seed() });
 * ms.ours; // median of 5
 * ```
 */
export async function interleaved<K extends string>(
  options: InterleaveOptions<K>,
  contenders: Record<K, (round: number) => Promise<(() => Promise<void>) | undefined | void>>,
): Promise<Record<K, number>> {
  const names = Object.keys(contenders) as K[];
  const times = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let round = options.warmUp ? -1 : 0; round < options.rounds; round++) {
    for (const name of names) {
      if (round === -1 && options.skipWarmUp?.includes(name)) continue;
      let cleanUp: (() => Promise<void>) | undefined | void;
      const ms = await timeMs(async () => {
        cleanUp = await contenders[name](round);
      });
      if (round >= 0) times[name].push(ms);
      if (cleanUp) await cleanUp();
    }
  }
  return Object.fromEntries(names.map((k) => [k, median(times[k])])) as Record<K, number>;
}

/** Bytes per megabyte (10^6) in every figure of the report. */
export const MB = 1e6;
/** Bytes per mebibyte (2^20): S3 part sizes and memory. */
export const MiB = 2 ** 20;
