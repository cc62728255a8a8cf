import { registerBackend } from '@yoink/storage-core';
import { LocalFileStorage, type LocalFileStorageOptions } from './local-file-storage.js';

export {
  type LocalDurability,
  LocalFileStorage,
  type LocalFileStorageOptions,
} from './local-file-storage.js';

declare module '@yoink/storage-core' {
  interface StorageSchemes {
    file: LocalFileStorageOptions;
  }
}

// The package's one side effect: plain paths and file: URLs route to the "file"
// scheme. Another copy of this package registering again is a no-op.
registerBackend<LocalFileStorageOptions>({
  name: '@yoink/storage-local',
  schemes: ['file'],
  create: (uri, options) => new LocalFileStorage(uri, options),
});
