import { CheckpointStorage, type ReadOptions } from './checkpoint-storage.js';
import {
  ConcurrentWriterError,
  ConditionalWritesUnsupportedError,
  InvalidOptionError,
  StorageClosedError,
} from './errors.js';
import { watchedChunks } from './read-chunks.js';
import { redactUri } from './redact.js';
import { type Chunk, splitLines } from './split-lines.js';
import {
  countNewlines,
  debugEnabled,
  debugLog,
  type StorageTraceContext,
  trace,
  traced,
} from './tracing.js';
import { WriteBuffer } from './write-buffer.js';

/** Options every {@link BufferedStorage} backend accepts. */
export interface BufferedStorageOptions {
  /**
   * Once this many bytes (UTF-8) are buffered, the next `write()` first
   * flushes them and waits for that flush, so memory stays bounded.
   * Default 8 MiB.
   */
  maxBufferBytes?: number;
}

/** What a backend reports when it opens a checkpoint for appending. */
export interface OpenResult {
  /**
   * `true` when persisted content exists and its last character is not `\n`
   * (a write torn by a crash). The base class then starts the first append on
   * a fresh line.
   */
  tornTail: boolean;
}

/** Default bound of the write buffer: 8 MiB. */
const DEFAULT_MAX_BUFFER_BYTES: number = 8 * 1024 * 1024;

type State = 'open' | 'closing' | 'closed';

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * The error `close()` throws when it gave up on unpersisted data: the same
 * class as `cause` (so callers branch on it as before), with a message that
 * says what was dropped.
 */
function closedWithout(cause: unknown, what: string, uri: string): unknown {
  const ErrorClass = (cause as object | null)?.constructor as
    | (new (
        message: string,
        options: { uri: string; cause: unknown },
      ) => Error)
    | undefined;
  const reason = cause instanceof Error ? cause.message : String(cause);
  try {
    if (ErrorClass) return new ErrorClass(`${what}: ${reason}`, { uri, cause });
  } catch {
    // A class with another constructor shape: report the cause itself.
  }
  return cause;
}

/**
 * The base class for backends. It implements the contract's rules once:
 *
 * - **buffering**: `write()` appends to an in-memory buffer; a full buffer
 *   (`maxBufferBytes`) is flushed before more is accepted;
 * - **serialized flushes**: one `persist()` at a time; a `write()` during a
 *   flush goes into the next one, so order is the order of `write()` calls;
 * - **no loss on failure**: when `persist()` throws, its data goes back to the
 *   front of the buffer and the next `flush()` retries it;
 * - **closed state**: `write()`/`flush()` after `close()` reject with
 *   {@link StorageClosedError}; `close()` is idempotent;
 * - **clean line start**: when {@link BufferedStorage.openForAppend} reports a
 *   torn tail, the first append of this instance starts with `\n`;
 * - **reading**: `read()` runs {@link BufferedStorage.readChunks} through
 *   {@link splitLines}.
 *
 * A backend implements only its I/O: `persist`, `readChunks`, `exists`, and
 * optionally `openForAppend` and `release`.
 *
 * @example
 * ```ts
 * class FileStorage extends BufferedStorage {
 *   protected async openForAppend() { return { tornTail: await lastByteIsNotNewline(path) }; }
 *   protected async persist(data: string) { await fs.appendFile(path, data); }
 *   protected readChunks() { return fs.createReadStream(path); }
 *   async exists() { return fs.existsSync(path); }
 * }
 * ```
 */
export abstract class BufferedStorage extends CheckpointStorage {
  /**
   * The checkpoint's location with credentials redacted: safe to log. (The
   * URI as given is kept private; `inspect`, `toJSON` and `toString` show
   * this one.)
   */
  readonly uri: string;
  readonly #rawUri: string;
  readonly #buffer = new WriteBuffer();
  #state: State = 'open';
  #opened: Promise<void> | undefined;
  #tornTailHandled = false;
  /** Flushes and waiting writes, one at a time, in call order. */
  #chain: Promise<void> = Promise.resolve();
  /** Writes queued on #chain and not yet buffered: later writes must queue behind them. */
  #queuedWrites = 0;
  #closing: Promise<void> | undefined;
  readonly #maxBufferBytes: number;

  constructor(uri: string, options: BufferedStorageOptions = {}) {
    super();
    this.#rawUri = uri;
    this.uri = redactUri(uri);
    const max = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
    if (typeof max !== 'number' || !Number.isFinite(max) || max <= 0) {
      throw new InvalidOptionError(
        `maxBufferBytes must be a positive number, got ${String(max)} (for ${this.uri})`,
        { uri },
      );
    }
    this.#maxBufferBytes = max;
  }

  /**
   * The URI as given, credentials included: for the backend's own use (a
   * connection, scrubbing a client's error with `{ uri: this.rawUri }`).
   * Never print it.
   */
  protected get rawUri(): string {
    return this.#rawUri;
  }

  /** `util.inspect` / `console.log`: the class and the redacted URI, nothing else. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.constructor.name} { uri: ${JSON.stringify(this.uri)}, closed: ${this.closed} }`;
  }

  /** `JSON.stringify`: the backend's class and the redacted URI. */
  toJSON(): { backend: string; uri: string } {
    return { backend: this.constructor.name, uri: this.uri };
  }

  /** `ClassName(redacted URI)`. */
  override toString(): string {
    return `${this.constructor.name}(${this.uri})`;
  }

  // ---- the backend's part -------------------------------------------------

  /**
   * Append `data` to the persisted checkpoint, all of it or nothing. Called
   * one at a time, in order. If it throws, the base class keeps `data` and
   * passes it again (possibly with more data after it) to the next call, so
   * a `persist` that fails must not have appended any of it, or must make the
   * retry harmless (a fence, a truncate back).
   */
  protected abstract persist(data: string): Promise<void>;

  /**
   * The persisted content as chunks in order; nothing when it does not exist.
   * Called for every `read()`, also after `close()`: open what the read needs
   * and release it when the iteration ends (a `finally` in a generator runs
   * when the caller stops early too). Pass `options.signal` to in-flight
   * requests so an abort cancels them at once.
   */
  protected abstract readChunks(options: ReadOptions): AsyncIterable<Chunk>;

  /**
   * Called once, before this instance's first write is accepted: acquire a
   * lock, learn an ETag, check the tail. If it throws, the write that
   * triggered it rejects and the next write calls it again.
   */
  protected async openForAppend(): Promise<OpenResult> {
    return { tornTail: false };
  }

  /** Release handles and clients. Called once by `close()` after the final flush. */
  protected async release(): Promise<void> {}

  /**
   * `true` when `error`, thrown by a flush, means no later flush can deliver
   * the buffered data safely: `close()` then releases everything anyway and
   * reports how many bytes were not persisted, instead of staying open for a
   * retry. Default: {@link ConcurrentWriterError} and
   * {@link ConditionalWritesUnsupportedError}. A backend adds its own (Redis:
   * the server lost the checkpoint).
   */
  protected retryCannotDeliver(error: unknown): boolean {
    return (
      ConcurrentWriterError.isInstance(error) || ConditionalWritesUnsupportedError.isInstance(error)
    );
  }

  // ---- the contract -------------------------------------------------------

  /** Number of bytes buffered and not yet persisted. */
  get bufferedBytes(): number {
    return this.#buffer.bytes();
  }

  /** `true` once `close()` has completed. */
  get closed(): boolean {
    return this.#state === 'closed';
  }

  write(data: string): Promise<void> {
    // The common case (open, opened, nothing queued ahead, room in the buffer)
    // needs no async function frame: buffer the data and return a settled promise.
    if (
      this.#state === 'open' &&
      this.#tornTailHandled &&
      this.#queuedWrites === 0 &&
      typeof data === 'string' &&
      !this.#buffer.atLeast(this.#maxBufferBytes)
    ) {
      if (data.length > 0) this.#buffer.push(data);
      return RESOLVED;
    }
    return this.#writeSlow(data);
  }

  /**
   * A write that must wait (for the open, or for room in the buffer) takes its
   * place in the same queue as flushes, when it is called: a `flush()` or
   * `close()` called after it runs after it, so it persists this data whether
   * or not the caller awaited the write.
   */
  #writeSlow(data: string): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(this.#closedError('write'));
    if (typeof data !== 'string') {
      return Promise.reject(new TypeError(`write() takes a string, got ${typeof data}`));
    }
    this.#queuedWrites += 1;
    const run = this.#enqueue(async () => {
      try {
        // If the open fails, this write rejects and none of its data is taken.
        if (this.#opened === undefined || !this.#tornTailHandled) await this.#ensureOpen();
        // Backpressure: empty the buffer before accepting more. If that fails,
        // this write rejects and its data is not taken (the buffered data is kept).
        if (this.#buffer.atLeast(this.#maxBufferBytes)) await this.#flushOnce();
        if (data.length > 0) this.#buffer.push(data);
      } finally {
        this.#queuedWrites -= 1;
      }
    });
    return run;
  }

  flush(): Promise<void> {
    if (this.#state === 'closed') {
      return Promise.reject(this.#closedError('flush'));
    }
    return this.#enqueueFlush();
  }

  /**
   * Yields the checkpoint's lines in order (see {@link CheckpointStorage}).
   * Works after `close()` too. `options.signal` aborts the read: the
   * iteration throws the signal's reason, and the backend's read is stopped
   * and its handle or connection released.
   */
  read(options: ReadOptions = {}): AsyncGenerator<string, void, undefined> {
    // The common case gets no generator of its own around the splitter: one
    // layer less per line.
    if (options.signal === undefined && !traced('read')) {
      return splitLines(this.readChunks(options));
    }
    return splitLines(
      watchedChunks(this.readChunks(options), options.signal, () => this.#context('read')),
      options,
    );
  }

  #context(operation: StorageTraceContext['operation']): StorageTraceContext {
    return { operation, backend: this.constructor.name, uri: this.uri };
  }

  /** Runs `fn` in `operation`'s tracing channel when someone subscribed (else no context is built). */
  #traced<T>(
    operation: StorageTraceContext['operation'],
    fn: (ctx: StorageTraceContext | undefined) => Promise<T>,
  ): Promise<T> {
    if (!traced(operation)) return fn(undefined);
    const ctx = this.#context(operation);
    return trace(ctx, () => fn(ctx));
  }

  abstract override exists(): Promise<boolean>;

  close(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    if (this.#closing) return this.#closing;
    this.#state = 'closing';
    this.#closing = this.#traced('close', async () => {
      try {
        await this.#enqueue(() => this.#flushOnce(true));
      } catch (e) {
        if (this.retryCannotDeliver(e)) {
          // No retry can deliver this data safely (another writer owns the
          // checkpoint, the server cannot refuse one, the server lost the
          // checkpoint). Close anyway (release clients, locks) and report what
          // was not persisted, with the same error class.
          const unflushed = this.#buffer.bytes();
          this.#buffer.clear();
          this.#state = 'closed';
          await this.release().catch(() => {});
          throw closedWithout(
            e,
            `${this.uri} was closed without persisting its last ${unflushed} buffered bytes`,
            this.uri,
          );
        }
        // The data is still buffered: reopen so the caller can retry close()/flush().
        this.#state = 'open';
        this.#closing = undefined;
        throw e;
      }
      this.#state = 'closed';
      await this.release();
      debugLog('%s: closed', this.uri);
    });
    return this.#closing;
  }

  // ---- internals ----------------------------------------------------------

  #closedError(op: string): StorageClosedError {
    return new StorageClosedError(
      `${op}() after close() on ${this.uri}: create a new storage to write again`,
      { uri: this.uri },
    );
  }

  async #ensureOpen(): Promise<void> {
    if (this.#opened === undefined) {
      const opening = this.#traced('open', async (ctx) => {
        const started = performance.now();
        const result = await this.openForAppend();
        if (ctx) ctx.tornTail = result.tornTail;
        if (debugEnabled()) {
          debugLog(
            '%s: opened for writing in %s ms (torn tail: %s)',
            this.uri,
            (performance.now() - started).toFixed(1),
            result.tornTail,
          );
        }
        return result;
      }).then((result) => {
        if (!this.#tornTailHandled) {
          this.#tornTailHandled = true;
          // Torn tail: the first bytes this instance persists start a fresh line.
          if (result.tornTail) {
            this.#buffer.unshift('\n', 1);
          }
        }
      });
      this.#opened = opening;
      opening.catch(() => {
        if (this.#opened === opening) this.#opened = undefined;
      });
    }
    await this.#opened;
  }

  #enqueueFlush(): Promise<void> {
    return this.#enqueue(() => this.#flushOnce());
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(step);
    // Keep the chain alive after a failure; the caller still sees the rejection.
    this.#chain = run.catch(() => {});
    return run;
  }

  async #flushOnce(final = false): Promise<void> {
    if (this.#buffer.length === 0) return;
    if (this.#opened === undefined || !this.#tornTailHandled) await this.#ensureOpen();
    let data = this.#buffer.take();
    const last = data.charCodeAt(data.length - 1);
    if (!final && last >= 0xd800 && last <= 0xdbff) {
      // A high surrogate whose low half has not been written yet: UTF-8 cannot
      // encode half a character, so it waits for the next write (close() then
      // persists it as it is, which UTF-8 turns into U+FFFD).
      this.#buffer.unshift(data.slice(-1), 3);
      data = data.slice(0, -1);
      if (data.length === 0) return;
    }
    try {
      await this.#traced('flush', async (ctx) => {
        const started = debugEnabled() ? performance.now() : 0;
        if (ctx) {
          ctx.bytes = Buffer.byteLength(data, 'utf8');
          ctx.lines = countNewlines(data);
        }
        await this.persist(data);
        if (started) {
          debugLog(
            '%s: flushed %d bytes in %s ms',
            this.uri,
            Buffer.byteLength(data, 'utf8'),
            (performance.now() - started).toFixed(1),
          );
        }
      });
    } catch (e) {
      // Keep the data, ahead of anything written during the failed attempt.
      this.#buffer.unshift(data);
      throw e;
    }
  }
}
