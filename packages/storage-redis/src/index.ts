import { StorageFactory, type StorageOptions } from '@yoink/storage-core';
import type { RedisStorageOptions } from './options.js';
import { RedisStorage } from './redis-storage.js';

export type { RedisClient } from './client.js';
export { type CheckpointKeys, checkpointKeys, hashTagOf } from './keys.js';
export {
  DEFAULT_FLUSH_TIMEOUT_MS,
  DEFAULT_LEASE_MS,
  type RedisStorageOptions,
} from './options.js';
export { CheckpointDataLostError, EvictionPolicyError } from './redis-errors.js';
export { RedisStorage } from './redis-storage.js';
export {
  parseRedisUri,
  REDIS_URI_PARAMS,
  type RedisNodeAddress,
  type RedisUriParts,
} from './uri.js';

function create(uri: string, options?: StorageOptions): RedisStorage {
  return new RedisStorage(uri, options as RedisStorageOptions | undefined);
}

// The package's one side effect: `redis://` and `rediss://` URIs resolve to RedisStorage.
for (const scheme of ['redis', 'rediss']) {
  if (!StorageFactory.has(scheme)) StorageFactory.register(scheme, create);
}
