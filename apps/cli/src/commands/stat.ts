import { redactUri } from '@yoink/storage-core';
import { type CheckpointStats, computeStats, totalStats } from '../checkpoint-stats.js';
import { closeReaders, inCheckpoint, openExisting } from '../checkpoints.js';
import type { CliIO, GlobalOptions } from '../cli-io.js';
import { formatBytes, formatCount, formatJsonPreview } from '../format.js';
import { writeOutput } from '../output.js';

/** Options of `yoink-storage stat`. */
export interface StatOptions {
  /** Print JSON instead of a table. */
  json?: boolean;
}

/** The key/value table of one checkpoint (the output of `stat <uri>`). */
function oneTable(uri: string, stats: CheckpointStats): string {
  const rows: [string, string][] = [
    ['checkpoint', redactUri(uri)],
    ['lines', formatCount(stats.lines)],
    ['bytes', `${formatCount(stats.bytes)} (${formatBytes(stats.bytes)})`],
    ['records', formatCount(stats.records)],
    ['blank lines', formatCount(stats.blankLines)],
    [
      'invalid JSON',
      `${formatCount(stats.invalidJson)} (torn ${formatCount(stats.tornRecords)}, corrupt ${formatCount(stats.corruptLines)}${
        stats.firstCorruptLine === null ? '' : `, first corrupt line ${stats.firstCorruptLine}`
      })`,
    ],
    ['torn tail', stats.tornTail ? 'yes (the last write was cut short)' : 'no'],
    ['first record', stats.records ? formatJsonPreview(stats.firstRecord) : '-'],
    ['last record', stats.records ? formatJsonPreview(stats.lastRecord) : '-'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}

/** One row per checkpoint and a total row (the output of `stat <uri> <uri>…`). */
function manyTable(uris: readonly string[], all: readonly CheckpointStats[]): string {
  const total = totalStats(all);
  const header = ['checkpoint', 'lines', 'bytes', 'records', 'invalid JSON', 'torn tail'];
  const rows = all.map((s, i) => [
    redactUri(uris[i] ?? ''),
    formatCount(s.lines),
    formatCount(s.bytes),
    formatCount(s.records),
    formatCount(s.invalidJson),
    s.tornTail ? 'yes' : 'no',
  ]);
  rows.push([
    `total (${formatCount(total.checkpoints)} checkpoints)`,
    formatCount(total.lines),
    formatCount(total.bytes),
    formatCount(total.records),
    formatCount(total.invalidJson),
    `${formatCount(total.tornTails)} of ${formatCount(total.checkpoints)}`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => {
        const w = widths[c] ?? 0;
        // The name and the torn-tail text read left to right; counts line up on the right.
        return c === 0 || c === cells.length - 1 ? cell.padEnd(w) : cell.padStart(w);
      })
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

/**
 * `yoink-storage stat <uri...> [--json]`: lines, bytes, invalid-JSON lines
 * (torn and corrupt), whether the tail is torn, first and last record.
 * Computed from `read()` alone, so it works on every backend.
 *
 * - One URI: a key/value table, or with `--json` one object
 *   (`{ uri, ...CheckpointStats }`).
 * - Several URIs: one row per checkpoint and a total row, or with `--json`
 *   `{ checkpoints: [{ uri, ...CheckpointStats }, …], total: CheckpointTotals }`.
 *   The checkpoints are read one after the other; nothing is printed until
 *   all of them are counted, so a failure prints nothing and names the
 *   checkpoint that failed.
 *
 * @throws {CliError} (exit 1) when nothing exists at one of `uris`, or (with
 *   several) when one fails; a single URI's failure is the backend's error.
 * @throws {InterruptedError} (exit 130/143) when `io.signal` is aborted.
 */
export async function statCommand(
  uris: readonly string[],
  options: StatOptions,
  globals: GlobalOptions,
  io: CliIO,
): Promise<void> {
  const storages = await openExisting(uris, globals.option);
  const all: CheckpointStats[] = [];
  try {
    for (const storage of storages) all.push(await computeStats(storage.read(), io.signal));
  } catch (e) {
    await closeReaders(storages);
    if (uris.length === 1) throw e;
    throw inCheckpoint(e, uris, all.length, 'nothing was printed', 'stat');
  }
  for (const storage of storages) await storage.close();
  let text: string;
  if (uris.length === 1) {
    const [uri, stats] = [uris[0] as string, all[0] as CheckpointStats];
    text = options.json
      ? `${JSON.stringify({ uri: redactUri(uri), ...stats })}\n`
      : oneTable(uri, stats);
  } else if (options.json) {
    const checkpoints = all.map((stats, i) => ({ uri: redactUri(uris[i] ?? ''), ...stats }));
    text = `${JSON.stringify({ checkpoints, total: totalStats(all) })}\n`;
  } else {
    text = manyTable(uris, all);
  }
  await writeOutput(io.stdout, text);
}
