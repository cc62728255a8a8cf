import { StorageFactory } from '@yoink/storage-core';
import { LocalFileStorage, type LocalFileStorageOptions } from './local-file-storage.js';

export { checkpointPath } from './checkpoint-path.js';
export {
  DEFAULT_LOCK_STALE_MS,
  type LocalDurability,
  LocalFileStorage,
  type LocalFileStorageOptions,
} from './local-file-storage.js';
export { type LockOwner, readLockOwner } from './lock-folder.js';

// The package's one side effect: plain paths and file: URLs route to the "file" scheme.
// A registration made before (the application's own, or another copy of this package) is kept.
if (!StorageFactory.has('file')) {
  StorageFactory.register(
    'file',
    (uri, options) => new LocalFileStorage(uri, options as LocalFileStorageOptions),
  );
}
