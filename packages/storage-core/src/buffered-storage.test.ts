import { inspect } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { BufferedStorage, type OpenResult } from './buffered-storage.js';
import {
  ConcurrentWriterError,
  ConditionalWritesUnsupportedError,
  InvalidOptionError,
  StorageClosedError,
  StorageError,
} from './errors.js';
import type { Chunk } from './split-lines.js';

/** A backend whose I/O the test scripts: it records persists and can fail on demand. */
class ScriptedStorage extends BufferedStorage {
  persisted: string[] = [];
  persistCalls: string[] = [];
  failures = 0;
  opens = 0;
  openFailures = 0;
  released = 0;
  tornTail = false;
  gate: Promise<void> | undefined;

  protected override async openForAppend(): Promise<OpenResult> {
    this.opens++;
    if (this.openFailures > 0) {
      this.openFailures--;
      throw new StorageError('open failed', { uri: this.uri });
    }
    return { tornTail: this.tornTail };
  }
  protected override async persist(data: string): Promise<void> {
    this.persistCalls.push(data);
    if (this.gate) await this.gate;
    if (this.failures > 0) {
      this.failures--;
      throw new StorageError('persist failed', { uri: this.uri });
    }
    this.persisted.push(data);
  }
  protected override async *readChunks(): AsyncGenerator<Chunk> {
    yield* this.persisted;
  }
  override async exists(): Promise<boolean> {
    return this.persisted.length > 0;
  }
  protected override async release(): Promise<void> {
    this.released++;
  }
}

describe('BufferedStorage', () => {
  it('coalesces many writes into one persist per flush', async () => {
    const s = new ScriptedStorage('test://a');
    for (let i = 0; i < 100; i++) await s.write(`${i}\n`);
    expect(s.persistCalls).toEqual([]);
    await s.flush();
    expect(s.persistCalls.length).toBe(1);
    await s.flush(); // nothing buffered: no call
    expect(s.persistCalls.length).toBe(1);
  });

  it('opens once, lazily, on the first write', async () => {
    const s = new ScriptedStorage('test://a');
    await s.flush();
    expect(s.opens).toBe(0);
    await Promise.all([s.write('a'), s.write('b')]);
    await s.write('c');
    expect(s.opens).toBe(1);
  });

  it('a failed open rejects that write, takes none of its data, and is retried', async () => {
    const s = new ScriptedStorage('test://a');
    s.openFailures = 1;
    await expect(s.write('lost-by-caller\n')).rejects.toThrow('open failed');
    await s.write('ok\n');
    await s.flush();
    expect(s.persisted.join('')).toBe('ok\n');
    expect(s.opens).toBe(2);
  });

  it('flush() persists a write that was called before it but not awaited (first write)', async () => {
    const s = new ScriptedStorage('test://a');
    const w = s.write('x\n'); // not awaited: the storage has not opened yet
    await s.flush();
    expect(s.persisted.join('')).toBe('x\n');
    await w;
  });

  it('close() persists unawaited writes and releases after them', async () => {
    const s = new ScriptedStorage('test://a');
    const writes = [s.write('a\n'), s.write('b\n')];
    await s.close();
    expect(s.persisted.join('')).toBe('a\nb\n');
    expect(s.released).toBe(1);
    expect(s.opens).toBe(1);
    await Promise.all(writes);
  });

  it('a flush() called while a full buffer waits persists the waiting write too', async () => {
    const s = new ScriptedStorage('test://a', { maxBufferBytes: 4 });
    await s.write('abcd');
    const w = s.write('e'); // backpressure: waits for a flush of 'abcd'
    const f = s.flush(); // called after the write: must include 'e'
    await Promise.all([w, f]);
    expect(s.persisted.join('')).toBe('abcde');
  });

  it('writes called while opening keep their order with later writes', async () => {
    const s = new ScriptedStorage('test://a');
    const calls = [];
    for (let i = 0; i < 5; i++) calls.push(s.write(`${i}`));
    calls.push(s.flush());
    calls.push(s.write('5'));
    await Promise.all(calls);
    await s.flush();
    expect(s.persisted.join('')).toBe('012345');
  });

  it('a write whose open fails rejects and takes nothing; the writes queued behind it open again', async () => {
    const s = new ScriptedStorage('test://a');
    s.openFailures = 1;
    const a = s.write('a\n');
    const b = s.write('b\n');
    const f = s.flush();
    await expect(a).rejects.toThrow('open failed');
    await b;
    await f;
    expect(s.persisted.join('')).toBe('b\n');
    expect(s.opens).toBe(2);
  });

  it('bounds the buffer: a full buffer is flushed before more is accepted', async () => {
    const s = new ScriptedStorage('test://a', { maxBufferBytes: 10 });
    await s.write('12345');
    await s.write('67890'); // now 10 bytes buffered
    expect(s.persistCalls).toEqual([]);
    await s.write('x');
    expect(s.persistCalls).toEqual(['1234567890']);
    expect(s.bufferedBytes).toBe(1);
  });

  it('keeps memory within a small multiple of maxBufferBytes, however small the writes', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const bound = 8 * 1024 * 1024;
    const s = new ScriptedStorage('test://a', { maxBufferBytes: bound });
    s.tornTail = false;
    // Open without writing anything yet, so every write below takes the fast path.
    return s.write('').then(() => {
      const source = 'abcdefghijklmnopqrstuvwxyz'.repeat(40);
      gc();
      const before = process.memoryUsage().heapUsed;
      // 2-byte writes, each a distinct string (as a crawler's would be), up to the bound.
      for (let i = 0; i < bound / 2 - 1; i++) {
        const at = i % 1000;
        void s.write(source.slice(at, at + 2));
      }
      gc();
      const grown = process.memoryUsage().heapUsed - before;
      expect(s.bufferedBytes).toBe(bound - 2);
      expect(grown).toBeLessThan(3 * bound);
    });
  });

  it('counts the bound in UTF-8 bytes', async () => {
    const s = new ScriptedStorage('test://a', { maxBufferBytes: 6 });
    await s.write('€€'); // 6 bytes, 2 UTF-16 units
    expect(s.bufferedBytes).toBe(6);
    await s.write('a');
    expect(s.persistCalls).toEqual(['€€']);
  });

  it('when the backpressure flush fails, the write rejects and takes nothing', async () => {
    const s = new ScriptedStorage('test://a', { maxBufferBytes: 4 });
    await s.write('abcd');
    s.failures = 1;
    await expect(s.write('e')).rejects.toThrow('persist failed');
    await s.flush();
    expect(s.persisted).toEqual(['abcd']);
  });

  it('a failed flush keeps its data ahead of later writes, and the retry sends it once', async () => {
    const s = new ScriptedStorage('test://a');
    await s.write('a\n');
    s.failures = 1;
    await expect(s.flush()).rejects.toThrow('persist failed');
    await s.write('b\n');
    await s.flush();
    expect(s.persisted).toEqual(['a\nb\n']);
  });

  it('writes during an in-flight flush go to the next flush, in order', async () => {
    const s = new ScriptedStorage('test://a');
    let open!: () => void;
    s.gate = new Promise((r) => {
      open = r;
    });
    await s.write('1\n');
    const f1 = s.flush();
    while (s.persistCalls.length === 0) await new Promise((r) => setImmediate(r));
    await s.write('2\n');
    const f2 = s.flush();
    await new Promise((r) => setImmediate(r));
    expect(s.persistCalls).toEqual(['1\n']); // serialized: the second waits
    open();
    await Promise.all([f1, f2]);
    expect(s.persisted).toEqual(['1\n', '2\n']);
  });

  it('starts the first append on a fresh line after a torn tail, once', async () => {
    const s = new ScriptedStorage('test://a');
    s.tornTail = true;
    await s.write('x\n');
    await s.flush();
    await s.write('y\n');
    await s.flush();
    expect(s.persisted).toEqual(['\nx\n', 'y\n']);
  });

  it('keeps the fresh-line prefix when the first flush after a torn tail fails', async () => {
    const s = new ScriptedStorage('test://a');
    s.tornTail = true;
    await s.write('x\n');
    s.failures = 1;
    await expect(s.flush()).rejects.toThrow();
    await s.flush();
    expect(s.persisted).toEqual(['\nx\n']);
  });

  it('close() flushes, releases once and is idempotent; later calls reject', async () => {
    const s = new ScriptedStorage('test://a');
    await s.write('a\n');
    await Promise.all([s.close(), s.close()]);
    await s.close();
    expect(s.persisted).toEqual(['a\n']);
    expect(s.released).toBe(1);
    expect(s.closed).toBe(true);
    await expect(s.write('b')).rejects.toBeInstanceOf(StorageClosedError);
    await expect(s.flush()).rejects.toBeInstanceOf(StorageClosedError);
  });

  it('writes while closing are rejected', async () => {
    const s = new ScriptedStorage('test://a');
    await s.write('a\n');
    const closing = s.close();
    await expect(s.write('b\n')).rejects.toBeInstanceOf(StorageClosedError);
    await closing;
    expect(s.persisted).toEqual(['a\n']);
  });

  it('a close() whose flush fails rejects, keeps the data and can be retried', async () => {
    const s = new ScriptedStorage('test://a');
    await s.write('a\n');
    s.failures = 1;
    await expect(s.close()).rejects.toThrow('persist failed');
    expect(s.closed).toBe(false);
    expect(s.released).toBe(0);
    await s.close();
    expect(s.persisted).toEqual(['a\n']);
    expect(s.released).toBe(1);
  });

  it('a close() fenced out by another writer still releases, and says what was not persisted', async () => {
    class Fenced extends ScriptedStorage {
      protected override async persist(data: string): Promise<void> {
        this.persistCalls.push(data);
        throw new ConcurrentWriterError('taken over', { uri: this.uri });
      }
    }
    const s = new Fenced('test://a');
    await s.write('abc\n');
    const e = await s.close().catch((x: unknown) => x);
    expect(ConcurrentWriterError.isInstance(e)).toBe(true);
    expect((e as Error).message).toContain('4 buffered bytes');
    expect(s.closed).toBe(true);
    expect(s.released).toBe(1);
    await s.close(); // idempotent from now on
    await expect(s.write('x')).rejects.toBeInstanceOf(StorageClosedError);
  });

  it('a flush between the halves of a surrogate pair keeps the character whole', async () => {
    const s = new ScriptedStorage('test://a');
    await s.write('a\uD83C'); // the first half of 🎉
    await s.flush();
    await s.write('\uDF89\n');
    await s.flush();
    expect(s.persisted).toEqual(['a', '\uD83C\uDF89\n']);
    await s.write('\uD83C');
    await s.close(); // close() persists what is left, whole or not
    expect(s.persisted.at(-1)).toBe('\uD83C');
  });

  it('a close() refused for unenforced conditional writes still releases, and says what was not persisted', async () => {
    class Unconditional extends ScriptedStorage {
      protected override async persist(data: string): Promise<void> {
        this.persistCalls.push(data);
        throw new ConditionalWritesUnsupportedError('ignores If-Match', { uri: this.uri });
      }
    }
    const s = new Unconditional('test://a');
    await s.write('abc\n');
    const e = await s.close().catch((x: unknown) => x);
    expect(ConditionalWritesUnsupportedError.isInstance(e)).toBe(true);
    expect((e as Error).message).toContain('4 buffered bytes');
    expect(s.closed).toBe(true);
    expect(s.released).toBe(1);
  });

  it('read() splits the persisted chunks into lines', async () => {
    const s = new ScriptedStorage('test://a');
    await s.write('a\nb');
    await s.flush();
    await s.write('c\n\nd');
    await s.flush();
    const out: string[] = [];
    for await (const l of s.read()) out.push(l);
    expect(out).toEqual(['a', 'bc', '', 'd']);
  });

  it('rejects a non-string write and a bad buffer bound', async () => {
    const s = new ScriptedStorage('test://a');
    await expect(s.write(42 as unknown as string)).rejects.toThrow(TypeError);
    expect(() => new ScriptedStorage('test://a', { maxBufferBytes: 0 })).toThrow(
      InvalidOptionError,
    );
  });

  it('shows only the redacted URI in uri, inspect, JSON and toString', async () => {
    const s = new ScriptedStorage('test://user:pa/ss@host/x?token=t0k3n');
    await s.write('a\n');
    const outputs = [
      s.uri,
      inspect(s, { depth: 10, showHidden: true }),
      JSON.stringify(s),
      String(s),
      inspect({ wrapper: s }, { depth: 10 }),
    ];
    for (const out of outputs) {
      expect(out).not.toContain('pa/ss');
      expect(out).not.toContain('t0k3n');
      expect(out).toContain('test://user:***@host/x');
    }
    expect(JSON.parse(JSON.stringify(s))).toEqual({
      backend: 'ScriptedStorage',
      uri: 'test://user:***@host/x?token=***',
    });
  });
});
