import { describeConformance, freePort } from '@yoink/storage-testkit';
import { type RedisTestServer, startRedis } from '@yoink/test-servers/redis';
import { Redis } from 'ioredis';
import { Redis as Redis5 } from 'ioredis5';
import { afterAll, beforeAll } from 'vitest';
import { FaultyRedisStorage } from './faulty-storage.js';

let redis: RedisTestServer;
// Applications bring their own ioredis: a 6 on its default protocol (RESP3;
// the clients RedisStorage creates speak RESP2) and a 5.
let client6: Redis;
let client5: Redis5;

beforeAll(async () => {
  redis = await startRedis();
  client6 = new Redis({ port: redis.port });
  client5 = new Redis5({ port: redis.port });
});

afterAll(async () => {
  await Promise.allSettled([client6?.quit(), client5?.quit()]);
  await redis?.stop();
});

const keyUri = (location: string): string =>
  `redis://?key=${encodeURIComponent(`yoink:${location}`)}`;

describeConformance<FaultyRedisStorage>('RedisStorage (single server, URI)', {
  create: (location) => new FaultyRedisStorage(redis.keyUri(`yoink:${location}`)),
  failNextFlush: (storage) => {
    storage.failNext = true;
  },
  unreachable: async (location) =>
    new FaultyRedisStorage(`redis://127.0.0.1:${await freePort()}?key=yoink:${location}`, {
      flushTimeoutMs: 300,
    }),
  secondWriter: true,
});

describeConformance<FaultyRedisStorage>('RedisStorage (an ioredis 6 client passed in, RESP3)', {
  create: (location) => new FaultyRedisStorage(keyUri(location), { client: client6 }),
  failNextFlush: (storage) => {
    storage.failNext = true;
  },
  secondWriter: true,
});

describeConformance<FaultyRedisStorage>('RedisStorage (an ioredis 5 client passed in)', {
  create: (location) => new FaultyRedisStorage(keyUri(location), { client: client5 }),
  failNextFlush: (storage) => {
    storage.failNext = true;
  },
  secondWriter: true,
});
