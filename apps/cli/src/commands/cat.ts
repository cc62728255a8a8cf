import { redactUri } from '@yoink/storage-core';
import { CliError } from '../cli-error.js';
import type { CliIO, GlobalOptions } from '../cli-io.js';
import { untilInterrupted } from '../interrupt.js';
import { lineChunks } from '../line-chunks.js';
import { writeOutput } from '../output.js';
import { withStorage } from '../storage-session.js';

/**
 * `yoink-storage cat <uri>`: streams the checkpoint's lines to stdout, each
 * followed by `\n` (except a torn last line, left as it is).
 *
 * @throws {CliError} (exit 1) when nothing exists at `uri`.
 * @throws {InterruptedError} (exit 130/143) when `io.signal` is aborted.
 */
export async function catCommand(uri: string, globals: GlobalOptions, io: CliIO): Promise<void> {
  await withStorage(uri, globals.option, async (storage) => {
    if (!(await storage.exists())) {
      throw new CliError(`No checkpoint at ${redactUri(uri)}: nothing has been written there`);
    }
    for await (const chunk of untilInterrupted(lineChunks(storage.read()), io.signal)) {
      await writeOutput(io.stdout, chunk.text);
    }
  });
}
