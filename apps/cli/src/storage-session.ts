import {
  type CheckpointStorageLike,
  InvalidOptionError,
  StorageFactory,
} from '@yoink/storage-core';
import type { CliStorageOptions } from './storage-options.js';

/**
 * Creates the storages for `uris` with the `-o key=value` options. Each
 * option goes to every storage whose backend has it (so `cp local.jsonl
 * redis://… -o flushTimeoutMs=2000` configures the Redis side); an option no
 * backend of the command has (a typo) is refused with the backend's
 * `InvalidOptionError`, which names the known options. Nothing is left open
 * on failure.
 */
export async function openStorages(
  uris: readonly string[],
  options: CliStorageOptions | undefined,
): Promise<CheckpointStorageLike[]> {
  const given = options ?? {};
  const refusals = new Map<string, InvalidOptionError[]>();
  const opened: CheckpointStorageLike[] = [];
  try {
    for (const uri of uris) {
      const mine: CliStorageOptions = { ...given };
      for (;;) {
        try {
          opened.push(await StorageFactory.fromUri(uri, mine));
          break;
        } catch (e) {
          // An option this backend does not know may be meant for the other URI.
          const unknown =
            InvalidOptionError.isInstance(e) && e.known !== undefined && e.option !== undefined
              ? e.option
              : undefined;
          if (unknown === undefined || !(unknown in mine) || uris.length === 1) throw e;
          refusals.set(unknown, [...(refusals.get(unknown) ?? []), e as InvalidOptionError]);
          delete mine[unknown];
        }
      }
    }
    for (const [, errors] of refusals) {
      if (errors.length === uris.length) throw errors[0];
    }
    return opened;
  } catch (e) {
    await Promise.allSettled(opened.map((s) => s.close()));
    throw e;
  }
}

/**
 * After a command failed: closes each of `storages` that is not in `failed`,
 * concurrently, and resolves (never rejects) with one result per storage, in
 * order. A storage in `failed` (one whose own call failed: unreachable,
 * killed, refused) is not closed: `close()` flushes first, so it would retry
 * the same failing flush for another full timeout before reporting the same
 * error. It is left to the process exit, like a crashed writer (a lease or
 * lock it holds expires or is recovered as after a crash).
 */
export function closeAfterFailure(
  storages: readonly CheckpointStorageLike[],
  failed: ReadonlySet<CheckpointStorageLike>,
): Promise<PromiseSettledResult<void>[]> {
  return Promise.allSettled(
    storages.map((s) =>
      failed.has(s) ? Promise.reject(new Error('not closed: it failed')) : s.close(),
    ),
  );
}

/**
 * Opens the storage for `uri` (the backend is imported by
 * `StorageFactory.fromUri`), runs `fn`, and closes it. When `fn` fails, the
 * storage is still closed (for a reader that only releases its client), and
 * a failure to close is ignored so the first error is the one reported.
 */
export async function withStorage<R>(
  uri: string,
  options: CliStorageOptions | undefined,
  fn: (storage: CheckpointStorageLike) => Promise<R>,
): Promise<R> {
  const [storage] = (await openStorages([uri], options)) as [CheckpointStorageLike];
  let result: R;
  try {
    result = await fn(storage);
  } catch (e) {
    await storage.close().catch(() => {});
    throw e;
  }
  await storage.close();
  return result;
}
