import { registerBackend } from '@yoink/storage-core';
import { AzureBlobStorage, type AzureBlobStorageOptions } from './azure-blob-storage.js';

export { AzureBlobStorage, type AzureBlobStorageOptions } from './azure-blob-storage.js';

declare module '@yoink/storage-core' {
  interface StorageSchemes {
    azblob: AzureBlobStorageOptions;
  }
}

// The package's one side effect: azblob:// URIs route to AzureBlobStorage.
// Another copy of this package registering again is a no-op.
registerBackend<AzureBlobStorageOptions>({
  name: '@yoink/storage-azure',
  schemes: ['azblob'],
  create: (uri, options) => new AzureBlobStorage(uri, options),
});
