import { InvalidOptionError, type StorageError, StoragePermissionError } from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import {
  type RedisServerOptions,
  type RedisTestServer,
  startRedis,
} from '@yoink/test-servers/redis';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EvictionPolicyError } from '../src/redis-errors.js';
import { RedisStorage, type RedisStorageOptions } from '../src/redis-storage.js';
import { expectCode, failureOf, jsonLines, until } from './helpers.js';

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
 * stream, then lifts the memory limit so that nothing else is evicted. (Redis
 * may evict the meta hash too: its LRU clock ticks once a second, so keys
 * written in the same second are equally old.)
 */
async function evictStream(admin: Redis, key: string): Promise<void> {
  for (let i = 0; (await admin.exists(key)) === 1; i++) {
    if (i > 5_000) throw new Error(`Redis did not evict ${key}`);
    await admin.set(`filler:${i}`, 'f'.repeat(10_000));
  }
  await admin.config('SET', 'maxmemory', '0');
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

  it('with allowEviction: true, a stream evicted under the writer fails its next flush with CheckpointDataLostError (not ConcurrentWriterError), keeps the data and recreates nothing', {
    timeout: 30_000,
  }, async () => {
    const { redis, admin } = await server(EVICTING);
    const uri = redis.keyUri('yoink:evicted');
    const w = open(uri, { allowEviction: true } as RedisStorageOptions);
    await writeFlushed(w, jsonLines(2_010), 201);
    await evictStream(admin, 'yoink:evicted');

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
    // Nothing was recreated behind a reader's back.
    expect(await admin.exists('yoink:evicted')).toBe(0);
  });
});

describe('RedisStorage on a full server (maxmemory reached under noeviction)', () => {
  it('a flush refused with OOM is a StorageError (not retryable) naming the fix; the data stays buffered and is delivered once memory is freed', {
    timeout: 30_000,
  }, async () => {
    const { redis, admin } = await server({
      args: ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction'],
    });
    const uri = redis.keyUri('yoink:full');
    const w = open(uri);
    const lines: string[] = [];
    let err: unknown;
    for (let i = 0; i < 200 && err === undefined; i++) {
      const batch = jsonLines(1_000, `f${i}`).map((l) => `${l}${'x'.repeat(200)}`);
      await w.write(`${batch.join('\n')}\n`);
      err = await w.flush().then(
        () => {
          lines.push(...batch);
          return undefined;
        },
        (e: unknown) => {
          lines.push(...batch);
          return e;
        },
      );
    }
    const message = expectCode(err, 'ERR_YOINK_STORAGE');
    expect((err as StorageError).retryable).toBe(false);
    expect(message).toContain('out of memory');
    expect(message).toContain('maxmemory');
    expect(message).toContain('Nothing was appended');
    expect(w.bufferedBytes).toBeGreaterThan(0);
    // The operator frees memory: the next flush delivers the kept data, once.
    await admin.config('SET', 'maxmemory', '0');
    await w.close();
    expect(await collectLines(open(uri).read())).toEqual(lines);
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

describe('RedisStorage and the server’s maxmemory-policy', () => {
  it('refuses volatile-* policies too (they may evict the writer lease), and lets the same writer in once the policy is noeviction', async () => {
    const { redis, admin } = await server({ args: ['--maxmemory-policy', 'volatile-lru'] });
    const uri = redis.keyUri('yoink:volatile');
    const w = open(uri);
    const err = await failureOf(w.write('{"l":0}\n'));
    expect(EvictionPolicyError.isInstance(err)).toBe(true);
    expect(err).toMatchObject({ policy: 'volatile-lru', node: `127.0.0.1:${redis.port}` });
    expect(expectCode(err, EVICTION_POLICY)).toContain('writer lease');
    // A refusal is not cached: fixing the server is enough.
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await w.write('{"l":0}\n');
    await w.close();
    expect(await collectLines(open(uri).read())).toEqual(['{"l":0}']);
  });

  it('allowEviction=true in the URI works like the option, and readers are never refused', async () => {
    const { redis } = await server(EVICTING);
    const uri = `${redis.keyUri('yoink:opt-out')}&allowEviction=true`;
    const w = open(uri);
    await w.write('{"l":0}\n');
    await w.close();
    const reader = open(redis.keyUri('yoink:opt-out'));
    expect(await reader.exists()).toBe(true);
    expect(await collectLines(reader.read())).toEqual(['{"l":0}']);
    expect(() => open(uri, { allowEviction: false })).toThrow(InvalidOptionError);
  });

  it('an ACL user who may not run INFO gets StoragePermissionError naming INFO; with allowEviction: true the check is skipped', async () => {
    const password = 'no-info-Pa55';
    const { redis } = await server({
      aclUsers: [{ name: 'noinfo', password, rules: ['~*', '&*', '+@all', '-info'] }],
    });
    const uri = `redis://noinfo:${password}@127.0.0.1:${redis.port}?key=yoink:no-info`;
    const err = await failureOf(open(uri).write('x\n'));
    expect(StoragePermissionError.isInstance(err)).toBe(true);
    expect(String((err as Error).message)).toContain('INFO');
    expect(String((err as Error).message)).not.toContain(password);
    const w = open(`${uri}&allowEviction=true`);
    await w.write('x\n');
    await w.close();
    expect(await collectLines(open(uri).read())).toEqual(['x']);
  });
});

describe('RedisStorage and the server’s persistence', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => {
    if ((w as Error & { code?: string }).code === 'YOINK_REDIS_NO_PERSISTENCE') warnings.push(w);
  };
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });

  it('warns once per server (YOINK_REDIS_NO_PERSISTENCE) when it has neither AOF nor RDB save points', async () => {
    const { redis } = await server({ save: '' });
    const first = open(redis.keyUri('yoink:volatile-1'));
    await first.write('a\n');
    await until('the warning', () => warnings.length > 0);
    expect(warnings).toHaveLength(1);
    const message = warnings[0]?.message ?? '';
    expect(message).toContain(`127.0.0.1:${redis.port}`);
    expect(message).toContain('neither AOF');
    expect(message).toContain('CONFIG SET appendonly yes');
    // Another writer on the same server, in the same process: no second warning.
    const second = open(redis.keyUri('yoink:volatile-2'));
    await second.write('b\n');
    await second.flush();
    await tick();
    expect(warnings).toHaveLength(1);
  });

  it('does not warn for a server with AOF, or with RDB save points', async () => {
    const aof = await server({ save: '', appendonly: true });
    const rdb = await server({ save: '3600 1' });
    for (const { redis } of [aof, rdb]) {
      const w = open(redis.keyUri('yoink:persistent'));
      await w.write('a\n');
      await w.flush();
    }
    await tick();
    expect(warnings).toEqual([]);
  });
});
