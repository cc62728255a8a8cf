import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { collectLines } from '@yoink/storage-testkit';
import { type RedisTestServer, startRedis } from '@yoink/test-servers/redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { checkpointKeys } from '../src/keys.js';
import { RedisStorage, type RedisStorageOptions } from '../src/redis-storage.js';
import { expectCode, failureOf, jsonLines, until } from './helpers.js';

const DATA_LOST = 'ERR_YOINK_DATA_LOST';
const READ_RSS = fileURLToPath(new URL('./fixtures/read-rss.mjs', import.meta.url));
const run = promisify(execFile);
const DATA_LOST_CLOSE = fileURLToPath(new URL('./fixtures/data-lost-close.mjs', import.meta.url));

let redis: RedisTestServer;
let admin: Redis;
const opened: RedisStorage[] = [];
let keyN = 0;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis({ port: redis.port, maxRetriesPerRequest: 1 });
}, 30_000);

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

function freshKey(label: string): string {
  keyN += 1;
  return `yoink:read:${label}:${keyN}`;
}

function open(key: string, options?: RedisStorageOptions): RedisStorage {
  const s = new RedisStorage(redis.keyUri(key), options);
  opened.push(s);
  return s;
}

async function connectedClients(): Promise<number> {
  const info = await admin.info('clients');
  return Number(/connected_clients:(\d+)/.exec(info)?.[1]);
}

/** Writes `lines` with one flush per `per` lines. */
async function writeAll(key: string, lines: string[], per: number): Promise<void> {
  const w = open(key);
  for (let i = 0; i < lines.length; i += per) {
    await w.write(`${lines.slice(i, i + per).join('\n')}\n`);
    await w.flush();
  }
  await w.close();
}

/** Reads `n` lines of `it`, failing if it ends first. */
async function take(it: AsyncIterator<string>, n: number, into: string[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done) throw new Error(`the read ended after ${into.length} lines`);
    into.push(r.value);
  }
}

/** Reads `it` to its end (or its error). */
async function drain(it: AsyncIterator<string>, into: string[]): Promise<void> {
  for (let r = await it.next(); !r.done; r = await it.next()) into.push(r.value);
}

describe('RedisStorage reads', () => {
  it('read() and exists() after close() open their own connection and quit it when done, also when the caller stops early', async () => {
    const key = freshKey('after-close');
    const lines = jsonLines(50);
    const s = open(key);
    await s.write(`${lines.join('\n')}\n`);
    await s.close();
    await until('the writer’s client is quit', () => s.client.status === 'end');
    const before = await connectedClients();

    expect(await collectLines(s.read())).toEqual(lines);
    expect(await s.exists()).toBe(true);
    for await (const line of s.read()) {
      expect(line).toBe(lines[0]);
      break;
    }
    await until(
      'the read connections are closed',
      async () => (await connectedClients()) === before,
    );
    // Writing stays refused after close().
    await expect(s.write('x\n')).rejects.toMatchObject({ code: 'ERR_YOINK_STORAGE_CLOSED' });
  });

  it('a read running while close() happens keeps its connection until it ends', async () => {
    const key = freshKey('during-close');
    const lines = jsonLines(300);
    await writeAll(key, lines, 10);
    const s = open(key, { readPageBytes: 1 });
    const it = s.read()[Symbol.asyncIterator]();
    const got: string[] = [];
    await take(it, 50, got);
    await s.close();
    await drain(it, got);
    expect(got).toEqual(lines);
    await until('the client is quit', () => s.client.status === 'end');
  });

  it('a read fails with CheckpointDataLostError when the stream is deleted mid-read', async () => {
    const key = freshKey('deleted');
    const lines = jsonLines(300);
    await writeAll(key, lines, 10);
    const it = open(key, { readPageBytes: 1 }).read()[Symbol.asyncIterator]();
    const got: string[] = [];
    await take(it, 200, got);
    await admin.del(key);
    const message = expectCode(await failureOf(drain(it, got)), DATA_LOST);
    expect(message).toContain(key);
    expect(message).toContain('do not treat this read as complete');
    expect(got).toEqual(lines.slice(0, got.length));
  });

  it('a read fails with CheckpointDataLostError, without yielding a line of the new checkpoint, when the checkpoint is deleted and written anew mid-read', async () => {
    const key = freshKey('recreated');
    const old = jsonLines(300, 'old');
    await writeAll(key, old, 10);
    const it = open(key, { readPageBytes: 1 }).read()[Symbol.asyncIterator]();
    const got: string[] = [];
    await take(it, 100, got);
    // Start over (as the README says), with more flushes than the old one had:
    // the new stream's IDs cover the whole range the read has left.
    await admin.del(...Object.values(checkpointKeys(key)));
    await writeAll(key, jsonLines(600, 'new'), 10);
    expectCode(await failureOf(drain(it, got)), DATA_LOST);
    expect(got.every((l) => l.startsWith('{"old"'))).toBe(true);
    expect(got).toEqual(old.slice(0, got.length));
  });

  it('a read of a checkpoint whose stream is gone but whose fence says it was written fails with CheckpointDataLostError', async () => {
    const key = freshKey('stream-gone');
    await writeAll(key, jsonLines(10), 5);
    await admin.del(key);
    expectCode(await failureOf(collectLines(open(key).read())), DATA_LOST);
    // A writer is refused too, and nothing is recreated.
    expectCode(await failureOf(open(key).write('x\n')), DATA_LOST);
    expect(await admin.exists(key)).toBe(0);
  });

  it('a read of a checkpoint that was never written yields nothing, also after a writer opened it', async () => {
    const key = freshKey('empty');
    expect(await collectLines(open(key).read())).toEqual([]);
    const w = open(key);
    await w.write('');
    await w.write('x'); // opens (lease, fence) without flushing
    expect(await collectLines(open(key).read())).toEqual([]);
  });

  it('close() after CheckpointDataLostError releases the client (the process exits on its own) and reports the bytes not persisted', async () => {
    const key = freshKey('lost-close');
    const { data, meta, lease } = checkpointKeys(key);
    const child = spawn(process.execPath, [DATA_LOST_CLOSE, redis.keyUri(key), data, meta, lease], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    // The child never calls process.exit(): it ends when nothing keeps it alive.
    const [code] = (await once(child, 'exit')) as [number | null];
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const result = JSON.parse(out.trim()) as {
      flushed: { code: string; message: string };
      buffered: number;
      closed: { code: string; message: string };
      closedState: boolean;
    };
    expect(result.flushed.code).toBe(DATA_LOST);
    expect(result.buffered).toBe('{"lost":2}\n'.length);
    expect(result.closed.code).toBe(DATA_LOST);
    expect(result.closed.message).toContain(
      `was closed without persisting its last ${'{"lost":2}\n'.length} buffered bytes`,
    );
    expect(result.closedState).toBe(true);
  });

  it('reading a 150 MB checkpoint grows peak RSS by less than 64 MB', {
    timeout: 120_000,
  }, async () => {
    const key = freshKey('rss');
    const w = open(key);
    const line = `{"url":"https://example.com/","body":"${'x'.repeat(260)}"}\n`;
    const batch = line.repeat(1_000);
    const flushes = Math.ceil(150e6 / batch.length);
    for (let i = 0; i < flushes; i++) {
      await w.write(batch);
      await w.flush();
    }
    await w.close();
    const { stdout } = await run(process.execPath, [READ_RSS, redis.keyUri(key)]);
    const { lines, growth } = JSON.parse(stdout) as { lines: number; growth: number };
    expect(lines).toBe(flushes * 1_000);
    expect(growth).toBeLessThan(64 * 1024 * 1024);
    await admin.del(...Object.values(checkpointKeys(key)));
  });
});
