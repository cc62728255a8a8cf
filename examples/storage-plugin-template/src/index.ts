import { StorageFactory } from '@yoink/storage-core';
import { GzipFileStorage, type GzipFileStorageOptions } from './gzip-file-storage.js';

export { type GzFileLocation, parseGzFileUri } from './gzfile-uri.js';
export { GzipFileStorage, type GzipFileStorageOptions } from './gzip-file-storage.js';

// The package's one side effect (listed in package.json "sideEffects"): importing
// it, or core's auto-import of `yoink-storage-gzfile`, registers the scheme.
// A registration made before (the application's own, or another copy) is kept.
if (!StorageFactory.has('gzfile')) {
  StorageFactory.register(
    'gzfile',
    (uri, options) => new GzipFileStorage(uri, options as GzipFileStorageOptions),
  );
}
