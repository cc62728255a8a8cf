import { describeConformance } from '@yoink/storage-testkit';
import { type RedisTestServer, startRedis } from '@yoink/test-servers/redis';
import { afterAll, beforeAll } from 'vitest';
import { FaultyRedisStorage } from './faulty-storage.js';

let redis: RedisTestServer;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

describeConformance<FaultyRedisStorage>('RedisStorage (single server, URI)', {
  create: (location) => new FaultyRedisStorage(redis.keyUri(`yoink:${location}`)),
  failNextFlush: (storage) => {
    storage.failNext = true;
  },
  secondWriter: true,
});
