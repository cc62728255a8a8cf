import { inspect } from 'node:util';
import {
  type CheckpointStorageLike,
  InvalidOptionError,
  MemoryStorage,
  StorageClosedError,
  StorageError,
} from '@yoink/storage-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CheckpointCorruptError } from './checkpoint-corrupt-error.js';
import { CheckpointManager, type CheckpointWarning } from './checkpoint-manager.js';

let n = 0;
const names: string[] = [];
function uniqueUri(): string {
  const name = `checkpoint-test-${process.pid}-${n++}`;
  names.push(name);
  return `memory://${name}`;
}

afterEach(() => {
  for (const name of names.splice(0)) MemoryStorage.delete(name);
});

/** Lines persisted at `uri`, read by a separate instance (so only flushed data shows). */
async function persisted(uri: string): Promise<string[]> {
  const out: string[] = [];
  for await (const line of new MemoryStorage(uri).read()) out.push(line);
  return out;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Writes raw text to `uri` as a crashed writer would have left it. */
async function writeRaw(uri: string, text: string): Promise<void> {
  const s = new MemoryStorage(uri);
  await s.write(text);
  await s.close();
}

interface Page {
  url: string;
  n: number;
}

describe('CheckpointManager', () => {
  it('appends one JSON line per record and reads them back in order', async () => {
    const uri = uniqueUri();
    const cp = await CheckpointManager.fromUri<Page>(uri);
    for (let i = 0; i < 5; i++) await cp.append({ url: `https://example.com/${i}`, n: i });
    await cp.close();
    expect(await persisted(uri)).toEqual(
      [0, 1, 2, 3, 4].map((i) => `{"url":"https://example.com/${i}","n":${i}}`),
    );
    const again = await CheckpointManager.fromUri<Page>(uri);
    expect((await collect(again.records())).map((r) => r.n)).toEqual([0, 1, 2, 3, 4]);
    await again.close();
  });

  it('keeps call order when appends are not awaited', async () => {
    const uri = uniqueUri();
    const cp = new CheckpointManager<number>({ storage: new MemoryStorage(uri), flushEvery: 7 });
    await Promise.all(Array.from({ length: 100 }, (_, i) => cp.append(i)));
    await cp.close();
    expect(await persisted(uri)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
  });

  it('flushes after flushEvery records and not before', async () => {
    const uri = uniqueUri();
    const cp = new CheckpointManager({
      storage: new MemoryStorage(uri),
      flushEvery: 3,
      flushBytes: 0,
      flushIntervalMs: 0,
    });
    await cp.append({ i: 1 });
    await cp.append({ i: 2 });
    expect(await persisted(uri)).toEqual([]);
    expect(cp.pendingRecords).toBe(2);
    await cp.append({ i: 3 });
    expect(await persisted(uri)).toHaveLength(3);
    expect(cp.pendingRecords).toBe(0);
    await cp.append({ i: 4 });
    expect(await persisted(uri)).toHaveLength(3);
    await cp.close();
    expect(await persisted(uri)).toHaveLength(4);
  });

  it('flushes once flushBytes bytes are appended', async () => {
    const uri = uniqueUri();
    const cp = new CheckpointManager({
      storage: new MemoryStorage(uri),
      flushEvery: 0,
      flushBytes: 100,
      flushIntervalMs: 0,
    });
    const record = { pad: 'x'.repeat(20) }; // 31 bytes with the newline
    for (let i = 0; i < 3; i++) await cp.append(record);
    expect(await persisted(uri)).toEqual([]);
    await cp.append(record);
    expect(await persisted(uri)).toHaveLength(4);
    await cp.close();
  });

  it('flushes flushIntervalMs after an append when no threshold is reached', async () => {
    const uri = uniqueUri();
    const cp = new CheckpointManager({
      storage: new MemoryStorage(uri),
      flushEvery: 0,
      flushBytes: 0,
      flushIntervalMs: 20,
    });
    await cp.append({ slow: true });
    await vi.waitFor(async () => expect(await persisted(uri)).toEqual(['{"slow":true}']), {
      timeout: 5000,
      interval: 10,
    });
    await cp.close();
  });

  it('does not keep the process alive with its interval timer', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const cp = new CheckpointManager({ storage: new MemoryStorage(uniqueUri()) });
    await cp.append({ a: 1 });
    const timer = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
    spy.mockRestore();
    expect(timer.hasRef()).toBe(false);
    await cp.close();
  });

  it('has documented defaults: 1000 records, 1 MiB, 1 s', async () => {
    const uri = uniqueUri();
    const cp = new CheckpointManager({ storage: new MemoryStorage(uri), flushIntervalMs: 0 });
    for (let i = 0; i < 999; i++) await cp.append(i);
    expect(await persisted(uri)).toHaveLength(0);
    await cp.append(999);
    expect(await persisted(uri)).toHaveLength(1000);
    await cp.append({ big: 'y'.repeat(1024 * 1024) });
    expect(await persisted(uri)).toHaveLength(1001);
    await cp.close();
  });

  it('rejects a record that does not serialise, before writing anything', async () => {
    const uri = uniqueUri();
    const cp = new CheckpointManager<unknown>({ storage: new MemoryStorage(uri) });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(cp.append(undefined)).rejects.toThrow(TypeError);
    await expect(cp.append(() => 1)).rejects.toThrow(TypeError);
    await expect(cp.append(Symbol('s'))).rejects.toThrow(TypeError);
    await expect(cp.append(10n)).rejects.toThrow(TypeError);
    await expect(cp.append(cyclic)).rejects.toThrow(TypeError);
    await cp.append({ ok: true });
    await cp.close();
    expect(await persisted(uri)).toEqual(['{"ok":true}']);
  });

  it('flush() persists what was appended before it', async () => {
    const uri = uniqueUri();
    const cp = new CheckpointManager({ storage: new MemoryStorage(uri), flushIntervalMs: 0 });
    await cp.append('a');
    await cp.flush();
    expect(await persisted(uri)).toEqual(['"a"']);
    await cp.close();
  });

  it('close() is idempotent and later appends reject with StorageClosedError', async () => {
    const cp = new CheckpointManager({ storage: new MemoryStorage(uniqueUri()) });
    await cp.append(1);
    const first = cp.close();
    expect(cp.close()).toBe(first);
    await first;
    await cp.close();
    expect(cp.closed).toBe(true);
    await expect(cp.append(2)).rejects.toSatisfy((e) => StorageClosedError.isInstance(e));
    await expect(cp.flush()).rejects.toSatisfy((e) => StorageClosedError.isInstance(e));
  });

  it('keeps records when a flush fails and persists them on the next flush', async () => {
    const uri = uniqueUri();
    const storage = new MemoryStorage(uri);
    const cp = new CheckpointManager({ storage, flushEvery: 2, flushIntervalMs: 0 });
    const original = storage.flush.bind(storage);
    const failing = vi.spyOn(storage, 'flush').mockRejectedValueOnce(new Error('network down'));
    await cp.append(1);
    await expect(cp.append(2)).rejects.toThrow('network down');
    expect(cp.pendingRecords).toBe(2);
    failing.mockImplementation(original);
    await cp.flush();
    expect(await persisted(uri)).toEqual(['1', '2']);
    await cp.close();
  });

  it('reports a failed timer flush to onWarning and retries it', async () => {
    const uri = uniqueUri();
    const storage = new MemoryStorage(uri);
    const warnings: CheckpointWarning[] = [];
    const cp = new CheckpointManager({
      storage,
      flushEvery: 0,
      flushBytes: 0,
      flushIntervalMs: 10,
      onWarning: (w) => warnings.push(w),
    });
    vi.spyOn(storage, 'flush').mockRejectedValueOnce(new Error('timeout'));
    await cp.append({ a: 1 });
    await vi.waitFor(async () => expect(await persisted(uri)).toEqual(['{"a":1}']), {
      timeout: 5000,
      interval: 10,
    });
    expect(warnings).toEqual([expect.objectContaining({ kind: 'flush-failed' })]);
    await cp.close();
  });

  it('skips a torn tail with a warning, and resumes on a fresh line', async () => {
    const uri = uniqueUri();
    await writeRaw(uri, '{"url":"a"}\n{"url":"b"}\n{"url":"c');
    const warnings: CheckpointWarning[] = [];
    const cp = await CheckpointManager.fromUri<{ url: string }>(uri, {
      onWarning: (w) => warnings.push(w),
    });
    expect((await collect(cp.records())).map((r) => r.url)).toEqual(['a', 'b']);
    expect(warnings).toEqual([{ kind: 'torn-record', line: 3, preview: '{\\"url\\":\\"c', uri }]);
    await cp.append({ url: 'c' });
    await cp.append({ url: 'd' });
    await cp.close();
    // The storage put the torn bytes on their own line, now in the middle.
    expect(await persisted(uri)).toEqual([
      '{"url":"a"}',
      '{"url":"b"}',
      '{"url":"c',
      '{"url":"c"}',
      '{"url":"d"}',
    ]);
    warnings.length = 0;
    const reader = await CheckpointManager.fromUri<{ url: string }>(uri, {
      onWarning: (w) => warnings.push(w),
    });
    expect((await collect(reader.records())).map((r) => r.url)).toEqual(['a', 'b', 'c', 'd']);
    expect(warnings.map((w) => w.kind === 'torn-record' && w.line)).toEqual([3]);
  });

  it('skips lines of NUL bytes and prefixes padded with NULs, wherever they are', async () => {
    const uri = uniqueUri();
    await writeRaw(uri, '\0\0\0\0\n{"n":1}\n{"n":\0\0\0\n\n{"n":2}\n');
    const lines: number[] = [];
    const cp = new CheckpointManager<{ n: number }>({
      storage: new MemoryStorage(uri),
      onWarning: (w) => {
        if (w.kind === 'torn-record') lines.push(w.line);
      },
    });
    expect((await collect(cp.records())).map((r) => r.n)).toEqual([1, 2]);
    expect(lines).toEqual([1, 3]);
  });

  it('throws CheckpointCorruptError naming the line of a corrupt middle line', async () => {
    const uri = uniqueUri();
    await writeRaw(uri, '{"n":1}\n{"n":2}\nthis is not json\n{"n":3}\n');
    const cp = new CheckpointManager<{ n: number }>({ storage: new MemoryStorage(uri) });
    const seen: number[] = [];
    const error = await (async () => {
      try {
        for await (const r of cp.records()) seen.push(r.n);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(seen).toEqual([1, 2]);
    expect(CheckpointCorruptError.isInstance(error)).toBe(true);
    expect(StorageError.isInstance(error)).toBe(true);
    const corrupt = error as CheckpointCorruptError;
    expect(corrupt.code).toBe('ERR_YOINK_CHECKPOINT_CORRUPT');
    expect(corrupt.lineNumber).toBe(3);
    expect(corrupt.message).toContain('Line 3');
    expect(corrupt.uri).toBe(uri);
  });

  it('treats a complete record followed by garbage as corrupt, not torn', async () => {
    const uri = uniqueUri();
    await writeRaw(uri, '{"n":1}{"n":2}\n');
    const cp = new CheckpointManager({ storage: new MemoryStorage(uri) });
    await expect(collect(cp.records())).rejects.toSatisfy(
      (e) => CheckpointCorruptError.isInstance(e) && e.lineNumber === 1,
    );
  });

  it('can stop reading records early and read again', async () => {
    const uri = uniqueUri();
    await writeRaw(uri, '1\n2\n3\n');
    const cp = new CheckpointManager<number>({ storage: new MemoryStorage(uri) });
    for await (const r of cp.records()) {
      expect(r).toBe(1);
      break;
    }
    expect(await collect(cp.records())).toEqual([1, 2, 3]);
  });

  it('reads nothing from a checkpoint that does not exist', async () => {
    const cp = await CheckpointManager.fromUri(uniqueUri());
    expect(await collect(cp.records())).toEqual([]);
    await cp.close();
  });

  it('redacts credentials of the storage URI in warnings and errors', async () => {
    const secretUri = 'memory://user:hunter2@host';
    names.push('user:hunter2@host');
    await writeRaw(secretUri, 'garbage\n');
    const cp = new CheckpointManager({ storage: new MemoryStorage(secretUri) });
    const error = await collect(cp.records()).catch((e: unknown) => e as Error);
    expect(String((error as Error).message)).not.toContain('hunter2');
    expect((error as CheckpointCorruptError).uri).not.toContain('hunter2');
  });

  it('installs SIGINT/SIGTERM handlers only when asked, and removes them on close()', async () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const plain = new CheckpointManager({ storage: new MemoryStorage(uniqueUri()) });
    expect(process.listenerCount('SIGINT')).toBe(before[0]);
    const a = new CheckpointManager({
      storage: new MemoryStorage(uniqueUri()),
      handleSignals: true,
    });
    const b = new CheckpointManager({
      storage: new MemoryStorage(uniqueUri()),
      handleSignals: true,
    });
    expect(process.listenerCount('SIGINT')).toBe((before[0] ?? 0) + 1);
    expect(process.listenerCount('SIGTERM')).toBe((before[1] ?? 0) + 1);
    await a.close();
    expect(process.listenerCount('SIGINT')).toBe((before[0] ?? 0) + 1);
    await b.close();
    await plain.close();
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });

  it('validates its options', () => {
    const storage = new MemoryStorage(uniqueUri());
    expect(() => new CheckpointManager({ storage, flushEvery: -1 })).toThrow(InvalidOptionError);
    expect(() => new CheckpointManager({ storage, flushIntervalMs: Number.NaN })).toThrow(
      InvalidOptionError,
    );
    expect(
      () => new CheckpointManager({ storage: undefined as unknown as CheckpointStorageLike }),
    ).toThrow(TypeError);
    const typo = (() => {
      try {
        new CheckpointManager({ storage, flushEvry: 10 } as never);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(InvalidOptionError.isInstance(typo)).toBe(true);
    expect(typo?.message).toContain('Did you mean "flushEvery"?');
  });

  it('records({ signal }) stops at once when aborted', async () => {
    const storage = new MemoryStorage(uniqueUri());
    const manager = new CheckpointManager<{ n: number }>({ storage });
    for (let n = 0; n < 100; n++) await manager.append({ n });
    await manager.flush();
    const controller = new AbortController();
    const seen: number[] = [];
    const e = await (async () => {
      for await (const r of manager.records({ signal: controller.signal })) {
        seen.push(r.n);
        if (seen.length === 2) controller.abort();
      }
    })().catch((x: unknown) => x);
    expect((e as Error).name).toBe('AbortError');
    expect(seen).toEqual([0, 1]);
    await manager.close();
  });

  it('fromUri refuses a misspelled manager option before opening anything', async () => {
    await expect(
      CheckpointManager.fromUri(uniqueUri(), { flushIntervalMS: 5 } as never),
    ).rejects.toSatisfy((e) => InvalidOptionError.isInstance(e));
  });

  it('shows only the redacted URI in inspect, JSON and toString', async () => {
    class Leaky extends MemoryStorage {}
    const storage = new Leaky('memory://u:pa/ss@host');
    const manager = new CheckpointManager({ storage });
    await manager.append({ a: 1 });
    for (const out of [inspect(manager, { depth: 10 }), JSON.stringify(manager), String(manager)]) {
      expect(out).not.toContain('pa/ss');
      expect(out).toContain('memory://u:***@host');
    }
    await manager.close();
  });
});
