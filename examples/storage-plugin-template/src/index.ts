import { registerBackend } from '@yoink/storage-core';
import { GzipFileStorage, type GzipFileStorageOptions } from './gzip-file-storage.js';

export { GzipFileStorage, type GzipFileStorageOptions } from './gzip-file-storage.js';

// Typed options for `StorageFactory.fromUri('gzfile:…', options)` once this
// package is imported (declaration merging; it must live in a .ts file so tsc
// copies it to dist).
declare module '@yoink/storage-core' {
  interface StorageSchemes {
    gzfile: GzipFileStorageOptions;
  }
}

// The package's one side effect (listed in package.json "sideEffects"; the
// schemes are declared in package.json "yoink.storage.schemes" too, so core's
// auto-import may load it). A second copy of this package registering again is
// a no-op; another backend claiming gzfile: fails loudly.
registerBackend<GzipFileStorageOptions>({
  name: 'yoink-storage-gzfile',
  schemes: ['gzfile'],
  create: (uri, options) => new GzipFileStorage(uri, options),
});
