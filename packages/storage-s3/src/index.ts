import { StorageFactory } from '@yoink/storage-core';
import { S3Storage, type S3StorageOptions } from './s3-storage.js';

export { buildClientConfig, type ConnectionSettings } from './client-config.js';
export { S3Storage, type S3StorageOptions } from './s3-storage.js';
export {
  bucketNameProblem,
  type ParsedS3Uri,
  parseS3Uri,
  type S3ConditionalWrites,
  type S3Layout,
} from './uri.js';

// The package's one side effect: `s3://` URIs resolve to S3Storage.
StorageFactory.register('s3', (uri, options) => new S3Storage(uri, options as S3StorageOptions));
