import { type CheckpointStorageLike, StorageFactory } from '@yoink/storage-core';
import type { CliStorageOptions } from './storage-options.js';

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
  const storage = await StorageFactory.fromUri(uri, options);
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
