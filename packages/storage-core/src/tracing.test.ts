import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStorage } from './memory-storage.js';
import { type StorageTraceContext, TRACING_CHANNELS } from './tracing.js';

type Event = { name: string; ctx: StorageTraceContext };

function subscribe(): { events: Event[]; stop: () => void } {
  const events: Event[] = [];
  const stops: Array<() => void> = [];
  for (const name of Object.values(TRACING_CHANNELS)) {
    const tc = diagnostics.tracingChannel(name);
    const handlers = {
      start: (ctx: unknown) =>
        events.push({ name: `${name}:start`, ctx: { ...(ctx as StorageTraceContext) } }),
      end: () => {},
      asyncStart: () => {},
      asyncEnd: (ctx: unknown) =>
        events.push({ name: `${name}:asyncEnd`, ctx: { ...(ctx as StorageTraceContext) } }),
      error: (ctx: unknown) =>
        events.push({ name: `${name}:error`, ctx: { ...(ctx as StorageTraceContext) } }),
    };
    tc.subscribe(handlers);
    stops.push(() => tc.unsubscribe(handlers));
  }
  return {
    events,
    stop: () => {
      for (const s of stops) s();
    },
  };
}

let n = 0;
const unique = () => `memory://tracing-${process.pid}-${++n}`;
afterEach(() => MemoryStorage.clearAll());

describe('tracing channels', () => {
  it('publishes open, flush, read (per chunk) and close with the redacted URI, backend, bytes and lines', async () => {
    const { events, stop } = subscribe();
    try {
      const uri = unique().replace('memory://', 'memory://u:s3cret@');
      const s = new MemoryStorage(uri);
      await s.write('a\nbb\n');
      await s.flush();
      await s.write('c\n');
      await s.close();
      const lines: string[] = [];
      for await (const l of s.read()) lines.push(l);
      expect(lines).toEqual(['a', 'bb', 'c']);
      const names = events.map((e) => e.name);
      expect(names).toEqual([
        'yoink:storage:open:start',
        'yoink:storage:open:asyncEnd',
        'yoink:storage:flush:start',
        'yoink:storage:flush:asyncEnd',
        'yoink:storage:close:start',
        'yoink:storage:flush:start',
        'yoink:storage:flush:asyncEnd',
        'yoink:storage:close:asyncEnd',
        'yoink:storage:read:start',
        'yoink:storage:read:asyncEnd',
        'yoink:storage:read:start',
        'yoink:storage:read:asyncEnd',
        'yoink:storage:read:start',
        'yoink:storage:read:asyncEnd',
      ]);
      const flush = events[3]?.ctx as StorageTraceContext;
      expect(flush).toMatchObject({
        operation: 'flush',
        backend: 'MemoryStorage',
        bytes: 5,
        lines: 2,
      });
      expect(flush.uri).toContain('u:***@');
      expect(events.at(-3)?.ctx).toMatchObject({ operation: 'read', bytes: 2, lines: 1 });
      expect(events.at(-1)?.ctx).toMatchObject({ operation: 'read', done: true });
      expect(JSON.stringify(events)).not.toContain('s3cret');
    } finally {
      stop();
    }
  });

  it('publishes the error of a failed flush', async () => {
    class Failing extends MemoryStorage {
      protected override async persist(): Promise<void> {
        throw new Error('disk on fire');
      }
    }
    const { events, stop } = subscribe();
    try {
      const s = new Failing(unique());
      await s.write('x\n');
      await expect(s.flush()).rejects.toThrow('disk on fire');
      const error = events.find((e) => e.name === 'yoink:storage:flush:error');
      expect((error?.ctx.error as Error | undefined)?.message).toBe('disk on fire');
    } finally {
      stop();
    }
  });
});

describe('read({ signal })', () => {
  it('an aborted read stops at once with the signal’s reason and releases the backend’s read', async () => {
    let released = false;
    class Slow extends MemoryStorage {
      protected override async *readChunks(): AsyncGenerator<Uint8Array> {
        try {
          for (let i = 0; ; i++) {
            yield new TextEncoder().encode(`line-${i}\n`);
            await new Promise((r) => setTimeout(r, 1));
          }
        } finally {
          released = true;
        }
      }
    }
    const s = new Slow(unique());
    const controller = new AbortController();
    const seen: string[] = [];
    const e = await (async () => {
      for await (const line of s.read({ signal: controller.signal })) {
        seen.push(line);
        if (seen.length === 3) controller.abort();
      }
    })().catch((x: unknown) => x);
    expect((e as Error).name).toBe('AbortError');
    expect(seen).toEqual(['line-0', 'line-1', 'line-2']);
    expect(released).toBe(true);
  });

  it('an already aborted signal reads nothing', async () => {
    const s = new MemoryStorage(unique());
    await s.write('a\n');
    await s.close();
    const e = await (async () => {
      for await (const _ of s.read({ signal: AbortSignal.abort() })) {
        /* nothing */
      }
    })().catch((x: unknown) => x);
    expect((e as Error).name).toBe('AbortError');
  });
});
