import { redactUri } from '@yoink/storage-core';
import { CliError } from '../cli-error.js';
import type { CliIO, GlobalOptions } from '../cli-io.js';
import { lineChunks } from '../line-chunks.js';
import { writeOutput } from '../output.js';
import { withStorage } from '../storage-session.js';

/**
 * `yoink-storage cat <uri>`: streams the checkpoint's lines to stdout, each
 * followed by `\n` (except a torn last line, left as it is).
 *
 * @throws {CliError} (exit 1) when nothing exists at `uri`.
 */
export async function catCommand(uri: string, globals: GlobalOptions, io: CliIO): Promise<void> {
  await withStorage(uri, globals.option, async (storage) => {
    if (!(await storage.exists())) {
      throw new CliError(`No checkpoint at ${redactUri(uri)}: nothing has been written there`);
    }
    for await (const chunk of lineChunks(storage.read())) await writeOutput(io.stdout, chunk.text);
  });
}
