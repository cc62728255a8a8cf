// Type tests against the built package (its dist/*.d.ts), as a user sees it.
import '@yoink/storage-redis';
import { StorageFactory } from '@yoink/storage-core';
import { type RedisClient, RedisStorage, type RedisStorageOptions } from '@yoink/storage-redis';
import type { Cluster, Redis } from 'ioredis';
import type { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5';
import { describe, expectTypeOf, it } from 'vitest';

declare const redis6: Redis;
declare const cluster6: Cluster;
declare const redis5: Redis5;
declare const cluster5: Cluster5;

describe('@yoink/storage-redis types', () => {
  it('types fromUri options for redis:// and rediss:// (any case) once the package is imported', () => {
    void StorageFactory.fromUri('redis://localhost?key=k', { leaseMs: 5000, takeover: true });
    void StorageFactory.fromUri('rediss://cache:6380?key=k', { tls: { ca: 'pem' } });
    void StorageFactory.fromUri('REDISS://cache:6380?key=k', { allowEviction: true });
    // @ts-expect-error: misspelled option
    void StorageFactory.fromUri('redis://localhost?key=k', { leaseMS: 5000 });
    // @ts-expect-error: misspelled option, upper-case scheme
    void StorageFactory.fromUri('REDISS://cache?key=k', { leaseMS: 5000 });
    // @ts-expect-error: wrong value type
    void StorageFactory.fromUri('redis://localhost?key=k', { takeover: 'yes' });
  });

  it('has the one constructor shape: new RedisStorage(uri, options?)', () => {
    expectTypeOf(RedisStorage).constructorParameters.toEqualTypeOf<
      [uri: string, options?: RedisStorageOptions]
    >();
    // @ts-expect-error: misspelled option
    new RedisStorage('redis://localhost?key=k', { leaseMS: 5000 });
    // @ts-expect-error: the (client, key) overload is gone
    new RedisStorage(redis6, 'k');
  });

  it('takes an ioredis 6 or ioredis 5 Redis or Cluster as options.client', () => {
    new RedisStorage('redis://?key=k', { client: redis6 });
    new RedisStorage('redis://?key=k', { client: cluster6 });
    new RedisStorage('redis://?key=k', { client: redis5 });
    new RedisStorage('redis://?key=k', { client: cluster5 });
    void StorageFactory.fromUri('redis://?key=k', { client: redis5 });
    expectTypeOf(redis5).toExtend<RedisClient>();
    expectTypeOf(cluster5).toExtend<RedisClient>();
    expectTypeOf(redis6).toExtend<RedisClient>();
    expectTypeOf(cluster6).toExtend<RedisClient>();
    // @ts-expect-error: not a client
    new RedisStorage('redis://?key=k', { client: { host: 'localhost' } });
  });
});
