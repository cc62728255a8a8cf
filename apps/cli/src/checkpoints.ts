import { type CheckpointStorageLike, redactUri } from '@yoink/storage-core';
import { CliError, OutputClosedError } from './cli-error.js';
import { InterruptedError } from './interrupt.js';
import { exitCodeFor } from './report-error.js';
import type { CliStorageOptions } from './storage-options.js';
import { openStorages } from './storage-session.js';

/** `checkpoint 2 of 8`: which of the command's URIs, by position. */
function position(uris: readonly string[], index: number): string {
  return `checkpoint ${index + 1} of ${uris.length}`;
}

/** `checkpoint 2 of 8 (s3://b/worker-1.jsonl)`: which of the command's URIs, redacted. */
function whichCheckpoint(uris: readonly string[], index: number): string {
  return `${position(uris, index)} (${redactUri(uris[index] ?? '')})`;
}

/**
 * Opens the storages of `uris` (`-o` options as for every command) and
 * checks, one after the other and before anything is printed, that each one
 * exists. With several URIs, a failure names the checkpoint ("checkpoint 2
 * of 8 (…)") and says that nothing was printed. Nothing is left open when
 * it throws.
 *
 * @throws {CliError} (exit 1) when a checkpoint does not exist.
 * @throws the backend's error for a bad URI or option (exit 2) or when it
 *   cannot be reached (exit 1), named as above when there are several.
 */
export async function openExisting(
  uris: readonly string[],
  options: CliStorageOptions | undefined,
): Promise<CheckpointStorageLike[]> {
  const storages = await openStorages(uris, options);
  const several = uris.length > 1;
  for (const [i, storage] of storages.entries()) {
    let exists: boolean;
    try {
      exists = await storage.exists();
    } catch (e) {
      await closeReaders(storages);
      throw several ? inCheckpoint(e, uris, i, 'nothing was printed') : e;
    }
    if (exists) continue;
    await closeReaders(storages);
    throw new CliError(
      several
        ? `No checkpoint at ${redactUri(uris[i] ?? '')} (${position(uris, i)}): nothing has been written there; nothing was printed`
        : `No checkpoint at ${redactUri(uris[i] ?? '')}: nothing has been written there`,
    );
  }
  return storages;
}

/** Closes storages that were only read, concurrently; a failure to close is ignored. */
export async function closeReaders(storages: readonly CheckpointStorageLike[]): Promise<void> {
  await Promise.allSettled(storages.map((s) => s.close()));
}

/**
 * The error to report when the command failed on the checkpoint at `index`
 * of several: a {@link CliError} with the same exit code whose message says
 * which checkpoint failed and `detail` (what was printed already), with the
 * original error as its cause (`--debug` shows it). An interrupt or a closed
 * stdout is returned as it is.
 */
export function inCheckpoint(
  error: unknown,
  uris: readonly string[],
  index: number,
  detail: string,
  verb = '',
): unknown {
  if (error instanceof InterruptedError || error instanceof OutputClosedError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const head = verb
    ? `${verb} stopped at ${whichCheckpoint(uris, index)}`
    : whichCheckpoint(uris, index);
  return new CliError(`${head}: ${message} (${detail})`, {
    exitCode: exitCodeFor(error),
    cause: error,
  });
}
