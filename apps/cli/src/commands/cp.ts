import { type CheckpointStorageLike, redactUri } from '@yoink/storage-core';
import { CliError } from '../cli-error.js';
import type { CliIO, GlobalOptions } from '../cli-io.js';
import { formatBytes, formatCount } from '../format.js';
import { InterruptedError, untilInterrupted } from '../interrupt.js';
import { lineChunks } from '../line-chunks.js';
import { writeOutput } from '../output.js';
import { createProgress } from '../progress.js';
import { closeAfterFailure, openStorages } from '../storage-session.js';

/** Options of `yoink-storage cp`. */
export interface CpOptions {
  /** Add the lines after an existing destination's content instead of refusing. */
  append?: boolean;
  /** Progress on stderr: `undefined` = when stderr is a terminal. */
  progress?: boolean;
}

/** Marks `storage` as failed when `promise` rejects. */
function tracked<T>(
  failed: Set<CheckpointStorageLike>,
  storage: CheckpointStorageLike,
  promise: Promise<T>,
): Promise<T> {
  return promise.catch((e: unknown) => {
    failed.add(storage);
    throw e;
  });
}

/** The lines of `storage.read()`, marking `storage` as failed when reading throws. */
async function* trackedRead(
  failed: Set<CheckpointStorageLike>,
  storage: CheckpointStorageLike,
): AsyncGenerator<string, void, undefined> {
  try {
    yield* storage.read();
  } catch (e) {
    failed.add(storage);
    throw e;
  }
}

/**
 * `yoink-storage cp <src> <dst>`: copies a checkpoint between any two
 * backends, streaming (memory bounded by the longest line plus the
 * destination's write buffer). The copy has exactly the source's lines.
 *
 * It refuses a destination that exists unless `--append`: the storage
 * contract has no delete, so it cannot overwrite.
 *
 * When a storage fails part way (unreachable, killed), the other one is
 * closed (a healthy destination keeps the lines copied so far) and the
 * failed one is left as it is: closing it would retry the same flush for
 * another full timeout. When `io.signal` is aborted (Ctrl-C), the copy stops
 * after the current write and both storages are closed, so the destination
 * holds exactly the lines reported.
 *
 * @throws {CliError} (exit 1) when the source does not exist, the destination
 *   exists, or the copy fails part way (the message says how many lines the
 *   destination may hold).
 * @throws {InterruptedError} (exit 130/143) when interrupted.
 */
export async function cpCommand(
  src: string,
  dst: string,
  options: CpOptions,
  globals: GlobalOptions,
  io: CliIO,
): Promise<void> {
  if (src === dst) {
    throw new CliError('source and destination are the same checkpoint', { exitCode: 2 });
  }
  // Create both first, so a bad URI or option is reported before any I/O.
  const [source, dest] = (await openStorages([src, dst], globals.option)) as [
    CheckpointStorageLike,
    CheckpointStorageLike,
  ];
  const failed = new Set<CheckpointStorageLike>();
  let lines = 0;
  let bytes = 0;
  const started = Date.now();
  try {
    if (!(await tracked(failed, source, source.exists()))) {
      throw new CliError(`No checkpoint at ${redactUri(src)}: nothing has been written there`);
    }
    if (!options.append && (await tracked(failed, dest, dest.exists()))) {
      throw new CliError(
        `${redactUri(dst)} already exists and cp never overwrites (storages cannot delete): ` +
          'remove it with your backend’s tools, pick another destination, or pass --append to add the lines after its content',
      );
    }
    const progress = createProgress(io.stderr, options.progress, 'cp');
    try {
      const chunks = lineChunks(trackedRead(failed, source));
      for await (const chunk of untilInterrupted(chunks, io.signal)) {
        await tracked(failed, dest, dest.write(chunk.text));
        lines += chunk.lines;
        bytes += chunk.bytes;
        progress.update(lines, bytes);
      }
      await tracked(failed, dest, dest.close());
    } finally {
      progress.stop();
    }
    await tracked(failed, source, source.close());
  } catch (e) {
    const closing = await closeAfterFailure([source, dest], failed);
    const copied = `cp stopped after ${formatCount(lines)} lines, ${formatBytes(bytes)}`;
    if (e instanceof InterruptedError) {
      if (lines === 0) throw new InterruptedError(e.signal, 'cp stopped before copying any line');
      const destClosed = closing[1]?.status === 'fulfilled';
      throw new InterruptedError(
        e.signal,
        destClosed
          ? `${copied}; ${redactUri(dst)} holds them (a partial copy)`
          : `${copied}; ${redactUri(dst)} may hold a partial copy`,
      );
    }
    if (e instanceof CliError || lines === 0) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new CliError(`${message} (${copied}: ${redactUri(dst)} may hold a partial copy)`, {
      cause: e,
    });
  }
  const seconds = (Date.now() - started) / 1000;
  await writeOutput(
    io.stdout,
    `copied ${formatCount(lines)} lines (${formatBytes(bytes)}) from ${redactUri(src)} to ${redactUri(dst)} in ${seconds.toFixed(2)} s\n`,
  );
}
