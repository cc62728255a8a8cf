import { cp, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  InvalidOptionError,
  InvalidUriError,
  MemoryStorage,
  registerBackend,
  SchemeAlreadyRegisteredError,
  StorageFactory,
} from '@yoink/storage-core';
import { type RedisTestServer, startRedis } from '@yoink/test-servers/redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/index.js';
import { RedisStorage } from '../src/redis-storage.js';
import { failureOf } from './helpers.js';

const PACKAGE = join(import.meta.dirname, '..');
let redis: RedisTestServer;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

describe('registration and the one constructor shape', () => {
  it('importing a second copy of the built package does not throw, and redis:// and rediss:// still route', async () => {
    // A copy of dist/ at another path is another module instance with its own
    // classes, as a second copy in node_modules would be (it resolves core
    // and ioredis from this package's node_modules).
    const copy = await mkdtemp(join(PACKAGE, '.copy-'));
    try {
      await cp(join(PACKAGE, 'dist'), copy, { recursive: true });
      const first = await import(
        /* @vite-ignore */ pathToFileURL(join(PACKAGE, 'dist', 'index.js')).href
      );
      const second = await import(/* @vite-ignore */ pathToFileURL(join(copy, 'index.js')).href);
      expect(second.RedisStorage).not.toBe(first.RedisStorage);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
    for (const scheme of ['redis', 'rediss', 'REDIS']) {
      const s = await StorageFactory.fromUri(`${scheme}://127.0.0.1:1?key=k`);
      expect(s.constructor.name).toBe('RedisStorage');
      await s.close();
    }
  });

  it('another backend claiming redis:// still fails loudly', () => {
    expect(() =>
      registerBackend({
        name: 'yoink-storage-not-redis',
        schemes: ['redis'],
        create: () => new MemoryStorage('memory://x'),
      }),
    ).toThrow(SchemeAlreadyRegisteredError);
  });

  it('a misspelled option is an InvalidOptionError with did-you-mean, through fromUri and the constructor', async () => {
    const uri = redis.keyUri('yoink:typo');
    const viaFactory = await failureOf(
      StorageFactory.fromUri(uri, { leaseMS: 100 } as Record<string, unknown>),
    );
    const viaConstructor = await failureOf(
      (async () => new RedisStorage(uri, { leaseMS: 100 } as never))(),
    );
    for (const err of [viaFactory, viaConstructor]) {
      expect(InvalidOptionError.isInstance(err)).toBe(true);
      expect(String((err as Error).message)).toContain('Did you mean "leaseMs"?');
      expect((err as InvalidOptionError).option).toBe('leaseMS');
    }
    const viaUri = await failureOf(StorageFactory.fromUri(`${uri}&leaseMS=100`));
    expect(InvalidUriError.isInstance(viaUri)).toBe(true);
    expect(String((viaUri as Error).message)).toContain('Did you mean "leaseMs"?');
  });

  it('fromUri(uri, options) and new RedisStorage(uri, options) are the same thing, a client passed in included', async () => {
    const client = new Redis({ port: redis.port });
    try {
      const a = await StorageFactory.fromUri('redis://?key=yoink:same', { client });
      const b = new RedisStorage('redis://?key=yoink:same', { client });
      expect(a).toBeInstanceOf(RedisStorage);
      expect((a as RedisStorage).client).toBe(client);
      expect(b.client).toBe(client);
      await a.write('from the factory\n');
      await a.close();
      expect(await b.exists()).toBe(true);
      await b.close();
      expect(client.status).toBe('ready');
    } finally {
      await client.quit();
    }
  });
});
