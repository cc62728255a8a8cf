import diagnostics from 'node:diagnostics_channel';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type StorageTraceContext, TRACING_CHANNELS } from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LocalFileStorage } from '../src/index.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

let dir = '';
beforeAll(async () => {
  dir = await makeTempDir('tracing');
});
afterAll(async () => {
  await removeTempDir(dir);
});

it('publishes open (torn tail), flush (bytes, lines), read chunks and close on the tracing channels', async () => {
  const events: Array<{ name: string; ctx: StorageTraceContext }> = [];
  const handlers = Object.values(TRACING_CHANNELS).map((name) => {
    const record = (phase: string) => (ctx: unknown) =>
      events.push({ name: `${name}:${phase}`, ctx: { ...(ctx as StorageTraceContext) } });
    const h = {
      start: record('start'),
      end: () => {},
      asyncStart: () => {},
      asyncEnd: record('asyncEnd'),
      error: record('error'),
    };
    diagnostics.tracingChannel(name).subscribe(h);
    return () => diagnostics.tracingChannel(name).unsubscribe(h);
  });
  try {
    const path = join(dir, 'crawl.jsonl');
    await writeFile(path, '{"a":1}\n{"torn":'); // a torn tail
    const s = new LocalFileStorage(path);
    await s.write('{"b":2}\n{"c":3}\n');
    await s.flush();
    await s.close();
    expect(await collectLines(s.read())).toEqual(['{"a":1}', '{"torn":', '{"b":2}', '{"c":3}']);
    const ended = events.filter((e) => e.name.endsWith(':asyncEnd'));
    const open = ended.find((e) => e.ctx.operation === 'open')?.ctx;
    expect(open).toMatchObject({ backend: 'LocalFileStorage', uri: path, tornTail: true });
    const flush = ended.find((e) => e.ctx.operation === 'flush')?.ctx;
    // The fresh-line "\n" after the torn tail is part of the flush.
    expect(flush).toMatchObject({ backend: 'LocalFileStorage', bytes: 17, lines: 3 });
    const reads = ended.filter((e) => e.ctx.operation === 'read').map((e) => e.ctx);
    expect(reads.at(-1)).toMatchObject({ done: true });
    expect(reads.reduce((n, r) => n + (r.bytes ?? 0), 0)).toBe(33);
    expect(ended.some((e) => e.ctx.operation === 'close')).toBe(true);
    expect(events.some((e) => e.name.endsWith(':error'))).toBe(false);
  } finally {
    for (const stop of handlers) stop();
  }
});
