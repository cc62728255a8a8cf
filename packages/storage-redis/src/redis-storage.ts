import { randomUUID } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import {
  BufferedStorage,
  type BufferedStorageOptions,
  type Chunk,
  ConcurrentWriterError,
  InvalidUriError,
  type OpenResult,
  StorageError,
} from '@yoink/storage-core';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { createClient, type RedisClient } from './client.js';
import { type CheckpointKeys, checkpointKeys } from './keys.js';
import {
  cleanCause,
  isAuthError,
  isPermanentConnectionError,
  isTransient,
  isWrongTypeError,
} from './redis-errors.js';
import { APPEND_SCRIPT, type LuaScript, OPEN_SCRIPT, REPLY } from './scripts.js';
import { DEFAULT_ELEMENT_CHARS, splitElements } from './split-elements.js';
import { parseRedisUri } from './uri.js';

/** Options of {@link RedisStorage}. */
export interface RedisStorageOptions extends BufferedStorageOptions {
  /**
   * How long one call (a flush's append, the open on first write, a read page,
   * `exists()`) keeps retrying while Redis is unreachable, restarting, loading
   * or failing over, in ms. Then it rejects with {@link StorageError}; a failed
   * flush keeps its data for the next one. Default 10,000.
   */
  flushTimeoutMs?: number;
  /** TLS options for `rediss://` (e.g. `{ ca }` for a private CA), passed to ioredis. */
  tls?: ConnectionOptions;
  /** Extra ioredis options for a client created from a URI (for a cluster: each node's). */
  redisOptions?: RedisOptions;
  /** Extra ioredis `Cluster` options for a cluster created from a URI. */
  clusterOptions?: ClusterOptions;
  /** Target size of one read page, in bytes (the page's entry count adapts). Default 4 MiB. */
  readPageBytes?: number;
  /**
   * Above this many bytes, one flush is sent as several fenced calls (still
   * exactly once: a retry resumes at the first unconfirmed part). Default 64 MiB.
   */
  maxCallBytes?: number;
}

/** Default of {@link RedisStorageOptions.flushTimeoutMs}. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 10_000;
const DEFAULT_READ_PAGE_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_CALL_BYTES = 64 * 1024 * 1024;
const FIRST_PAGE_COUNT = 16;
const MAX_PAGE_COUNT = 1000;

/** One flush (or the part of it not yet confirmed), with its fence sequence. */
interface Batch {
  seq: number;
  /** UTF-16 length of the flush's data. */
  length: number;
  /** The flush's calls: each a list of elements, with the index of its first element. */
  parts: { first: number; elements: string[] }[];
  /** Parts confirmed applied (by a reply of 1 or 0). */
  done: number;
}

type Reply = [number, ...(string | number)[]];

function positive(name: string, value: unknown, fallback: number, uri: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidUriError(`Option ${name} must be a positive number, got ${String(value)}`, {
      uri,
    });
  }
  return value;
}

function isClient(v: unknown): v is RedisClient {
  return (
    typeof v === 'object' &&
    v !== null &&
    'isCluster' in v &&
    typeof (v as { evalsha?: unknown }).evalsha === 'function'
  );
}

function describeClient(client: RedisClient, key: string): string {
  const q = `key=${encodeURIComponent(key)}`;
  if (client.isCluster) {
    const nodes = (client as unknown as { startupNodes?: unknown }).startupNodes;
    const first = Array.isArray(nodes) ? (nodes[0] as { host?: string; port?: number }) : undefined;
    const at = first?.host ? `${first.host}:${first.port ?? 6379}` : 'cluster';
    return `redis://${at}?cluster=true&${q}`;
  }
  const o = (client as { options?: RedisOptions }).options ?? {};
  const scheme = o.tls ? 'rediss' : 'redis';
  return `${scheme}://${o.host ?? 'localhost'}:${o.port ?? 6379}/${o.db ?? 0}?${q}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const TIMED_OUT = Symbol('timed out');

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  // The command may still complete later; its result is ignored, and a late
  // append is harmless (the fence recognises it when the flush is retried).
  promise.catch(() => {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms));
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * A checkpoint in Redis (or Valkey, or Redis Cluster), kept as a stream.
 *
 * - **Layout.** The data is the stream at `key`: each flush appends entries
 *   `XADD key <seq>-<n> d <text>`, where `seq` numbers flushes and `n` the
 *   elements of one flush; an element holds up to 256 Ki UTF-16 units (usually
 *   whole lines, possibly part of one). The writer fence is the hash
 *   `{key}:meta` (or `key:meta` when `key` has a hash tag) with fields `owner`,
 *   `seq`, `part`; both keys share one Cluster slot.
 * - **Exactly once.** `flush()` sends its whole batch in one `EVALSHA` of a Lua
 *   script (a few calls only above `maxCallBytes`) that appends only when this
 *   instance still owns the fence and the flush's sequence is the next one. A
 *   flush retried after a lost reply (or re-sent by ioredis after a reconnect)
 *   is recognised and not appended twice.
 * - **One writer.** The first `write()` takes the fence with a fresh token; a
 *   previous writer's next flush then rejects with {@link ConcurrentWriterError}
 *   and keeps its data.
 * - **Reading** pages with `XRANGE key (<last id> + COUNT n` — O(log N) per
 *   page, so a full read is linear — and stops at the last entry that existed
 *   when `read()` started.
 * - **Faults.** While Redis is down, restarting or failing over, each call
 *   retries for up to `flushTimeoutMs`, then rejects with {@link StorageError}
 *   (a flush keeps its data). No call waits longer.
 *
 * A client passed in belongs to the caller: `close()` flushes but does not quit it.
 *
 * @throws {InvalidUriError} from the constructor for a bad URI, a missing key,
 * or a bad option.
 *
 * @example
 * ```ts
 * const storage = new RedisStorage('redis://:secret@localhost:6379/0', 'yoink:crawl-1');
 * await storage.write('{"url":"https://example.com"}\n');
 * await storage.flush();
 * for await (const line of storage.read()) console.log(line);
 * await storage.close();
 * // or: new RedisStorage('redis://localhost?key=yoink:crawl-1')
 * // or: new RedisStorage(new Cluster([{ host, port }]), 'yoink:crawl-1')
 * ```
 */
export class RedisStorage extends BufferedStorage {
  /** The Redis key of the checkpoint's stream. */
  readonly key: string;
  /** The data and meta (fence) keys. */
  readonly keys: CheckpointKeys;
  readonly #client: RedisClient;
  readonly #ownsClient: boolean;
  readonly #timeoutMs: number;
  readonly #pageBytes: number;
  readonly #maxCallBytes: number;
  readonly #token: string = randomUUID();
  #lastClientError: unknown;
  /** The fence sequence of this instance's last flush. */
  #seq = 0;
  /** UTF-16 units at the start of the next `persist()` data that are already persisted. */
  #skip = 0;
  /** Flushes sent but not confirmed, oldest first (at most the failed one). */
  #inDoubt: Batch[] = [];

  /**
   * @param uri `redis[s]://[user][:password]@host[:port][/db]?key=<key>[&cluster=true&nodes=h:p,…]`.
   */
  constructor(uri: string, options?: RedisStorageOptions);
  /**
   * @param urlOrClient a URI as above (its `key` may be left out), or an ioredis
   *   `Redis`/`Cluster` that stays the caller's (never quit by us).
   * @param key the Redis key of the checkpoint's stream.
   */
  constructor(urlOrClient: string | RedisClient, key: string, options?: RedisStorageOptions);
  constructor(
    urlOrClient: string | RedisClient,
    keyOrOptions?: string | RedisStorageOptions,
    maybeOptions?: RedisStorageOptions,
  ) {
    const keyArg = typeof keyOrOptions === 'string' ? keyOrOptions : undefined;
    const options: RedisStorageOptions =
      (typeof keyOrOptions === 'object' && keyOrOptions !== null ? keyOrOptions : maybeOptions) ??
      {};
    let uri: string;
    let key: string;
    let client: RedisClient | undefined;
    let parts: ReturnType<typeof parseRedisUri> | undefined;
    if (typeof urlOrClient === 'string') {
      parts = parseRedisUri(urlOrClient);
      if (keyArg !== undefined && parts.key !== undefined && keyArg !== parts.key) {
        throw new InvalidUriError(
          `The URI names key "${parts.key}" but the key argument is "${keyArg}": give it once`,
          { uri: urlOrClient },
        );
      }
      key = keyArg ?? parts.key ?? '';
      uri =
        parts.key === undefined && key !== ''
          ? `${urlOrClient}${urlOrClient.includes('?') ? '&' : '?'}key=${encodeURIComponent(key)}`
          : urlOrClient;
    } else if (isClient(urlOrClient)) {
      client = urlOrClient;
      key = keyArg ?? '';
      uri = describeClient(urlOrClient, key);
    } else {
      throw new InvalidUriError(
        'RedisStorage takes a redis:// URI or an ioredis Redis/Cluster client as its first argument',
      );
    }
    super(uri, options);
    this.key = key;
    this.keys = checkpointKeys(key, uri);
    this.#timeoutMs = positive(
      'flushTimeoutMs',
      options.flushTimeoutMs,
      DEFAULT_FLUSH_TIMEOUT_MS,
      uri,
    );
    this.#pageBytes = positive(
      'readPageBytes',
      options.readPageBytes,
      DEFAULT_READ_PAGE_BYTES,
      uri,
    );
    this.#maxCallBytes = positive(
      'maxCallBytes',
      options.maxCallBytes,
      DEFAULT_MAX_CALL_BYTES,
      uri,
    );
    if (client) {
      this.#client = client;
      this.#ownsClient = false;
    } else {
      this.#client = createClient(parts as NonNullable<typeof parts>, {
        tls: options.tls,
        redisOptions: options.redisOptions,
        clusterOptions: options.clusterOptions,
        connectTimeoutMs: Math.min(this.#timeoutMs, 10_000),
      });
      this.#ownsClient = true;
      // Our own client: keep its last connection error for messages (and so
      // ioredis does not report it as unhandled).
      this.#client.on('error', (e: unknown) => {
        this.#lastClientError = e;
      });
    }
  }

  /** The ioredis client in use (the caller's, or the one created from the URI). */
  get client(): RedisClient {
    return this.#client;
  }

  // ---- BufferedStorage's part --------------------------------------------------

  protected override async openForAppend(): Promise<OpenResult> {
    const reply = await this.#runScript('open', OPEN_SCRIPT, [this.#token]);
    if (reply[0] === REPLY.wrongType) throw this.#wrongType(String(reply[1]));
    this.#seq = Number(reply[1]);
    return { tornTail: Number(reply[2]) === 1 };
  }

  protected override async persist(data: string): Promise<void> {
    let offset = this.#skip;
    try {
      // First the flushes whose outcome is unknown, with their original
      // sequence: already applied means "done", never "append again".
      while (this.#inDoubt.length > 0) {
        const batch = this.#inDoubt[0] as Batch;
        await this.#send(batch);
        offset += batch.length;
        this.#inDoubt.shift();
      }
      if (offset < data.length) {
        const batch = this.#batch(offset === 0 ? data : data.slice(offset));
        this.#inDoubt.push(batch);
        await this.#send(batch);
        offset += batch.length;
        this.#inDoubt.shift();
      }
      this.#skip = 0;
    } catch (e) {
      // The base class hands `data` back to the next persist(); remember how
      // much of it is known to be persisted already.
      this.#skip = offset;
      throw e;
    }
  }

  protected override async *readChunks(): AsyncGenerator<Chunk> {
    const { data } = this.keys;
    const top = await this.#call('read', () => this.#client.xrevrange(data, '+', '-', 'COUNT', 1));
    // Stop at the last entry that exists now: a writer appending meanwhile
    // cannot keep the read going forever.
    const end = top[0]?.[0];
    if (end === undefined) return;
    // Elements are whole UTF-8 sequences (split at code-point boundaries), so
    // ioredis's per-element decoding to strings is exact.
    const fetch = (from: string, n: number): Promise<[string, string[]][]> =>
      this.#call('read', () => this.#client.xrange(data, from, end, 'COUNT', n));
    let count = FIRST_PAGE_COUNT;
    let next: Promise<[string, string[]][]> | undefined = fetch('-', count);
    while (next) {
      const page = await next;
      next = undefined;
      const last = page.at(-1);
      if (last !== undefined && page.length === count && last[0] !== end) {
        // Ask for the next page before handing this one out, so Redis and the
        // network work while the caller consumes lines (two pages at most).
        let bytes = 0;
        for (const [, fields] of page) for (const f of fields) bytes += f.length;
        const perEntry = Math.max(1, bytes / page.length);
        count = Math.max(1, Math.min(MAX_PAGE_COUNT, Math.floor(this.#pageBytes / perEntry)));
        next = fetch(`(${last[0]}`, count);
        // If the caller stops early, the prefetched page is dropped quietly.
        next.catch(() => {});
      }
      for (const [, fields] of page) {
        for (let i = 0; i + 1 < fields.length; i += 2) {
          if (fields[i] === 'd') yield fields[i + 1] as string;
        }
      }
    }
  }

  /** `true` once the checkpoint's stream exists (`EXISTS key`). */
  override async exists(): Promise<boolean> {
    const n = await this.#call('exists', () => this.#client.exists(this.keys.data));
    return n > 0;
  }

  protected override async release(): Promise<void> {
    if (!this.#ownsClient) return;
    const client = this.#client;
    if (client.status === 'ready') {
      await withDeadline(client.quit(), 1_000).catch(() => {});
    }
    client.disconnect();
  }

  // ---- internals --------------------------------------------------------------

  #batch(text: string): Batch {
    this.#seq += 1;
    // An element must fit in one call (UTF-8 is at most 3 bytes per UTF-16 unit).
    const elementChars = Math.max(
      1024,
      Math.min(DEFAULT_ELEMENT_CHARS, Math.floor(this.#maxCallBytes / 3)),
    );
    const elements = splitElements(text, elementChars);
    const parts: Batch['parts'] = [];
    let current: string[] = [];
    let currentBytes = 0;
    let first = 0;
    let index = 0;
    for (const el of elements) {
      // An upper bound of the UTF-8 size is enough to cut calls.
      const bytes = el.length * 3;
      if (current.length > 0 && currentBytes + bytes > this.#maxCallBytes) {
        parts.push({ first, elements: current });
        current = [];
        currentBytes = 0;
        first = index;
      }
      current.push(el);
      currentBytes += bytes;
      index += 1;
    }
    if (current.length > 0) parts.push({ first, elements: current });
    return { seq: this.#seq, length: text.length, parts, done: 0 };
  }

  async #send(batch: Batch): Promise<void> {
    while (batch.done < batch.parts.length) {
      const part = batch.parts[batch.done] as Batch['parts'][number];
      const reply = await this.#runScript('flush', APPEND_SCRIPT, [
        this.#token,
        String(batch.seq),
        String(batch.done),
        String(part.first),
        ...part.elements,
      ]);
      switch (reply[0]) {
        case REPLY.applied:
        case REPLY.alreadyApplied:
          batch.done += 1;
          break;
        case REPLY.conflict:
          throw new ConcurrentWriterError(
            `Another writer took over the Redis checkpoint ${this.uri} (a newer RedisStorage opened key "${this.key}" for appending), so this flush was refused and nothing was appended. Its data stays buffered in this instance; stop this writer, or read the checkpoint and resume from it with one writer.`,
            { uri: this.uri },
          );
        case REPLY.wrongType:
          throw this.#wrongType(String(reply[1]));
        default:
          throw new StorageError(
            `The fence of the Redis checkpoint ${this.uri} is at flush ${String(reply[1])} part ${String(reply[2])}, but this writer sent flush ${batch.seq} part ${batch.done}: the meta key "${this.keys.meta}" was changed by someone else. Nothing was appended; the data stays buffered.`,
            { uri: this.uri },
          );
      }
    }
  }

  #wrongType(type: string): StorageError {
    return new StorageError(
      `The Redis key "${this.key}" at ${this.uri} holds a ${type}, not a stream: RedisStorage keeps a checkpoint as a stream (XADD/XRANGE). Use another key, or delete this one (DEL ${this.key}) if its content is not needed.`,
      { uri: this.uri },
    );
  }

  async #runScript(op: string, script: LuaScript, args: string[]): Promise<Reply> {
    const { data, meta } = this.keys;
    const reply = await this.#call(op, async () => {
      try {
        return await this.#client.evalsha(script.sha, 2, data, meta, ...args);
      } catch (e) {
        if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
        // First use on this server (or after a restart / SCRIPT FLUSH).
        return await this.#client.eval(script.source, 2, data, meta, ...args);
      }
    });
    if (!Array.isArray(reply) || typeof reply[0] !== 'number') {
      throw new StorageError(
        `Unexpected reply from the ${op} script on ${this.uri}: ${JSON.stringify(reply).slice(0, 200)}`,
        { uri: this.uri },
      );
    }
    return reply as Reply;
  }

  /**
   * Runs `fn`, retrying transient failures (connection down, LOADING, failover)
   * with backoff until `flushTimeoutMs` has passed since the first attempt;
   * maps every failure to a typed error.
   */
  async #call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#timeoutMs;
    let backoff = 20;
    let last: unknown;
    this.#lastClientError = undefined;
    for (;;) {
      let result: T | typeof TIMED_OUT;
      try {
        result = await withDeadline(fn(), deadline - Date.now());
      } catch (e) {
        if (StorageError.isInstance(e)) throw e;
        if (isWrongTypeError(e)) {
          const type = await this.#client.type(this.keys.data).catch(() => 'value of another type');
          throw this.#wrongType(type);
        }
        if (!isTransient(e)) throw this.#mapError(op, e);
        // The connection fails for a reason that waiting cannot fix (a
        // certificate that does not verify, refused credentials): say so now.
        if (isPermanentConnectionError(this.#lastClientError)) {
          throw this.#mapError(op, this.#lastClientError);
        }
        last = e;
        if (Date.now() + backoff < deadline) {
          await delay(backoff);
          backoff = Math.min(backoff * 2, 500);
          continue;
        }
        result = TIMED_OUT;
      }
      if (result !== TIMED_OUT) return result;
      // ioredis's own connection error (ECONNREFUSED…) says more than
      // "max retries per request".
      throw this.#unreachable(op, this.#lastClientError ?? last);
    }
  }

  #unreachable(op: string, cause: unknown): StorageError {
    const detail =
      cause === undefined ? '' : ` (last error: ${cleanCause(cause, this.uri).message})`;
    const kept =
      op === 'flush' || op === 'open'
        ? ' The unflushed data is kept: flush() again once Redis is reachable, or raise flushTimeoutMs.'
        : ' Check that Redis is running and reachable, or raise flushTimeoutMs.';
    return new StorageError(
      `Redis at ${this.uri} did not complete ${op === 'open' ? 'opening the checkpoint for writing' : op} within ${this.#timeoutMs} ms${detail}.${kept}`,
      { uri: this.uri, cause: cause === undefined ? undefined : cleanCause(cause, this.uri) },
    );
  }

  #mapError(op: string, e: unknown): StorageError {
    const cause = cleanCause(e, this.uri);
    if (isAuthError(e)) {
      return new StorageError(
        `Redis at ${this.uri} refused the credentials or a permission (${cause.message.split(' ')[0]}) during ${op}: check the user name and password in the URI, and that the ACL user may run EVALSHA, XADD, XRANGE, XREVRANGE, HSET, HGET, TYPE and EXISTS on "${this.key}" and "${this.keys.meta}".`,
        { uri: this.uri, cause },
      );
    }
    if (isPermanentConnectionError(e)) {
      return new StorageError(
        `Could not connect to Redis at ${this.uri}: ${cause.message}. For rediss:// with a private CA, pass it as options.tls.ca.`,
        { uri: this.uri, cause },
      );
    }
    return new StorageError(`Redis ${op} on ${this.uri} failed: ${cause.message}`, {
      uri: this.uri,
      cause,
    });
  }
}
