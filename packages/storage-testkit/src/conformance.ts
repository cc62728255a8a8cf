import {
  type CheckpointStorageLike,
  ConcurrentWriterError,
  StorageClosedError,
  StorageError,
  StorageUnavailableError,
} from '@yoink/storage-core';
import { afterEach, describe, expect, it } from 'vitest';
import { collectLines as collect } from './helpers.js';

/** Options of {@link describeConformance}. */
export interface ConformanceOptions<S extends CheckpointStorageLike = CheckpointStorageLike> {
  /**
   * Returns a storage for `location`, a token unique to each test
   * (`[a-z0-9-]`, under 60 characters). Two calls with the same location must
   * return two instances on the same checkpoint. The checkpoint must start
   * empty (map the token to a fresh path, key or prefix).
   */
  create(location: string): S | Promise<S>;
  /** Removes what a test left at `location` (optional). */
  cleanup?(location: string): void | Promise<void>;
  /**
   * Makes the next `flush()` of `storage` fail once (with any error), without
   * persisting anything, so the suite can check that the data is kept and
   * delivered by the next flush. Required: no backend passes conformance
   * without proving that a failed flush keeps its data. (Usually a test
   * subclass that overrides the backend's one I/O method, or a fault proxy.)
   */
  failNextFlush(storage: S): void | Promise<void>;
  /**
   * Returns a storage whose server cannot be reached (a port nothing listens
   * on). When given, the suite checks that a flush rejects with
   * `StorageUnavailableError` (`retryable: true`) and keeps the data. Leave it
   * out for backends without a network.
   */
  unreachable?(location: string): S | Promise<S>;
  /**
   * When persisted content does not end in `\n`, the next instance's first
   * append starts a fresh line (contract rule 3). Default `true`: every
   * backend should do this; set `false` only for a backend that documents
   * otherwise.
   */
  tornTail?: boolean;
  /**
   * The backend detects a second writer on one checkpoint (contract rule 4)
   * and rejects it with `ConcurrentWriterError`. Default `false`.
   */
  secondWriter?: boolean;
  /** Size of the single long line the suite writes, in bytes. Default 5 MB. */
  bigLineBytes?: number;
  /** Lines in the many-flushes test. Default 20,000 (in 200 flushes). */
  manyLines?: number;
  /** Per-test timeout in ms. Default 60,000. */
  timeout?: number;
}

let counter = 0;

/**
 * Registers a vitest `describe` block that checks a backend against every
 * rule of the storage contract (`docs/design.md`, "The contract"): round trip, arbitrary
 * chunking, empty lines, multi-byte characters, a 5 MB line, 20k lines over
 * many flushes, order under overlapping calls, reading a missing checkpoint,
 * `exists`, idempotent `close`, writes after close, a failed flush keeping its
 * data, the clean-line-start rule after a torn tail, and second-writer
 * detection.
 *
 * @example
 * ```ts
 * import { describeConformance } from '@yoink/storage-testkit';
 * describeConformance('MyStorage', {
 *   create: (location) => new MyStorage(`my://${location}`),
 *   secondWriter: true,
 * });
 * ```
 */
export function describeConformance<S extends CheckpointStorageLike>(
  name: string,
  options: ConformanceOptions<S>,
): void {
  const timeout = options.timeout ?? 60_000;
  const tornTail = options.tornTail ?? true;
  const bigLineBytes = options.bigLineBytes ?? 5_000_000;
  const manyLines = options.manyLines ?? 20_000;
  const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

  describe(`${name} conformance`, () => {
    const opened: S[] = [];
    const locations: string[] = [];

    function location(label: string): string {
      counter += 1;
      const loc = `ck-${runId}-${counter}-${label}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
      locations.push(loc);
      return loc;
    }

    async function open(loc: string): Promise<S> {
      const s = await options.create(loc);
      opened.push(s);
      return s;
    }

    async function readAll(loc: string): Promise<string[]> {
      const reader = await open(loc);
      return collect(reader.read());
    }

    afterEach(async () => {
      for (const s of opened.splice(0)) {
        await s.close().catch(() => {});
      }
      for (const loc of locations.splice(0)) {
        await options.cleanup?.(loc);
      }
    });

    it('reads back what was written, in order', { timeout }, async () => {
      const loc = location('roundtrip');
      const s = await open(loc);
      const lines = ['{"a":1}', '{"b":2}', '{"c":3}'];
      for (const l of lines) await s.write(`${l}\n`);
      await s.flush();
      expect(await collect(s.read())).toEqual(lines);
      expect(await readAll(loc)).toEqual(lines);
    });

    it('splits lines at \\n only, however the writes were chunked', { timeout }, async () => {
      const loc = location('chunked');
      const s = await open(loc);
      const text = '{"u":"a"}\n{"u":"b"}\n\n{"u":"c\\r"}\r\n{"u":"d"}\nlast-without-newline';
      // Write in chunks of varying sizes, flushing at odd points.
      let i = 0;
      let step = 1;
      while (i < text.length) {
        await s.write(text.slice(i, i + step));
        if (step % 3 === 0) await s.flush();
        i += step;
        step = (step % 7) + 1;
      }
      await s.close();
      expect(await readAll(loc)).toEqual(text.split('\n'));
    });

    it('keeps empty lines and yields a last segment without \\n', { timeout }, async () => {
      const loc = location('empty-lines');
      const s = await open(loc);
      await s.write('\n\na\n\n');
      await s.write('b');
      await s.close();
      expect(await readAll(loc)).toEqual(['', '', 'a', '', 'b']);
    });

    it('round-trips multi-byte characters split across writes', { timeout }, async () => {
      const loc = location('utf8');
      const s = await open(loc);
      const line = 'héllo wörld — 日本語 🎉👩‍👩‍👧 \u0000 end';
      // Split between UTF-16 code units too (inside surrogate pairs).
      for (let i = 0; i < line.length; i += 3) await s.write(line.slice(i, i + 3));
      await s.write('\n');
      await s.write(`${line}\n`);
      await s.close();
      expect(await readAll(loc)).toEqual([line, line]);
    });

    it('returns exactly what was written: a byte order mark at the start is kept', {
      timeout,
    }, async () => {
      const loc = location('bom');
      const s = await open(loc);
      await s.write('\uFEFF{"a":1}\n{"b":2}\n');
      await s.close();
      expect(await readAll(loc)).toEqual(['\uFEFF{"a":1}', '{"b":2}']);
    });

    it('stores text as UTF-8: a lone surrogate comes back as U+FFFD', {
      timeout,
    }, async () => {
      const loc = location('surrogate');
      const s = await open(loc);
      await s.write('a\uD800b\n\uDC00\n');
      await s.close();
      expect(await readAll(loc)).toEqual(['a\uFFFDb', '\uFFFD']);
    });

    it(`stores a ${bigLineBytes} byte line`, { timeout }, async () => {
      const loc = location('big-line');
      const s = await open(loc);
      const big = 'x'.repeat(bigLineBytes - 20) + '€'.repeat(5);
      await s.write('{"small":true}\n');
      // Written in 64 KiB pieces, so it crosses any chunk boundary.
      for (let i = 0; i < big.length; i += 65_536) await s.write(big.slice(i, i + 65_536));
      await s.write('\n{"after":true}\n');
      await s.close();
      const lines = await readAll(loc);
      expect(lines.length).toBe(3);
      expect(lines[0]).toBe('{"small":true}');
      expect(lines[1]?.length).toBe(big.length);
      expect(lines[1] === big).toBe(true);
      expect(lines[2]).toBe('{"after":true}');
    });

    it(`keeps ${manyLines} lines in order over many flushes`, { timeout }, async () => {
      const loc = location('many');
      const s = await open(loc);
      const perFlush = Math.max(1, Math.floor(manyLines / 200));
      for (let i = 0; i < manyLines; i++) {
        await s.write(`{"i":${i},"url":"https://example.com/${i}"}\n`);
        if ((i + 1) % perFlush === 0) await s.flush();
      }
      await s.close();
      const lines = await readAll(loc);
      expect(lines.length).toBe(manyLines);
      for (let i = 0; i < manyLines; i++) {
        if (lines[i] !== `{"i":${i},"url":"https://example.com/${i}"}`) {
          expect.fail(`line ${i} is ${JSON.stringify(lines[i]?.slice(0, 80))}`);
        }
      }
    });

    it('keeps write order when write and flush calls overlap', { timeout }, async () => {
      const loc = location('overlap');
      const s = await open(loc);
      const calls: Promise<void>[] = [];
      const expected: string[] = [];
      for (let i = 0; i < 300; i++) {
        expected.push(`{"n":${i}}`);
        calls.push(s.write(`{"n":${i}}\n`));
        if (i % 7 === 0) calls.push(s.flush());
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      calls.push(s.flush());
      await Promise.all(calls);
      await s.close();
      expect(await readAll(loc)).toEqual(expected);
    });

    it('flush() persists writes called before it, even when they were not awaited', {
      timeout,
    }, async () => {
      const loc = location('unawaited-flush');
      const s = await open(loc);
      // The storage has not opened yet: these writes are still in flight.
      const writes = [s.write('x\n'), s.write('y\n')];
      await s.flush();
      expect(await readAll(loc)).toEqual(['x', 'y']);
      await Promise.all(writes);
    });

    it('close() persists writes called before it, even when they were not awaited', {
      timeout,
    }, async () => {
      const loc = location('unawaited-close');
      const s = await open(loc);
      const writes = [s.write('x\n'), s.write('y\n')];
      await s.close();
      await Promise.all(writes);
      expect(await readAll(loc)).toEqual(['x', 'y']);
      // Nothing is held after close(): another instance can write at once.
      const next = await open(loc);
      await next.write('z\n');
      await next.close();
      expect(await readAll(loc)).toEqual(['x', 'y', 'z']);
    });

    it('a flush() waits for data written before it, even during another flush', {
      timeout,
    }, async () => {
      const loc = location('flush-covers');
      const s = await open(loc);
      await s.write('a\n');
      const first = s.flush();
      await s.write('b\n');
      const second = s.flush();
      await Promise.all([first, second]);
      // Visible to another instance without close(): flushed means persisted.
      expect(await readAll(loc)).toEqual(['a', 'b']);
    });

    it('reading a checkpoint that does not exist yields nothing', { timeout }, async () => {
      const loc = location('missing');
      const s = await open(loc);
      expect(await collect(s.read())).toEqual([]);
      expect(await s.exists()).toBe(false);
    });

    it('exists() is false before anything is persisted and true after', { timeout }, async () => {
      const loc = location('exists');
      const s = await open(loc);
      expect(await s.exists()).toBe(false);
      await s.write('{"x":1}\n');
      await s.flush();
      expect(await s.exists()).toBe(true);
      const other = await open(loc);
      expect(await other.exists()).toBe(true);
    });

    it('close() flushes, and is idempotent', { timeout }, async () => {
      const loc = location('close');
      const s = await open(loc);
      await s.write('one\n');
      await Promise.all([s.close(), s.close()]);
      await s.close();
      expect(await readAll(loc)).toEqual(['one']);
    });

    it('read() and exists() still work after close(), on the closed instance', {
      timeout,
    }, async () => {
      const loc = location('read-after-close');
      const s = await open(loc);
      await s.write('one\ntwo\n');
      await s.close();
      expect(await collect(s.read())).toEqual(['one', 'two']);
      expect(await s.exists()).toBe(true);
      // Stopping a read early releases what it opened; reading again works.
      for await (const line of s.read()) {
        expect(line).toBe('one');
        break;
      }
      expect(await collect(s.read())).toEqual(['one', 'two']);
      // A storage closed before it ever wrote can read too.
      const reader = await open(loc);
      await reader.close();
      expect(await collect(reader.read())).toEqual(['one', 'two']);
    });

    it('read({ signal }): an abort stops the read with the signal’s reason; reading again works', {
      timeout,
    }, async () => {
      const loc = location('abort');
      const s = await open(loc);
      for (let i = 0; i < 2000; i++) {
        await s.write(`{"i":${i}}\n`);
        if (i % 500 === 499) await s.flush();
      }
      await s.close();
      const controller = new AbortController();
      let seen = 0;
      const e = await (async () => {
        for await (const _ of s.read({ signal: controller.signal })) {
          seen += 1;
          if (seen === 1) controller.abort();
        }
      })().then(
        () => undefined,
        (x: unknown) => x,
      );
      expect((e as Error | undefined)?.name).toBe('AbortError');
      expect(seen).toBe(1);
      const before = await (async () => {
        for await (const _ of s.read({ signal: AbortSignal.abort() })) return 'read';
      })().then(
        () => undefined,
        (x: unknown) => x,
      );
      expect((before as Error | undefined)?.name).toBe('AbortError');
      expect((await collect(s.read())).length).toBe(2000);
    });

    it('write() and flush() after close() reject with StorageClosedError', {
      timeout,
    }, async () => {
      const loc = location('closed');
      const s = await open(loc);
      await s.write('one\n');
      await s.close();
      const w = await s.write('two\n').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(StorageClosedError.isInstance(w)).toBe(true);
      expect(StorageError.isInstance(w)).toBe(true);
      const f = await s.flush().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(StorageClosedError.isInstance(f)).toBe(true);
      expect(await readAll(loc)).toEqual(['one']);
    });

    it('a failed flush keeps its data; the next flush delivers it once', {
      timeout,
    }, async () => {
      const loc = location('failed-flush');
      const s = await open(loc);
      await s.write('before\n');
      await s.flush();
      await s.write('kept-1\n');
      await s.write('kept-2\n');
      await options.failNextFlush(s);
      await expect(s.flush()).rejects.toBeDefined();
      await s.write('after\n');
      await s.flush();
      await s.close();
      expect(await readAll(loc)).toEqual(['before', 'kept-1', 'kept-2', 'after']);
    });

    if (options.unreachable) {
      const unreachable = options.unreachable;
      it('an unreachable server: flush() rejects with StorageUnavailableError (retryable) and keeps the data', {
        timeout,
      }, async () => {
        const loc = location('unreachable');
        const s = await unreachable(loc);
        opened.push(s);
        const written = await s.write('kept\n').then(
          () => undefined,
          (e: unknown) => e,
        );
        const e =
          written ??
          (await s.flush().then(
            () => undefined,
            (x: unknown) => x,
          ));
        expect(StorageUnavailableError.isInstance(e), String(e)).toBe(true);
        expect((e as StorageError).retryable).toBe(true);
        // The data was not dropped: a second flush fails the same way instead of succeeding empty.
        if (written === undefined) {
          const again = await s.flush().then(
            () => undefined,
            (x: unknown) => x,
          );
          expect(StorageUnavailableError.isInstance(again)).toBe(true);
        }
      });
    }

    if (tornTail) {
      it('a new writer starts on a fresh line after a torn tail', { timeout }, async () => {
        const loc = location('torn');
        const first = await open(loc);
        await first.write('{"ok":1}\n{"torn":');
        await first.close();
        const second = await open(loc);
        await second.write('{"ok":2}\n');
        await second.close();
        expect(await readAll(loc)).toEqual(['{"ok":1}', '{"torn":', '{"ok":2}']);
      });

      it('the same writer continues a partial line (no tear within one instance)', {
        timeout,
      }, async () => {
        const loc = location('continue');
        const s = await open(loc);
        await s.write('{"half":');
        await s.flush();
        await s.write('1}\n');
        await s.close();
        expect(await readAll(loc)).toEqual(['{"half":1}']);
      });

      it('a new writer after a clean tail adds no blank line', { timeout }, async () => {
        const loc = location('clean-tail');
        const first = await open(loc);
        await first.write('a\n');
        await first.close();
        const second = await open(loc);
        await second.write('b\n');
        await second.close();
        expect(await readAll(loc)).toEqual(['a', 'b']);
      });
    }

    if (options.secondWriter) {
      it('a second writer gets ConcurrentWriterError and no flushed data is lost', {
        timeout,
      }, async () => {
        const loc = location('two-writers');
        const a = await open(loc);
        const b = await open(loc);
        const persisted: string[] = [];
        const errors: unknown[] = [];
        // Each step writes one line and flushes it; record what each writer
        // was told was persisted.
        async function step(s: S, line: string): Promise<void> {
          try {
            await s.write(`${line}\n`);
            await s.flush();
            persisted.push(line);
          } catch (e) {
            errors.push(e);
          }
        }
        await step(a, 'a1');
        await step(b, 'b1');
        await step(a, 'a2');
        await step(b, 'b2');
        await step(a, 'a3');
        expect(errors.length).toBeGreaterThan(0);
        for (const e of errors) {
          if (!ConcurrentWriterError.isInstance(e)) throw e;
        }
        const lines = await readAll(loc);
        // Every line a writer was told is persisted is there, exactly once, in order.
        expect(lines.filter((l) => persisted.includes(l))).toEqual(persisted);
        expect(new Set(lines).size).toBe(lines.length);
        expect(persisted).toContain('a1');
      });
    }
  });
}
