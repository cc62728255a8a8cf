import { StorageError } from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { type RedisTestServer, startRedisTls } from '@yoink/test-servers/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStorage } from '../src/redis-storage.js';

let redis: RedisTestServer & { readonly ca: string };

beforeAll(async () => {
  redis = await startRedisTls();
}, 30_000);

afterAll(async () => {
  await redis?.stop();
});

describe('RedisStorage over TLS (rediss://)', () => {
  it('writes and reads through rediss:// with the test CA passed in options', async () => {
    expect(redis.url.startsWith('rediss://')).toBe(true);
    const w = new RedisStorage(redis.keyUri('yoink:tls'), { tls: { ca: redis.ca } });
    for (let i = 0; i < 100; i++) await w.write(`{"i":${i}}\n`);
    await w.close();
    const r = new RedisStorage(redis.keyUri('yoink:tls'), { tls: { ca: redis.ca } });
    const lines = await collectLines(r.read());
    expect(lines).toHaveLength(100);
    expect(lines[99]).toBe('{"i":99}');
    expect(await r.exists()).toBe(true);
    await r.close();
  });

  it('refuses a server certificate it cannot verify (no CA given) with a StorageError', async () => {
    const s = new RedisStorage(redis.keyUri('yoink:tls-untrusted'), { flushTimeoutMs: 1_500 });
    const err = await s.exists().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(StorageError.isInstance(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/certificate|self.signed|verify/i);
    await s.close();
  });
});
