import { inspect } from 'node:util';
import {
  ConcurrentWriterError,
  InvalidOptionError,
  InvalidUriError,
  StorageError,
  StorageFactory,
  StoragePermissionError,
  StorageUnavailableError,
} from '@yoink/storage-core';
import { collectLines, freePort } from '@yoink/storage-testkit';
import { TcpFaultProxy } from '@yoink/test-servers/proxies';
import { type RedisTestServer, startRedis } from '@yoink/test-servers/redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import '../src/index.js';
import { RedisStorage, type RedisStorageOptions } from '../src/redis-storage.js';
import { failureOf, until } from './helpers.js';

const PASSWORD = 'pw-Zq8#hunter2-never-log';
const ALICE_PASSWORD = 'alice-S3cr3t-pass';

let plain: RedisTestServer;
let secured: RedisTestServer;
const opened: RedisStorage[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  [plain, secured] = await Promise.all([
    startRedis(),
    startRedis({
      password: PASSWORD,
      aclUsers: [
        { name: 'alice', password: ALICE_PASSWORD },
        { name: 'reader', password: ALICE_PASSWORD, rules: ['~other:*', '+@all'] },
      ],
    }),
  ]);
}, 30_000);

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
  for (const c of cleanups.splice(0)) await c().catch(() => {});
});

afterAll(async () => {
  await Promise.all([plain?.stop(), secured?.stop()]);
});

function open(uri: string, options?: RedisStorageOptions): RedisStorage {
  const s = new RedisStorage(uri, options);
  opened.push(s);
  return s;
}

async function readAll(uri: string): Promise<string[]> {
  return collectLines(open(uri).read());
}

function expectNoSecret(err: unknown, secret: string): void {
  const texts = [
    String((err as Error).message),
    String((err as Error).stack),
    JSON.stringify(err),
    inspect(err, { depth: 10, showHidden: true }),
    String((err as { cause?: unknown }).cause),
    inspect((err as { cause?: unknown }).cause, { depth: 10, showHidden: true }),
  ];
  for (const t of texts) expect(t).not.toContain(secret);
}

const expected = (n: number, tag = 'l'): string[] =>
  Array.from({ length: n }, (_, i) => `{"${tag}":${i}}`);

describe('RedisStorage faults', () => {
  it('every line is present once, in order, after Redis (AOF on) is killed and restarted mid-crawl', {
    timeout: 60_000,
  }, async () => {
    // appendfsync always: with everysec, Redis may answer before writing the
    // AOF while a slow fsync runs, and a SIGKILL then loses acknowledged writes.
    const redis = await startRedis({ appendonly: true, args: ['--appendfsync', 'always'] });
    cleanups.push(() => redis.stop());
    const uri = redis.keyUri('yoink:restart');
    const writer = open(uri, { flushTimeoutMs: 500 });
    let written = 0;
    let flushed = 0;
    let failures = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        await writer.write(`{"l":${written}}\n`);
        written += 1;
        if (written % 10 === 0) {
          try {
            await writer.flush();
            flushed = written;
          } catch (e) {
            if (!StorageError.isInstance(e)) throw e;
            failures += 1;
          }
        }
      }
    })();
    // Kill it mid-crawl (SIGKILL: no shutdown, in-flight commands are lost or
    // applied without reply), wait until the writer has seen a flush fail,
    // bring it back, and let the writer carry on.
    await until('200 lines flushed', () => flushed >= 200);
    await redis.kill();
    await until('a flush that failed while Redis was down', () => failures >= 1);
    await redis.restart();
    const resumedAt = written;
    await until('200 more lines flushed after the restart', () => flushed >= resumedAt + 200);
    // A clean restart (SIGTERM) while writing too.
    await redis.restart();
    const secondAt = written;
    await until('200 more lines after the second restart', () => flushed >= secondAt + 200);
    stop = true;
    await loop;
    await writer.close();
    expect(failures).toBeGreaterThanOrEqual(1);
    const lines = await readAll(uri);
    expect(lines.length).toBe(written);
    expect(lines).toEqual(expected(written));
  });

  it('a flush whose reply is lost after Redis applied it is re-sent by ioredis and not appended twice', async () => {
    const proxy = await TcpFaultProxy.start(plain.port);
    cleanups.push(() => proxy.stop());
    const uri = `redis://127.0.0.1:${proxy.port}?key=yoink:lost-reply`;
    const w = open(uri);
    await w.write('{"l":0}\n');
    await w.flush();
    proxy.arm(/eval/i);
    await w.write('{"l":1}\n{"l":2}\n');
    await w.flush();
    expect(proxy.dropped).toBe(1);
    expect(proxy.connections).toBeGreaterThanOrEqual(2);
    await w.write('{"l":3}\n');
    await w.close();
    expect(await readAll(plain.keyUri('yoink:lost-reply'))).toEqual(expected(4));
  });

  it('the same lost reply doubles an unguarded RPUSH (the hazard the fence removes)', async () => {
    const proxy = await TcpFaultProxy.start(plain.port);
    cleanups.push(() => proxy.stop());
    const client = new Redis({ port: proxy.port, lazyConnect: true, maxRetriesPerRequest: 1 });
    cleanups.push(async () => client.disconnect());
    client.on('error', () => {});
    await client.connect();
    proxy.arm(/rpush/i);
    await client.rpush('yoink:unguarded', 'line');
    expect(proxy.dropped).toBe(1);
    expect(await client.llen('yoink:unguarded')).toBe(2);
  });

  it('a flush that timed out after Redis applied it is delivered once by the next flush, with new data', async () => {
    const proxy = await TcpFaultProxy.start(plain.port);
    cleanups.push(() => proxy.stop());
    const uri = `redis://127.0.0.1:${proxy.port}?key=yoink:in-doubt`;
    const w = open(uri, { flushTimeoutMs: 400 });
    await w.write('{"l":0}\n');
    await w.flush();
    // The reply is lost and Redis stays unreachable: the flush gives up, its
    // outcome unknown to the writer (in fact applied).
    proxy.refuse = true;
    proxy.arm(/eval/i);
    await w.write('{"l":1}\n');
    const err = await failureOf(w.flush());
    expect(StorageError.isInstance(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/did not complete flush within 400 ms/);
    expect(proxy.dropped).toBe(1);
    expect(w.bufferedBytes).toBeGreaterThan(0);
    await w.write('{"l":2}\n');
    proxy.refuse = false;
    // ioredis reconnects on its own backoff (up to 1 s); wait for it rather
    // than for a flush that may give up first (flushTimeoutMs is 400 ms here).
    await until('the client reconnected', () => w.client.status === 'ready');
    await w.flush();
    await w.close();
    expect(await readAll(plain.keyUri('yoink:in-doubt'))).toEqual(expected(3));
  });

  it('a flush split into several calls resumes at the first unconfirmed call, exactly once', async () => {
    const proxy = await TcpFaultProxy.start(plain.port);
    cleanups.push(() => proxy.stop());
    const uri = `redis://127.0.0.1:${proxy.port}?key=yoink:split`;
    // 64 KiB calls: each half (~240 KB of lines) goes out as ~11 fenced calls.
    const w = open(uri, { flushTimeoutMs: 400, maxCallBytes: 64 * 1024 });
    const lines = expected(40_000);
    await w.write(`${lines.slice(0, 20_000).join('\n')}\n`);
    await w.flush();
    // Lose the reply of the third call of the next flush, and keep Redis
    // unreachable until that flush gives up.
    proxy.refuse = true;
    proxy.arm(/eval/i, 2);
    await w.write(`${lines.slice(20_000).join('\n')}\n`);
    const err = await failureOf(w.flush());
    expect(StorageError.isInstance(err)).toBe(true);
    expect(proxy.dropped).toBe(1);
    proxy.refuse = false;
    await until('the client reconnected', () => w.client.status === 'ready');
    await w.close();
    const back = await readAll(plain.keyUri('yoink:split'));
    expect(back.length).toBe(lines.length);
    expect(back).toEqual(lines);
    expect(await plain.command('XLEN', 'yoink:split')).toBeGreaterThan(20);
  });

  it('a second writer on one key is refused with ConcurrentWriterError; the first keeps writing', async () => {
    const uri = plain.keyUri('yoink:two-writers');
    const a = open(uri);
    const b = open(uri);
    await a.write('a1\n');
    await a.flush();
    const err = await failureOf(b.write('b1\n'));
    expect(ConcurrentWriterError.isInstance(err)).toBe(true);
    expect(String((err as Error).message)).toContain('yoink:two-writers');
    expect(String((err as Error).message)).toContain(`pid ${process.pid}`);
    expect(b.bufferedBytes).toBe(0);
    await a.write('a2\n');
    await a.close();
    expect(await readAll(uri)).toEqual(['a1', 'a2']);
  });

  it('a flush refused because the fence hash was changed by hand appends nothing and keeps its data', async () => {
    const uri = plain.keyUri('yoink:tampered');
    const w = open(uri);
    await w.write('a\n');
    await w.flush();
    // Someone rewinds the flush sequence: the next flush no longer follows it.
    await plain.command('HSET', '{yoink:tampered}:meta', 'seq', '0', 'part', '0');
    await w.write('b\n');
    const err = await failureOf(w.flush());
    expect(StorageError.isInstance(err)).toBe(true);
    expect(ConcurrentWriterError.isInstance(err)).toBe(false);
    expect(String((err as Error).message)).toMatch(
      /was changed by someone else. Nothing was appended/,
    );
    expect(w.bufferedBytes).toBe(2);
    expect(await readAll(uri)).toEqual(['a']);
  });

  it('with nothing listening on the port, the open, exists() and read() end in StorageUnavailableError (retryable)', async () => {
    const port = await freePort();
    const s = open(`redis://127.0.0.1:${port}?key=yoink:nowhere`, { flushTimeoutMs: 300 });
    for (const err of [
      await failureOf(s.write('x\n')),
      await failureOf(s.exists()),
      await failureOf(collectLines(s.read())),
    ]) {
      expect(StorageUnavailableError.isInstance(err)).toBe(true);
      expect((err as StorageError).retryable).toBe(true);
      expect((err as StorageError).code).toBe('ERR_YOINK_UNAVAILABLE');
      expect(String((err as Error).message)).toMatch(/did not complete .* within 300 ms/);
      expect(String((err as Error).message)).toContain('ECONNREFUSED');
    }
  });

  it('a flush while nothing listens on the port ends in StorageUnavailableError, keeps the data, and a later flush delivers it once Redis listens there again', {
    timeout: 30_000,
  }, async () => {
    const redis = await startRedis({ appendonly: true, args: ['--appendfsync', 'always'] });
    cleanups.push(() => redis.stop());
    const uri = redis.keyUri('yoink:come-back');
    const w = open(uri, { flushTimeoutMs: 1_000 });
    await w.write('{"l":0}\n');
    await w.flush();
    await redis.kill();
    await w.write('{"l":1}\n{"l":2}\n');
    const err = await failureOf(w.flush());
    expect(StorageUnavailableError.isInstance(err)).toBe(true);
    expect((err as StorageError).retryable).toBe(true);
    expect(String((err as Error).message)).toContain('ECONNREFUSED');
    expect(String((err as Error).message)).toContain('The unflushed data is kept');
    expect(w.bufferedBytes).toBe('{"l":1}\n{"l":2}\n'.length);
    await redis.restart();
    await until('the client reconnected', () => w.client.status === 'ready');
    await w.flush();
    await w.close();
    expect(await readAll(uri)).toEqual(expected(3));
  });

  it('a wrong password is a StoragePermissionError that never contains the password', async () => {
    const wrong = 'wrong-Pa55word-xyz';
    const s = open(`redis://:${wrong}@127.0.0.1:${secured.port}/0?key=yoink:auth`);
    await s.write('x\n').catch(() => {});
    const err = await failureOf(s.flush().then(() => s.write('y\n')));
    expect(StoragePermissionError.isInstance(err)).toBe(true);
    expect((err as StorageError).retryable).toBe(false);
    expect(String((err as Error).message)).toMatch(/refused the credentials/);
    expect(String((err as Error).message)).toContain('redis://:***@');
    expectNoSecret(err, wrong);
  });

  it('a wrong ACL user or password is a StoragePermissionError that never contains the password', async () => {
    for (const user of ['alice', 'mallory']) {
      const wrong = `${user}-not-the-Password`;
      const s = open(`redis://${user}:${wrong}@127.0.0.1:${secured.port}?key=yoink:acl`);
      const err = await failureOf(s.exists());
      expect(StoragePermissionError.isInstance(err)).toBe(true);
      expect(String((err as Error).message)).toMatch(/WRONGPASS/);
      expect(String((err as Error).message)).toContain(`redis://${user}:***@`);
      expectNoSecret(err, wrong);
    }
    // The right ACL user works, and its password is not in errors either.
    const ok = open(`redis://alice:${ALICE_PASSWORD}@127.0.0.1:${secured.port}?key=yoink:acl`);
    await ok.write('fine\n');
    await ok.flush();
    expect(await collectLines(ok.read())).toEqual(['fine']);
  });

  it('an ACL user without permission on the key gets StoragePermissionError naming the commands and keys needed', async () => {
    const s = open(`redis://reader:${ALICE_PASSWORD}@127.0.0.1:${secured.port}?key=yoink:denied`);
    for (const err of [await failureOf(s.write('x\n')), await failureOf(collectLines(s.read()))]) {
      expect(StoragePermissionError.isInstance(err)).toBe(true);
      expect((err as StorageError).code).toBe('ERR_YOINK_PERMISSION');
      const message = String((err as Error).message);
      expect(message).toMatch(/NOPERM/);
      expect(message).toContain('XADD');
      expect(message).toContain('XRANGE');
      expect(message).toContain(
        '"yoink:denied", "{yoink:denied}:meta" and "{yoink:denied}:writer"',
      );
      expectNoSecret(err, ALICE_PASSWORD);
    }
  });

  it('a key holding another type is a StorageError naming the key and its type', async () => {
    await plain.command('RPUSH', 'yoink:a-list', 'seed-line');
    const uri = plain.keyUri('yoink:a-list');
    const s = open(uri);
    const writeErr = await failureOf(s.write('x\n'));
    expect(StorageError.isInstance(writeErr)).toBe(true);
    expect(String((writeErr as Error).message)).toContain('"yoink:a-list"');
    expect(String((writeErr as Error).message)).toContain('holds a list');
    const readErr = await failureOf(collectLines(s.read()));
    expect(String((readErr as Error).message)).toContain('"yoink:a-list" at');
    expect(String((readErr as Error).message)).toContain('holds a list');
  });

  it('bad URIs fail at construction with InvalidUriError, bad option values with InvalidOptionError', () => {
    for (const uri of [
      `redis://127.0.0.1:${plain.port}`,
      `redis://127.0.0.1:${plain.port}/x?key=k`,
      'redis://127.0.0.1:99999?key=k',
      `redis://127.0.0.1:${plain.port}?key=k&color=blue`,
    ]) {
      expect(() => new RedisStorage(uri), uri).toThrow(InvalidUriError);
    }
    expect(() => new RedisStorage(plain.keyUri('a}b'))).toThrow(InvalidUriError);
    expect(() => new RedisStorage(plain.keyUri('k'), { flushTimeoutMs: -1 })).toThrow(
      InvalidOptionError,
    );
  });

  it('a client passed in is used and left open by close()', async () => {
    const client = new Redis({ port: plain.port });
    cleanups.push(() => client.quit());
    const s = open('redis://?key=yoink:caller-client', { client });
    await s.write('x\n');
    await s.close();
    expect(client.status).toBe('ready');
    expect(await client.xlen('yoink:caller-client')).toBe(1);
    expect(s.uri).toBe('redis://?key=yoink:caller-client');
  });

  it('StorageFactory resolves redis:// and rediss:// to RedisStorage', async () => {
    const s = await StorageFactory.fromUri(plain.keyUri('yoink:factory'));
    expect(s).toBeInstanceOf(RedisStorage);
    await s.write('via factory\n');
    await s.close();
    expect(await readAll(plain.keyUri('yoink:factory'))).toEqual(['via factory']);
    const tls = await StorageFactory.fromUri('rediss://127.0.0.1:1?key=k');
    expect(tls).toBeInstanceOf(RedisStorage);
    await tls.close();
  });

  it('keeps the layout documented for operators: a stream at the key, a fence hash, a lease while writing', async () => {
    const uri = plain.keyUri('yoink:layout');
    const s = open(uri);
    await s.write('a\nb\n');
    await s.flush();
    expect(await plain.command('TYPE', '{yoink:layout}:writer')).toBe('string');
    const lease = String(await plain.command('GET', '{yoink:layout}:writer'));
    expect(lease).toContain(`"pid":${process.pid}`);
    expect(lease).toContain('"since":');
    expect(lease).toContain('"host":');
    expect(await plain.command('PTTL', '{yoink:layout}:writer')).toBeGreaterThan(0);
    await s.write('c\n');
    await s.close();
    expect(await plain.command('EXISTS', '{yoink:layout}:writer')).toBe(0);
    expect(await plain.command('TYPE', 'yoink:layout')).toBe('stream');
    const range = (await plain.command('XRANGE', 'yoink:layout', '-', '+')) as [string, string[]][];
    // The open reserved sequence 1 as its fence: the flushes are 2 and 3.
    expect(range.map(([id]) => id)).toEqual(expect.arrayContaining(['2-0', '3-0']));
    expect(range.flatMap(([, fields]) => fields)).toContain('a\nb\n');
    const meta = await plain.command('HGETALL', '{yoink:layout}:meta');
    expect(meta).toContain('owner');
    expect(meta).toContain('seq');
  });
});
