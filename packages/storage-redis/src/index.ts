import { registerBackend } from '@yoink/storage-core';
import type { RedisStorageOptions } from './options.js';
import { RedisStorage } from './redis-storage.js';

export type { RedisClient } from './client.js';
export type { RedisStorageOptions } from './options.js';
export { CheckpointDataLostError, EvictionPolicyError } from './redis-errors.js';
export { RedisStorage } from './redis-storage.js';

declare module '@yoink/storage-core' {
  interface StorageSchemes {
    redis: RedisStorageOptions;
    rediss: RedisStorageOptions;
  }
}

// The package's one side effect: `redis://` and `rediss://` URIs resolve to
// RedisStorage. Another copy of this package registering again is a no-op.
registerBackend<RedisStorageOptions>({
  name: '@yoink/storage-redis',
  schemes: ['redis', 'rediss'],
  create: (uri, options) => new RedisStorage(uri, options),
});
