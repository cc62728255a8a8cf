import { redactUri } from '@yoink/storage-core';
import { closeReaders, inCheckpoint, openExisting } from '../checkpoints.js';
import type { CliIO, GlobalOptions } from '../cli-io.js';
import { formatCount } from '../format.js';
import { untilInterrupted } from '../interrupt.js';
import { lineChunks } from '../line-chunks.js';
import { writeOutput } from '../output.js';

/** What stdout holds when `cat` stopped at checkpoint `index` after `lines` of its lines. */
function printedSoFar(uris: readonly string[], index: number, lines: number): string {
  const before =
    index === 0
      ? 'stdout holds no line of an earlier checkpoint'
      : `stdout holds every line of the ${index === 1 ? '1 checkpoint' : `${index} checkpoints`} before it (${uris
          .slice(0, index)
          .map(redactUri)
          .join(', ')})`;
  return `${before}, then ${lines === 0 ? 'none' : `the first ${formatCount(lines)}`} of this one`;
}

/**
 * `yoink-storage cat <uri...>`: streams the lines of each checkpoint to
 * stdout, one checkpoint after the other in the order given, each line
 * followed by `\n` (except a torn last line, left as it is).
 *
 * Every checkpoint is opened and checked to exist before anything is
 * printed. A checkpoint that fails while it is read stops the command: with
 * several URIs, the error names it (`cat stopped at checkpoint 2 of 3
 * (<uri>)`) and says what stdout holds (every line of the checkpoints before
 * it, and how many of this one's).
 *
 * @throws {CliError} (exit 1) when nothing exists at one of `uris`, or (with
 *   several) when one fails; a single URI's failure is the backend's error.
 * @throws {InterruptedError} (exit 130/143) when `io.signal` is aborted.
 */
export async function catCommand(
  uris: readonly string[],
  globals: GlobalOptions,
  io: CliIO,
): Promise<void> {
  const storages = await openExisting(uris, globals.option);
  let index = 0;
  let lines = 0;
  try {
    for (const [i, storage] of storages.entries()) {
      index = i;
      lines = 0;
      for await (const chunk of untilInterrupted(lineChunks(storage.read()), io.signal)) {
        await writeOutput(io.stdout, chunk.text);
        lines += chunk.lines;
      }
    }
  } catch (e) {
    await closeReaders(storages);
    if (uris.length === 1) throw e;
    throw inCheckpoint(e, uris, index, printedSoFar(uris, index, lines), 'cat');
  }
  // A failure to close a storage that was only read is reported too (it is one of the storages').
  for (const storage of storages) await storage.close();
}
