import {
  type CheckpointStorageLike,
  type ReadOptions,
  redactUri,
  type SchemeOf,
  StorageClosedError,
  StorageFactory,
} from '@yoink/storage-core';
import {
  type CheckpointManagerFromUriOptions,
  type CheckpointManagerOptions,
  type CheckpointWarning,
  DEFAULT_FLUSH_BYTES,
  DEFAULT_FLUSH_EVERY,
  DEFAULT_FLUSH_INTERVAL_MS,
  OPTIONS,
  threshold,
} from './manager-options.js';
import { readRecords } from './read-records.js';
import { type SignalTarget, trackSignals, untrackSignals } from './signals.js';

export type { CheckpointManagerFromUriOptions, CheckpointManagerOptions, CheckpointWarning };

function defaultWarning(warning: CheckpointWarning): void {
  const where = warning.uri ? ` in ${warning.uri}` : '';
  const text =
    warning.kind === 'torn-record'
      ? `skipped a torn record at line ${warning.line}${where} ("${warning.preview}")`
      : `${warning.kind === 'flush-failed' ? 'a timed flush' : 'closing on a signal'} failed${where}: ${String(
          warning.error instanceof Error ? warning.error.message : warning.error,
        )}`;
  process.emitWarning(text, { code: 'YOINK_CHECKPOINT' });
}

function uriOf(storage: CheckpointStorageLike): string | undefined {
  const uri = (storage as { uri?: unknown }).uri;
  return typeof uri === 'string' ? redactUri(uri) : undefined;
}

/**
 * Appends JSON records to a checkpoint and reads them back to resume a crawl,
 * on any storage backend. One record is one line: `JSON.stringify(record)` and
 * `\n`.
 *
 * - **Flush policy**: records are buffered by the storage and flushed after
 *   `flushEvery` records, `flushBytes` bytes or `flushIntervalMs` ms,
 *   whichever comes first, and on `flush()` / `close()`.
 * - **Order**: `append()` calls take effect in call order, even when not awaited.
 * - **Torn records**: `records()` skips a line a crash cut short (a truncated
 *   JSON prefix or NUL bytes), wherever it is, and reports it to `onWarning`;
 *   any other bad line throws {@link CheckpointCorruptError}.
 * - **Shutdown**: with `handleSignals: true`, SIGINT/SIGTERM flush and close.
 *
 * @example
 * ```ts
 * const checkpoint = await CheckpointManager.fromUri<{ url: string }>('./crawl.jsonl');
 * const done = new Set<string>();
 * for await (const r of checkpoint.records()) done.add(r.url);
 * for (const url of urls.filter((u) => !done.has(u))) {
 *   await crawl(url);
 *   await checkpoint.append({ url });
 * }
 * await checkpoint.close();
 * ```
 */
export class CheckpointManager<T = unknown> implements SignalTarget {
  /** The storage the records go to. */
  readonly storage: CheckpointStorageLike;
  readonly #flushEvery: number;
  readonly #flushBytes: number;
  readonly #flushIntervalMs: number;
  readonly #onWarning: (warning: CheckpointWarning) => void;
  readonly #uri: string | undefined;
  #pendingRecords = 0;
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;
  #closed = false;
  #handlesSignals: boolean;

  /**
   * @throws {InvalidOptionError} for an unknown option, or a threshold that
   *   is negative or not a number.
   * @throws {TypeError} when `storage` is missing.
   */
  constructor(options: CheckpointManagerOptions) {
    if (!options || typeof options.storage?.write !== 'function') {
      throw new TypeError(
        'new CheckpointManager({ storage }) needs a storage; use CheckpointManager.fromUri(uri) to create one from a URI',
      );
    }
    const uri = uriOf(options.storage);
    const { storage, ...rest } = options;
    const checked = OPTIONS.parse({
      uri: uri ?? 'the checkpoint',
      options: rest,
      backend: 'CheckpointManager',
    });
    this.storage = storage;
    this.#flushEvery = threshold(checked.flushEvery, DEFAULT_FLUSH_EVERY);
    this.#flushBytes = threshold(checked.flushBytes, DEFAULT_FLUSH_BYTES);
    this.#flushIntervalMs = threshold(checked.flushIntervalMs, DEFAULT_FLUSH_INTERVAL_MS);
    this.#onWarning = checked.onWarning ?? defaultWarning;
    this.#uri = uri;
    this.#handlesSignals = checked.handleSignals === true;
    if (this.#handlesSignals) trackSignals(this);
  }

  /** `util.inspect` / `console.log`: the redacted URI and the state, nothing else. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `CheckpointManager { uri: ${JSON.stringify(this.#uri ?? '(unknown)')}, pendingRecords: ${this.#pendingRecords}, closed: ${this.#closed} }`;
  }

  /** `JSON.stringify`: the redacted URI. */
  toJSON(): { uri: string | undefined; pendingRecords: number; closed: boolean } {
    return { uri: this.#uri, pendingRecords: this.#pendingRecords, closed: this.#closed };
  }

  /** `CheckpointManager(redacted URI)`. */
  toString(): string {
    return `CheckpointManager(${this.#uri ?? 'the checkpoint'})`;
  }

  /**
   * Creates the storage for `uri` with `StorageFactory.fromUri` (which imports
   * the backend package the application installed) and a manager on it.
   *
   * @throws {InvalidUriError} for a URI the backend cannot use.
   * @throws {BackendNotInstalledError} when no backend for the scheme is installed.
   *
   * @example
   * ```ts
   * const checkpoint = await CheckpointManager.fromUri('s3://bucket/crawl.jsonl', { flushEvery: 100 });
   * ```
   */
  static async fromUri<T = unknown, U extends string = string>(
    uri: U,
    options: CheckpointManagerFromUriOptions<SchemeOf<U>> = {},
  ): Promise<CheckpointManager<T>> {
    const { storageOptions, ...rest } = options;
    // Check the manager's options before anything is opened.
    OPTIONS.parse({ uri, options: rest, backend: 'CheckpointManager' });
    const storage = await StorageFactory.fromUri(
      uri as string,
      storageOptions as Record<string, unknown> | undefined,
    );
    return new CheckpointManager<T>({ ...rest, storage });
  }

  /** `true` once `close()` has completed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Records appended since the last successful flush. */
  get pendingRecords(): number {
    return this.#pendingRecords;
  }

  /**
   * Appends one record as a JSON line. Flushes when a threshold is reached
   * (and then resolves after the flush).
   *
   * @throws {TypeError} when `record` does not serialise to JSON (`undefined`,
   *   a function, a symbol, a BigInt, a cycle); nothing is written then.
   * @throws {StorageClosedError} after `close()`.
   * @throws whatever the storage throws on write or flush (the data is kept by
   *   the storage and retried on the next flush).
   */
  append(record: T): Promise<void> {
    if (this.#closing) {
      return Promise.reject(
        new StorageClosedError(
          `append() after close() on ${this.#uri ?? 'the checkpoint'}: create a new CheckpointManager to write again`,
          { uri: this.#uri },
        ),
      );
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(record);
    } catch (e) {
      return Promise.reject(
        new TypeError(`append() needs a JSON-serialisable record: ${(e as Error).message}`, {
          cause: e,
        }),
      );
    }
    if (typeof json !== 'string') {
      return Promise.reject(
        new TypeError(
          `append() needs a JSON-serialisable record, got ${record === undefined ? 'undefined' : typeof record}`,
        ),
      );
    }
    const line = `${json}\n`;
    return this.#enqueue(async () => {
      await this.storage.write(line);
      this.#pendingRecords++;
      this.#pendingBytes += Buffer.byteLength(line, 'utf8');
      if (this.#pendingRecords >= this.#flushEvery || this.#pendingBytes >= this.#flushBytes) {
        await this.#flushNow();
      } else {
        this.#armTimer();
      }
    });
  }

  /**
   * Persists every record appended before this call.
   *
   * @throws {StorageClosedError} after `close()`.
   * @throws whatever the storage throws; the records are kept and the next
   *   flush retries them.
   */
  flush(): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new StorageClosedError(`flush() after close() on ${this.#uri ?? 'the checkpoint'}`, {
          uri: this.#uri,
        }),
      );
    }
    return this.#enqueue(() => this.#flushNow());
  }

  /**
   * Flushes, closes the storage and removes the signal handlers. Idempotent:
   * later calls return the same promise. If the final flush fails, it rejects
   * and a later `close()` tries again.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    const closing = this.#enqueue(async () => {
      this.#clearTimer();
      await this.storage.close();
      this.#pendingRecords = 0;
      this.#pendingBytes = 0;
      this.#closed = true;
      if (this.#handlesSignals) {
        this.#handlesSignals = false;
        untrackSignals(this);
      }
    });
    this.#closing = closing;
    closing.catch(() => {
      if (this.#closing === closing) this.#closing = undefined;
    });
    return closing;
  }

  /** Lets `await using checkpoint = …` close the manager. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Streams the checkpoint's records in order, parsed. Memory stays bounded
   * by the longest line.
   *
   * - Blank lines are ignored.
   * - A torn record (a truncated JSON prefix, NUL bytes, or a prefix followed
   *   by NULs) is skipped wherever it is and reported to `onWarning` as
   *   `{ kind: 'torn-record', line, preview }`.
   *
   * It reads what is persisted: call `flush()` first to include records
   * appended by this manager. `options.signal` aborts the read.
   *
   * @throws {CheckpointCorruptError} at the first line that is none of the above.
   *
   * @example
   * ```ts
   * for await (const record of checkpoint.records()) done.add(record.url);
   * ```
   */
  records(options: ReadOptions = {}): AsyncIterableIterator<T> {
    return readRecords<T>(this.storage, {
      uri: this.#uri,
      signal: options.signal,
      onTorn: (line, preview) =>
        this.#onWarning({ kind: 'torn-record', line, preview, uri: this.#uri }),
    });
  }

  /** @internal Called by the shared signal handler. */
  closeForSignal(): Promise<void> {
    return this.close().catch((error: unknown) => {
      this.#onWarning({ kind: 'close-failed', error, uri: this.#uri });
    });
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(op);
    this.#chain = run.catch(() => {});
    return run;
  }

  async #flushNow(): Promise<void> {
    this.#clearTimer();
    const records = this.#pendingRecords;
    const bytes = this.#pendingBytes;
    try {
      await this.storage.flush();
    } catch (e) {
      // The storage keeps the data; re-arm so a slow crawl still retries.
      this.#armTimer();
      throw e;
    }
    this.#pendingRecords -= records;
    this.#pendingBytes -= bytes;
  }

  #armTimer(): void {
    if (this.#timer || !Number.isFinite(this.#flushIntervalMs) || this.#closing) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closing) return;
      this.#enqueue(() => this.#flushNow()).catch((error: unknown) => {
        this.#onWarning({ kind: 'flush-failed', error, uri: this.#uri });
      });
    }, this.#flushIntervalMs);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}
