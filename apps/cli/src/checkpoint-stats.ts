import { parseLine } from '@yoink/checkpoint/lines';
import { throwIfInterrupted } from './interrupt.js';

/** What `yoink-storage stat` reports about a checkpoint. */
export interface CheckpointStats {
  /** Lines, as `read()` yields them (blank and invalid ones included). */
  lines: number;
  /**
   * UTF-8 bytes of the lines plus their line breaks. Every line counts its
   * `\n` except a torn last line, which a crash leaves without one.
   */
  bytes: number;
  /** Lines that are JSON records. */
  records: number;
  /** Empty or whitespace-only lines. */
  blankLines: number;
  /** Non-blank lines that are not valid JSON: `tornRecords + corruptLines`. */
  invalidJson: number;
  /** Lines that are torn records (skipped with a warning by `CheckpointManager`). */
  tornRecords: number;
  /** Lines that make `CheckpointManager.records()` throw `CheckpointCorruptError`. */
  corruptLines: number;
  /** 1-based number of the first corrupt line, or `null`. */
  firstCorruptLine: number | null;
  /** `true` when the last line is a torn record (the writer crashed mid-write). */
  tornTail: boolean;
  /** The first record, parsed, or `null` when there is none. */
  firstRecord: unknown;
  /** The last record, parsed, or `null` when there is none. */
  lastRecord: unknown;
}

/**
 * Computes {@link CheckpointStats} from the lines of `read()` alone, so it
 * works on every backend, third-party ones included. Memory stays bounded by
 * the longest line.
 *
 * @param lines the checkpoint's lines, as `read()` yields them.
 * @param signal when given and aborted, counting stops before the next line
 *   and the call rejects with the signal's `InterruptedError`.
 *
 * @example
 * ```ts
 * const stats = await computeStats(storage.read());
 * console.log(stats.lines, stats.tornTail);
 * ```
 */
export async function computeStats(
  lines: AsyncIterable<string>,
  signal?: AbortSignal,
): Promise<CheckpointStats> {
  const stats: CheckpointStats = {
    lines: 0,
    bytes: 0,
    records: 0,
    blankLines: 0,
    invalidJson: 0,
    tornRecords: 0,
    corruptLines: 0,
    firstCorruptLine: null,
    tornTail: false,
    firstRecord: null,
    lastRecord: null,
  };
  let lastKind: string | undefined;
  for await (const line of lines) {
    throwIfInterrupted(signal);
    stats.lines++;
    stats.bytes += Buffer.byteLength(line, 'utf8') + 1;
    const parsed = parseLine(line);
    lastKind = parsed.kind;
    switch (parsed.kind) {
      case 'record':
        if (stats.records === 0) stats.firstRecord = parsed.value;
        stats.lastRecord = parsed.value;
        stats.records++;
        break;
      case 'blank':
        stats.blankLines++;
        break;
      case 'torn':
        stats.tornRecords++;
        stats.invalidJson++;
        break;
      case 'invalid':
        stats.corruptLines++;
        stats.invalidJson++;
        stats.firstCorruptLine ??= stats.lines;
        break;
    }
  }
  if (lastKind === 'torn') {
    stats.tornTail = true;
    stats.bytes -= 1;
  }
  return stats;
}

/** The counts of {@link CheckpointStats} that add up over several checkpoints. */
const SUMMED = [
  'lines',
  'bytes',
  'records',
  'blankLines',
  'invalidJson',
  'tornRecords',
  'corruptLines',
] as const;

/** The sums `yoink-storage stat` prints under several checkpoints. */
export interface CheckpointTotals extends Pick<CheckpointStats, (typeof SUMMED)[number]> {
  /** How many checkpoints were counted. */
  checkpoints: number;
  /** Checkpoints whose last line is a torn record. */
  tornTails: number;
}

/**
 * Sums the counts of several checkpoints' {@link CheckpointStats}; the
 * per-checkpoint fields (first/last record, first corrupt line) have no sum.
 */
export function totalStats(all: readonly CheckpointStats[]): CheckpointTotals {
  const total: CheckpointTotals = { checkpoints: all.length, tornTails: 0 } as CheckpointTotals;
  for (const field of SUMMED) total[field] = 0;
  for (const s of all) {
    for (const field of SUMMED) total[field] += s[field];
    if (s.tornTail) total.tornTails += 1;
  }
  return total;
}
