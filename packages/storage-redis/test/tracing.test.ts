import { execFile } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type StorageTraceContext, TRACING_CHANNELS } from '@yoink/storage-core';
import { collectLines, freePort } from '@yoink/storage-testkit';
import { type RedisTestServer, startRedis } from '@yoink/test-servers/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStorage } from '../src/redis-storage.js';

const run = promisify(execFile);
const DEBUG_WRITER = fileURLToPath(new URL('./fixtures/debug-writer.mjs', import.meta.url));
const PASSWORD = 'trace-Pw-9f2k-never-shown';

let redis: RedisTestServer;

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
}, 30_000);

afterAll(async () => {
  await redis?.stop();
});

const uriOf = (key: string): string =>
  `redis://:${PASSWORD}@127.0.0.1:${redis.port}?key=${encodeURIComponent(key)}`;
const redactedOf = (key: string): string =>
  `redis://:***@127.0.0.1:${redis.port}?key=${encodeURIComponent(key)}`;

describe('tracing channels and debug lines on Redis', () => {
  it('publishes open, flush (bytes, lines), read (one event per page) and close with the redacted URI', async () => {
    const events: { channel: string; ctx: StorageTraceContext }[] = [];
    const handlers = Object.fromEntries(
      Object.entries(TRACING_CHANNELS).map(([op, name]) => [
        op,
        {
          start() {},
          end() {},
          asyncStart() {},
          asyncEnd(ctx: object) {
            // tracePromise adds the operation's return value as `result`.
            const { result: _, ...rest } = ctx as StorageTraceContext & { result?: unknown };
            events.push({ channel: name, ctx: rest });
          },
          error() {},
        },
      ]),
    );
    const channels = Object.entries(TRACING_CHANNELS).map(([op, name]) => {
      const c = diagnostics.tracingChannel(name);
      c.subscribe(handlers[op] as never);
      return { c, handler: handlers[op] };
    });
    try {
      const key = 'yoink:traced';
      const w = new RedisStorage(uriOf(key));
      await w.write('{"a":1}\n{"b":2}\n');
      await w.flush();
      await w.write('{"c":3}\n');
      await w.close();
      // Small pages: the read is several pages, one event each.
      const r = new RedisStorage(uriOf(key), { readPageBytes: 1 });
      expect(await collectLines(r.read())).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
      await r.close();
    } finally {
      for (const { c, handler } of channels) c.unsubscribe(handler as never);
    }
    const uri = redactedOf('yoink:traced');
    const of = (op: keyof typeof TRACING_CHANNELS) =>
      events.filter((e) => e.channel === TRACING_CHANNELS[op]).map((e) => e.ctx);
    expect(of('open')).toEqual([
      { operation: 'open', backend: 'RedisStorage', uri, tornTail: false },
    ]);
    expect(of('flush')).toEqual([
      { operation: 'flush', backend: 'RedisStorage', uri, bytes: 16, lines: 2 },
      { operation: 'flush', backend: 'RedisStorage', uri, bytes: 8, lines: 1 },
    ]);
    const reads = of('read');
    expect(reads.filter((e) => !e.done)).toEqual([
      { operation: 'read', backend: 'RedisStorage', uri, bytes: 16, lines: 2 },
      { operation: 'read', backend: 'RedisStorage', uri, bytes: 8, lines: 1 },
    ]);
    expect(reads.at(-1)).toEqual({ operation: 'read', backend: 'RedisStorage', uri, done: true });
    expect(of('close')).toHaveLength(2);
    expect(of('close')[0]).toEqual({ operation: 'close', backend: 'RedisStorage', uri });
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
  });

  it('NODE_DEBUG=yoink prints a lease renewal and a retry, without the password', {
    timeout: 30_000,
  }, async () => {
    const dead = `redis://:${PASSWORD}@127.0.0.1:${await freePort()}?key=yoink:nowhere`;
    const { stdout, stderr } = await run(
      process.execPath,
      [DEBUG_WRITER, uriOf('yoink:debug'), dead],
      { env: { ...process.env, NODE_DEBUG: 'yoink' } },
    );
    expect(stdout.trim()).toBe('ERR_YOINK_UNAVAILABLE');
    expect(stderr).toMatch(
      new RegExp(
        `YOINK \\d+: ${escapeRegExp(redactedOf('yoink:debug'))}: renewed the writer lease \\{yoink:debug\\}:writer for 150 ms`,
      ),
    );
    expect(stderr).toMatch(
      /YOINK \d+: redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\?key=yoink:nowhere: open attempt 1 failed \(.*ECONNREFUSED.*\); retrying in 20 ms/,
    );
    expect(stderr).not.toContain(PASSWORD);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
