import { registerBackend } from '@yoink/storage-core';
import { S3Storage, type S3StorageOptions } from './s3-storage.js';

export { SegmentsChangedError } from './s3-errors.js';
export {
  type CompactionResult,
  type CompactOptions,
  type MergedObject,
  type S3Layout,
  S3Storage,
  type S3StorageOptions,
} from './s3-storage.js';

declare module '@yoink/storage-core' {
  interface StorageSchemes {
    s3: S3StorageOptions;
  }
}

// The package's one side effect: s3:// URIs route to S3Storage. Another copy of
// this package registering again is a no-op; another backend claiming s3 fails.
registerBackend<S3StorageOptions>({
  name: '@yoink/storage-s3',
  schemes: ['s3'],
  create: (uri, options) => new S3Storage(uri, options),
});
