import { type ChildProcess, spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ConcurrentWriterError, InvalidOptionError } from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { type RedisTestServer, startRedis } from '@yoink/test-servers/redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkpointKeys } from '../src/keys.js';
import { RedisStorage, type RedisStorageOptions } from '../src/redis-storage.js';
import { failureOf, until } from './helpers.js';

const CHILD_WRITER = fileURLToPath(new URL('./fixtures/lease-writer.mjs', import.meta.url));

let redis: RedisTestServer;
let admin: Redis;
const opened: RedisStorage[] = [];
const children: ChildProcess[] = [];
let keyN = 0;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis({ port: redis.port, maxRetriesPerRequest: 1 });
}, 30_000);

afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const s of opened.splice(0)) await s.close().catch(() => {});
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

function freshKey(label: string): string {
  keyN += 1;
  return `yoink:lease:${label}:${keyN}`;
}

function open(key: string, options?: RedisStorageOptions, query = ''): RedisStorage {
  const s = new RedisStorage(`${redis.keyUri(key)}${query}`, options);
  opened.push(s);
  return s;
}

function expectConcurrent(err: unknown): string {
  if (!ConcurrentWriterError.isInstance(err)) throw err;
  return String((err as Error).message);
}

/** Starts test/fixtures/lease-writer.mjs and waits until it holds the lease and flushed a line. */
async function startChildWriter(key: string, leaseMs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CHILD_WRITER, redis.keyUri(key), String(leaseMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(`exited (${code ?? signal})`)),
  );
  const ready = (async () => {
    for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
      if (line.startsWith('ready ')) return 'ready';
    }
    return 'closed its stdout';
  })();
  const timeout = new Promise<string>((resolve) => {
    setTimeout(() => resolve('not ready within 15 s'), 15_000).unref();
  });
  const outcome = await Promise.race([ready, exited, timeout]);
  if (outcome !== 'ready') {
    throw new Error(
      `the child writer ${outcome} (is dist/ built? pnpm --filter @yoink/storage-redis build): ${stderr}`,
    );
  }
  return child;
}

describe('RedisStorage writer lease', () => {
  it('a second writer is refused while the first holds the lease, and the first keeps writing', async () => {
    const key = freshKey('second');
    const first = open(key);
    await first.write('a1\n');
    await first.flush();

    const second = open(key);
    const message = expectConcurrent(await failureOf(second.write('b1\n')));
    // The message names the holder and says when its lease expires and how to take over.
    expect(message).toContain(key);
    expect(message).toContain(`host ${hostname()}`);
    expect(message).toContain(`pid ${process.pid}`);
    expect(message).toMatch(/writing since \d{4}-\d\d-\d\dT/);
    expect(message).toMatch(/expires in \d+ ms/);
    expect(message).toContain('takeover: true');
    expect(second.bufferedBytes).toBe(0);
    // Refused again on the next attempt, and the flush path refuses too.
    expectConcurrent(await failureOf(second.write('b2\n')));

    await first.write('a2\n');
    await first.flush();
    await first.write('a3\n');
    await first.close();
    expect(await collectLines(open(key).read())).toEqual(['a1', 'a2', 'a3']);
  });

  it('after the first writer closes, a second writer starts at once', async () => {
    const key = freshKey('clean-restart');
    const { lease } = checkpointKeys(key);
    const first = open(key);
    const second = open(key);
    await first.write('a1\n');
    await first.flush();
    expect(await admin.exists(lease)).toBe(1);
    expectConcurrent(await failureOf(second.write('b1\n')));
    await first.close();
    // close() deleted the lease: the refused instance itself may write now.
    expect(await admin.exists(lease)).toBe(0);
    await second.write('b1\n');
    await second.flush();
    expect(await admin.get(lease)).toContain(`"pid":${process.pid}`);
    await second.close();
    expect(await collectLines(open(key).read())).toEqual(['a1', 'b1']);
  });

  it('after a writer process is killed (SIGKILL), the next writer is refused until the lease expires, then takes it', {
    timeout: 30_000,
  }, async () => {
    const key = freshKey('crash');
    const leaseMs = 1_500;
    const child = await startChildWriter(key, leaseMs);
    const next = open(key, { leaseMs });
    // Alive: refused, and the message names the child.
    const alive = expectConcurrent(await failureOf(next.write('{"next":1}\n')));
    expect(alive).toContain(`pid ${child.pid}`);

    const dead = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await dead;
    // Dead, lease not yet expired: still refused (nobody renews it any more).
    const refusals: string[] = [];
    await until('the next writer is let in', async () => {
      try {
        await next.write('{"next":1}\n');
        return true;
      } catch (e) {
        refusals.push(expectConcurrent(e));
        return false;
      }
    });
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    for (const m of refusals) expect(m).toContain(`pid ${child.pid}`);
    await next.close();
    expect(await collectLines(open(key).read())).toEqual(['{"child":1}', '{"next":1}']);
  });

  it('takeover: true takes a live lease at once; the old writer’s next flush is refused and keeps its data', async () => {
    const key = freshKey('takeover');
    const { lease } = checkpointKeys(key);
    const old = open(key);
    await old.write('old-1\n');
    await old.flush();
    await old.write('old-2\n');

    // The takeover happens on the operator's first write (its open), before
    // it has flushed anything: the old writer is fenced out already.
    const operator = open(key, { takeover: true });
    await operator.write('new-1\n');

    const message = expectConcurrent(await failureOf(old.flush()));
    await operator.flush();
    expect(message).toMatch(/lost the Redis checkpoint/);
    expect(message).toContain(`host ${hostname()}`);
    expect(message).toContain('nothing was appended');
    expect(old.bufferedBytes).toBe('old-2\n'.length);
    // close() reports the unpersisted bytes, and releases only its own lease.
    const closing = expectConcurrent(await failureOf(old.close()));
    expect(closing).toContain(`${'old-2\n'.length} buffered bytes`);
    expect(old.closed).toBe(true);
    expect(await admin.exists(lease)).toBe(1);

    await operator.write('new-2\n');
    await operator.close();
    expect(await admin.exists(lease)).toBe(0);
    expect(await collectLines(open(key).read())).toEqual(['old-1', 'new-1', 'new-2']);
  });

  it('a writer taken over before either flushed cannot create the stream', async () => {
    const key = freshKey('fresh-takeover');
    const old = open(key);
    await old.write('old\n'); // opens: lease taken, nothing flushed, no stream yet
    const operator = open(key, { takeover: true });
    await operator.write('new\n');
    expectConcurrent(await failureOf(old.flush()));
    expect(await admin.exists(key)).toBe(0);
    await operator.close();
    expect(await collectLines(open(key).read())).toEqual(['new']);
  });

  it('takeover=true and leaseMs in the URI work like the options', async () => {
    const key = freshKey('uri');
    const { lease } = checkpointKeys(key);
    const old = open(key);
    await old.write('old\n');
    await old.flush();
    const operator = open(key, undefined, '&takeover=true&leaseMs=4000');
    await operator.write('new\n');
    await operator.flush();
    const ttl = await admin.pttl(lease);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(4_000);
    expectConcurrent(await failureOf(old.write('x\n').then(() => old.flush())));
    expect(() => open(key, { leaseMs: 5_000 }, '&leaseMs=4000')).toThrow(InvalidOptionError);
    expect(() => open(key, { takeover: false }, '&takeover=true')).toThrow(InvalidOptionError);
    expect(() => open(key, { leaseMs: 0 })).toThrow(InvalidOptionError);
  });

  it('the lease is renewed while a writer idles longer than leaseMs', async () => {
    const key = freshKey('idle');
    const leaseMs = 600;
    const { lease } = checkpointKeys(key);
    const writer = open(key, { leaseMs });
    await writer.write('before\n');
    await writer.flush();
    // No write and no flush for 4 × leaseMs: only the heartbeat keeps the
    // lease. Watch its TTL: it must never lapse, and must go back up.
    const start = Date.now();
    let renewals = 0;
    let last = await admin.pttl(lease);
    await until('4 × leaseMs of idling', async () => {
      const ttl = await admin.pttl(lease);
      expect(ttl).toBeGreaterThan(0);
      if (ttl > last) renewals += 1;
      last = ttl;
      return Date.now() - start > 4 * leaseMs;
    });
    expect(renewals).toBeGreaterThanOrEqual(2);
    expectConcurrent(await failureOf(open(key, { leaseMs }).write('intruder\n')));
    await writer.write('after\n');
    await writer.close();
    expect(await collectLines(open(key).read())).toEqual(['before', 'after']);
  });

  it('a writer whose lease expired while nobody else wrote takes it again at its next flush', async () => {
    const key = freshKey('expired');
    const { lease } = checkpointKeys(key);
    const writer = open(key, { leaseMs: 60_000 });
    await writer.write('one\n');
    await writer.flush();
    await admin.del(lease); // as if it had expired (a long pause, a partition)
    await writer.write('two\n');
    await writer.flush();
    expect(await admin.get(lease)).toContain(`"pid":${process.pid}`);
    await writer.close();
    expect(await collectLines(open(key).read())).toEqual(['one', 'two']);
  });

  it('a writer whose lease expired and who was overtaken is refused, even when the other writer has left', async () => {
    const key = freshKey('overtaken');
    const { lease } = checkpointKeys(key);
    const slow = open(key, { leaseMs: 60_000 });
    await slow.write('slow-1\n');
    await slow.flush();
    await admin.del(lease); // the slow writer's lease "expired"
    const other = open(key);
    await other.write('other-1\n');
    await other.close(); // and the other writer deleted its own lease again
    expect(await admin.exists(lease)).toBe(0);
    await slow.write('slow-2\n');
    const message = expectConcurrent(await failureOf(slow.flush()));
    expect(message).toMatch(/wrote to it after this writer's lease/);
    expect(slow.bufferedBytes).toBe('slow-2\n'.length);
    expect(await collectLines(open(key).read())).toEqual(['slow-1', 'other-1']);
  });
});
