import { redactUri } from '@yoink/storage-core';
import { computeStats } from '../checkpoint-stats.js';
import { CliError } from '../cli-error.js';
import type { CliIO, GlobalOptions } from '../cli-io.js';
import { formatBytes, formatCount, formatJsonPreview } from '../format.js';
import { writeOutput } from '../output.js';
import { withStorage } from '../storage-session.js';

/** Options of `yoink-storage stat`. */
export interface StatOptions {
  /** Print one JSON object instead of a table. */
  json?: boolean;
}

/**
 * `yoink-storage stat <uri> [--json]`: lines, bytes, invalid-JSON lines
 * (torn and corrupt), whether the tail is torn, first and last record.
 * Computed from `read()` alone, so it works on every backend.
 *
 * @throws {CliError} (exit 1) when nothing exists at `uri`.
 * @throws {InterruptedError} (exit 130/143) when `io.signal` is aborted.
 */
export async function statCommand(
  uri: string,
  options: StatOptions,
  globals: GlobalOptions,
  io: CliIO,
): Promise<void> {
  await withStorage(uri, globals.option, async (storage) => {
    if (!(await storage.exists())) {
      throw new CliError(`No checkpoint at ${redactUri(uri)}: nothing has been written there`);
    }
    const stats = await computeStats(storage.read(), io.signal);
    if (options.json) {
      await writeOutput(io.stdout, `${JSON.stringify({ uri: redactUri(uri), ...stats })}\n`);
      return;
    }
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
    await writeOutput(
      io.stdout,
      `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`,
    );
  });
}
