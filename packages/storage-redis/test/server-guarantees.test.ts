import { collectLines } from '@yoink/storage-testkit';
import {
  type RedisServerOptions,
  type RedisTestServer,
  startRedis,
} from '@yoink/test-servers/redis';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisStorage, type RedisStorageOptions } from '../src/redis-storage.js';
import { expectCode, failureOf, jsonLines } from './helpers.js';

const DATA_LOST = 'ERR_YOINK_DATA_LOST';
const EVICTION_POLICY = 'ERR_YOINK_EVICTION_POLICY';
const CONCURRENT_WRITER = 'ERR_YOINK_CONCURRENT_WRITER';

const opened: RedisStorage[] = [];
const cleanups: (() => Promise<unknown> | unknown)[] = [];

afterEach(async () => {
  for (const s of opened.splice(0)) {
    await s.close().catch(() => {});
    // A writer whose data was lost cannot close cleanly (its data stays
    // buffered): drop its connection so the test process does not keep it.
    s.client.disconnect();
  }
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(
  options: RedisServerOptions,
): Promise<{ redis: RedisTestServer; admin: Redis }> {
  const redis = await startRedis(options);
  const admin = new Redis({ port: redis.port, maxRetriesPerRequest: 1 });
  admin.on('error', () => {});
  cleanups.push(
    () => redis.stop(),
    () => admin.disconnect(),
  );
  return { redis, admin };
}

function open(uri: string, options?: RedisStorageOptions): RedisStorage {
  const s = new RedisStorage(uri, options);
  opened.push(s);
  return s;
}

/** Writes `lines` as `flushes` flushes (each acknowledged). */
async function writeFlushed(w: RedisStorage, lines: string[], flushes: number): Promise<void> {
  const per = Math.ceil(lines.length / flushes);
  for (let i = 0; i < lines.length; i += per) {
    await w.write(`${lines.slice(i, i + per).join('\n')}\n`);
    await w.flush();
  }
}

const EVICTING: RedisServerOptions = {
  save: '',
  args: ['--maxmemory', '3mb', '--maxmemory-policy', 'allkeys-lru'],
};

/**
 * Fills the server with other keys until Redis evicts the checkpoint's
 * stream, reading the meta hash all along so that it stays recently used
 * (and is not evicted itself).
 */
async function evictStream(admin: Redis, key: string, meta: string): Promise<void> {
  for (let i = 0; (await admin.exists(key)) === 1; i++) {
    if (i > 5_000) throw new Error(`Redis did not evict ${key}`);
    await admin.hget(meta, 'seq');
    await admin.set(`filler:${i}`, 'f'.repeat(10_000));
  }
  expect(await admin.exists(meta)).toBe(1);
}

describe('RedisStorage on a server that can evict keys (maxmemory-policy allkeys-lru)', () => {
  it('refuses a writer with EvictionPolicyError before any line is acknowledged', async () => {
    const { redis, admin } = await server(EVICTING);
    const uri = redis.keyUri('yoink:lru');
    const w = open(uri);
    const message = expectCode(await failureOf(w.write('{"l":0}\n')), EVICTION_POLICY);
    expect(message).toContain('allkeys-lru');
    expect(message).toContain('CONFIG SET maxmemory-policy noeviction');
    expect(message).toContain('allowEviction: true');
    expect(message).toContain(`127.0.0.1:${redis.port}`);
    expect(w.bufferedBytes).toBe(0);
    expect(await admin.exists('yoink:lru', '{yoink:lru}:meta', '{yoink:lru}:writer')).toBe(0);
  });

  it('with allowEviction: true, a stream evicted under the writer fails its next flush with CheckpointDataLostError (not ConcurrentWriterError) and keeps the data; read() fails too', {
    timeout: 30_000,
  }, async () => {
    const { redis, admin } = await server(EVICTING);
    const uri = redis.keyUri('yoink:evicted');
    const w = open(uri, { allowEviction: true } as RedisStorageOptions);
    await writeFlushed(w, jsonLines(2_010), 201);
    await evictStream(admin, 'yoink:evicted', '{yoink:evicted}:meta');

    await w.write('{"after":1}\n');
    for (let attempt = 0; attempt < 2; attempt++) {
      const err = await failureOf(w.flush());
      expect((err as { code?: unknown }).code).not.toBe(CONCURRENT_WRITER);
      const message = expectCode(err, DATA_LOST);
      expect(message).toContain('yoink:evicted');
      expect(message).toMatch(/evict/);
      expect(message).toContain('it is not another writer');
      expect(message).not.toMatch(/another writer \(token|lost the Redis checkpoint/);
      expect(w.bufferedBytes).toBe('{"after":1}\n'.length);
    }
    // Nothing was recreated behind the reader's back.
    expect(await admin.exists('yoink:evicted')).toBe(0);
    expectCode(await failureOf(collectLines(open(uri).read())), DATA_LOST);
  });
});

describe('RedisStorage on a server without persistence (appendonly no, save "")', () => {
  it('a reader iterating across a restart that lost the data fails with CheckpointDataLostError instead of ending early', {
    timeout: 30_000,
  }, async () => {
    const { redis } = await server({ save: '' });
    const uri = redis.keyUri('yoink:restart-read');
    const w = open(uri);
    const lines = jsonLines(1_000);
    await writeFlushed(w, lines, 100);
    await w.close();
    // One entry per page after the first, so the read spans many round trips.
    const reader = open(uri, { readPageBytes: 1 });
    const it = reader.read()[Symbol.asyncIterator]();
    const got: string[] = [];
    while (got.length < 200) {
      const r = await it.next();
      if (r.done) throw new Error('the read ended before the restart');
      got.push(r.value);
    }
    await redis.restart();
    const err = await failureOf(
      (async () => {
        for (let r = await it.next(); !r.done; r = await it.next()) got.push(r.value);
      })(),
    );
    const message = expectCode(err, DATA_LOST);
    expect(message).toContain('yoink:restart-read');
    expect(got.length).toBeLessThan(lines.length);
    expect(got).toEqual(lines.slice(0, got.length));
  });

  it('after a restart that lost the data, the writer’s next flush fails with CheckpointDataLostError (not ConcurrentWriterError) and keeps its data', {
    timeout: 30_000,
  }, async () => {
    const { redis } = await server({ save: '' });
    const uri = redis.keyUri('yoink:restart-write');
    const w = open(uri);
    await writeFlushed(w, jsonLines(100), 10);
    await redis.restart();
    await w.write('{"after":1}\n');
    const err = await failureOf(w.flush());
    expect((err as { code?: unknown }).code).not.toBe(CONCURRENT_WRITER);
    const message = expectCode(err, DATA_LOST);
    expect(message).toMatch(/restart/);
    expect(message).toContain('it is not another writer');
    expect(message).not.toMatch(/another writer \(token|lost the Redis checkpoint/);
    expect(w.bufferedBytes).toBe('{"after":1}\n'.length);
  });
});
