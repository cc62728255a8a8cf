import { type CheckpointStorageLike, StorageFactory } from '@yoink/storage-core';
import type { CliStorageOptions } from './storage-options.js';

/**
 * Opens the storage for `uri` (the backend is imported by
 * `StorageFactory.fromUri`), runs `fn`, and closes it. When `fn` fails, a
 * failure to close is ignored so the first error is the one reported.
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
