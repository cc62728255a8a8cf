import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
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
import {
  FENCE_SCRIPT,
  type LuaScript,
  OPEN_SCRIPT,
  REFRESH_SCRIPT,
  RELEASE_SCRIPT,
  REPLY,
} from './scripts.js';
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
  /**
   * Time to live of the writer lease, in ms (URI: `leaseMs=`). The writer
   * renews it every `leaseMs / 3` (and on every flush); after a crash it
   * expires within `leaseMs`, and only then can another writer open the key
   * (unless it passes `takeover`). Default 15,000.
   */
  leaseMs?: number;
  /**
   * Take the writer lease even when another writer holds a live one (URI:
   * `takeover=true`): for an operator restarting a crawler whose predecessor
   * crashed less than `leaseMs` ago. The previous writer, if still alive, is
   * refused with {@link ConcurrentWriterError} at its next flush (its data
   * stays in its buffer). Default `false`.
   */
  takeover?: boolean;
}

/** Default of {@link RedisStorageOptions.flushTimeoutMs}. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 10_000;
/** Default of {@link RedisStorageOptions.leaseMs}. */
export const DEFAULT_LEASE_MS = 15_000;
const DEFAULT_READ_PAGE_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_CALL_BYTES = 64 * 1024 * 1024;
const FIRST_PAGE_COUNT = 16;
const MAX_PAGE_COUNT = 1000;

/** One flush (or the part of it not yet confirmed), with its fence sequence. */
interface Batch {
  seq: number;
  /** UTF-16 length of the flush's data. */
  length: number;
  /** The flush's calls: each a list of elements (UTF-8), with the index of its first element. */
  parts: { first: number; elements: Buffer[] }[];
  /** Parts confirmed applied (by a reply of 1 or 0). */
  done: number;
}

type Reply = [number, ...(string | number)[]];

/** What a lease key holds (JSON): who writes, from where, since when. */
interface LeaseHolder {
  token?: string;
  host?: string;
  pid?: number;
  since?: string;
}

function parseHolder(raw: unknown): LeaseHolder | undefined {
  if (typeof raw !== 'string' || raw === '') return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'object' && v !== null ? (v as LeaseHolder) : undefined;
  } catch {
    return undefined;
  }
}

function describeHolder(h: LeaseHolder | undefined, raw: unknown): string {
  if (h === undefined) return `an unknown writer (lease value ${JSON.stringify(String(raw))})`;
  return `the writer on host ${h.host ?? '?'}, pid ${h.pid ?? '?'}, writing since ${h.since ?? '?'}`;
}

function pickOption<T>(
  name: string,
  fromOptions: T | undefined,
  fromUri: T | undefined,
  uri: string,
): T | undefined {
  if (fromOptions !== undefined && fromUri !== undefined && fromOptions !== fromUri) {
    throw new InvalidUriError(
      `The URI sets ${name}=${String(fromUri)} but options.${name} is ${String(fromOptions)}: give it once`,
      { uri },
    );
  }
  return fromOptions ?? fromUri;
}

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

/** `true` for Redis refusing an `XADD` whose ID is not above the stream's last ID. */
function isDuplicateIdError(e: Error): boolean {
  return /equal or smaller than the target stream top item/.test(e.message);
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
 *   whole lines, possibly part of one). The flush fence is the hash
 *   `{key}:meta` (or `key:meta` when `key` has a hash tag) with fields `owner`,
 *   `seq`, `part`; the writer lease is the string `{key}:writer` (or
 *   `key:writer`) with a TTL. All three keys share one Cluster slot.
 * - **Exactly once.** `flush()` sends its whole batch in one round trip (a
 *   few only above `maxCallBytes`): `MULTI`, a Lua fence script, one
 *   `XADD key NOMKSTREAM <seq>-<n> d <element>` per element, `EXEC`. The fence
 *   checks the lease and the flush sequence and records the flush; the data
 *   itself never passes through Lua. An `XADD` with an explicit ID is applied
 *   at most once (Redis refuses an ID not above the stream's last ID), so a
 *   flush retried after a lost reply, or re-sent by ioredis after a reconnect,
 *   is never appended twice.
 * - **One writer: a lease.** The first `write()` takes the writer lease
 *   (`SET {key}:writer <token, host, pid, since> NX PX leaseMs`). While another
 *   writer holds a live lease, that `write()` rejects with
 *   {@link ConcurrentWriterError} naming the holder and when its lease expires.
 *   The holder renews the lease every `leaseMs / 3` (an unref'd timer) and on
 *   every flush; `close()` deletes it (if still ours), so a clean restart is
 *   immediate. After a crash the lease expires within `leaseMs`, then a new
 *   writer takes it; `takeover: true` takes it at once. Opening also fences
 *   every earlier writer out: `XSETID` moves the stream's last ID past every
 *   ID they may still send, so their `XADD`s are refused. A writer whose lease
 *   was taken is refused with {@link ConcurrentWriterError} at its next flush
 *   and keeps its data; if its lease merely expired and nobody opened the key
 *   since, its next flush (or heartbeat) takes it again.
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
 * @throws {ConcurrentWriterError} from the first `write()` while another
 * writer holds the lease, and from `flush()` once another writer took it.
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
  /** The data, meta (flush fence) and lease (writer lease) keys. */
  readonly keys: CheckpointKeys;
  readonly #client: RedisClient;
  readonly #ownsClient: boolean;
  readonly #timeoutMs: number;
  readonly #pageBytes: number;
  readonly #maxCallBytes: number;
  readonly #leaseMs: number;
  readonly #takeover: boolean;
  readonly #token: string = randomUUID();
  /** The lease key's value for this writer (JSON: token, host, pid, since), set on first open. */
  #leaseValue = '';
  /** `true` once an open was attempted (so there may be a lease to delete on close). */
  #openAttempted = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #refreshing = false;
  #lastClientError: unknown;
  /** The fence sequence of this instance's last flush. */
  #seq = 0;
  /** UTF-16 units at the start of the next `persist()` data that are already persisted. */
  #skip = 0;
  /** Flushes sent but not confirmed, oldest first (at most the failed one). */
  #inDoubt: Batch[] = [];

  /**
   * @param uri `redis[s]://[user][:password]@host[:port][/db]?key=<key>[&cluster=true&nodes=h:p,…][&leaseMs=…][&takeover=true]`.
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
    this.#leaseMs = Math.ceil(
      positive(
        'leaseMs',
        pickOption('leaseMs', options.leaseMs, parts?.leaseMs, uri),
        DEFAULT_LEASE_MS,
        uri,
      ),
    );
    const takeover = pickOption('takeover', options.takeover, parts?.takeover, uri) ?? false;
    if (typeof takeover !== 'boolean') {
      throw new InvalidUriError(`Option takeover must be true or false, got ${String(takeover)}`, {
        uri,
      });
    }
    this.#takeover = takeover;
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
    if (this.#leaseValue === '') {
      this.#leaseValue = JSON.stringify({
        token: this.#token,
        host: hostname(),
        pid: process.pid,
        since: new Date().toISOString(),
      });
    }
    this.#openAttempted = true;
    const reply = await this.#runScript('open', OPEN_SCRIPT, [
      this.#token,
      this.#leaseValue,
      String(this.#leaseMs),
      this.#takeover ? '1' : '0',
    ]);
    if (reply[0] === REPLY.wrongType) throw this.#wrongType(String(reply[1]));
    if (reply[0] === REPLY.conflict) throw this.#leaseHeldError(reply);
    this.#seq = Number(reply[1]);
    this.#startHeartbeat();
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
    // Pages come back as Buffers, and each element is decoded here in one
    // call: Buffer#toString takes V8's fast UTF-8 path, faster than ioredis's
    // StringDecoder for elements spanning several socket reads, and than the
    // streaming TextDecoder a byte chunk would go through in core's splitter.
    // Elements are whole UTF-8 sequences (cut at code-point boundaries), so
    // decoding each one alone is exact.
    type Page = [id: Buffer, fields: Buffer[]][];
    const fetch = (from: string, n: number): Promise<Page> =>
      this.#call('read', () => this.#client.xrangeBuffer(data, from, end, 'COUNT', n));
    let count = FIRST_PAGE_COUNT;
    let next: Promise<Page> | undefined = fetch('-', count);
    while (next) {
      const page = await next;
      next = undefined;
      const last = page.at(-1);
      const lastId = last?.[0].toString('latin1');
      if (lastId !== undefined && page.length === count && lastId !== end) {
        // Ask for the next page before handing this one out, so Redis and the
        // network work while the caller consumes lines (two pages at most).
        let bytes = 0;
        for (const [, fields] of page) for (const f of fields) bytes += f.length;
        const perEntry = Math.max(1, bytes / page.length);
        count = Math.max(1, Math.min(MAX_PAGE_COUNT, Math.floor(this.#pageBytes / perEntry)));
        next = fetch(`(${lastId}`, count);
        // If the caller stops early, the prefetched page is dropped quietly.
        next.catch(() => {});
      }
      for (const [, fields] of page) {
        for (let i = 0; i + 1 < fields.length; i += 2) {
          const name = fields[i] as Buffer;
          // Field "d" holds data; others (none today) are not content.
          if (name.length === 1 && name[0] === 0x64) {
            yield (fields[i + 1] as Buffer).toString('utf8');
          }
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
    this.#stopHeartbeat();
    const client = this.#client;
    if (this.#openAttempted && client.status === 'ready') {
      // Give the lease up (only if it is still ours), so the next writer can
      // start at once. If Redis is unreachable now, the lease expires by itself.
      await withDeadline(
        this.#eval(RELEASE_SCRIPT, [this.#leaseValue]),
        Math.min(this.#timeoutMs, 2_000),
      ).catch(() => {});
    }
    if (!this.#ownsClient) return;
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
    const parts: Batch['parts'] = [];
    let current: Buffer[] = [];
    let currentBytes = 0;
    let first = 0;
    let index = 0;
    // Elements are cut at code-point boundaries, so each encodes to UTF-8 on
    // its own; ioredis sends Buffers as they are (no string concatenation,
    // no second encoding pass).
    for (const piece of splitElements(text, elementChars)) {
      const el = Buffer.from(piece, 'utf8');
      if (current.length > 0 && currentBytes + el.length > this.#maxCallBytes) {
        parts.push({ first, elements: current });
        current = [];
        currentBytes = 0;
        first = index;
      }
      current.push(el);
      currentBytes += el.length;
      index += 1;
    }
    if (current.length > 0) parts.push({ first, elements: current });
    return { seq: this.#seq, length: text.length, parts, done: 0 };
  }

  async #send(batch: Batch): Promise<void> {
    while (batch.done < batch.parts.length) {
      const part = batch.parts[batch.done] as Batch['parts'][number];
      const { reply, appended } = await this.#call('flush', async () => {
        const outcome = await this.#appendPart(batch.seq, batch.done, part);
        // An XADD refused as a duplicate means the element is there already
        // (an earlier attempt appended it). Any other failure of an XADD the
        // fence let through: try again (transient) or report it; the elements
        // that did land are then refused as duplicates.
        if (outcome.reply[0] === REPLY.applied && outcome.failed !== undefined) {
          throw outcome.failed;
        }
        return outcome;
      });
      switch (reply[0]) {
        case REPLY.applied:
        case REPLY.alreadyApplied:
          batch.done += 1;
          break;
        case REPLY.conflict:
          this.#stopHeartbeat();
          if (appended > 0) throw this.#fenceBreached(appended);
          throw this.#leaseLostError(reply);
        case REPLY.wrongType:
          throw this.#wrongType(String(reply[1]));
        default:
          if (appended > 0) throw this.#fenceBreached(appended);
          throw new StorageError(
            `The fence of the Redis checkpoint ${this.uri} is at flush ${String(reply[1])} part ${String(reply[2])}, but this writer sent flush ${batch.seq} part ${batch.done}: the meta key "${this.keys.meta}" was changed by someone else. Nothing was appended; the data stays buffered.`,
            { uri: this.uri },
          );
      }
    }
  }

  /**
   * Sends one part as `MULTI; EVAL fence; XADD key NOMKSTREAM <seq>-<i> d <el>…; EXEC`
   * (one round trip) and sorts the outcome: the fence's reply, how many
   * elements were appended now, and the first XADD failure other than "already
   * there".
   */
  async #appendPart(
    seq: number,
    partNo: number,
    part: Batch['parts'][number],
  ): Promise<{ reply: Reply; appended: number; failed: unknown }> {
    const { data, meta, lease } = this.keys;
    const tx = this.#client.multi();
    tx.eval(
      FENCE_SCRIPT.source,
      3,
      data,
      meta,
      lease,
      this.#token,
      String(seq),
      String(partNo),
      this.#leaseValue,
      String(this.#leaseMs),
    );
    for (let i = 0; i < part.elements.length; i++) {
      tx.xadd(data, 'NOMKSTREAM', `${seq}-${part.first + i}`, 'd', part.elements[i] as Buffer);
    }
    let results: [Error | null, unknown][] | null;
    try {
      results = await tx.exec();
    } catch (e) {
      // EXECABORT: the transaction was refused as a whole (a command rejected
      // when queued: OOM, NOPERM, LOADING…); the first cause says why.
      const previous = (e as { previousErrors?: unknown[] }).previousErrors;
      throw previous?.[0] ?? e;
    }
    if (results === null || results.length !== part.elements.length + 1) {
      throw new StorageError(
        `Unexpected reply to a flush transaction on ${this.uri}: ${JSON.stringify(results)?.slice(0, 200)}`,
        { uri: this.uri },
      );
    }
    const [scriptError, scriptReply] = results[0] as [Error | null, unknown];
    if (scriptError) throw scriptError;
    if (!Array.isArray(scriptReply) || typeof scriptReply[0] !== 'number') {
      throw new StorageError(
        `Unexpected reply from the flush fence on ${this.uri}: ${JSON.stringify(scriptReply).slice(0, 200)}`,
        { uri: this.uri },
      );
    }
    let appended = 0;
    let failed: unknown;
    for (let i = 1; i < results.length; i++) {
      const [error, id] = results[i] as [Error | null, unknown];
      if (error) {
        if (!isDuplicateIdError(error)) failed ??= error;
      } else if (id === null) {
        failed ??= new StorageError(
          `The stream "${this.key}" at ${this.uri} disappeared during a flush (deleted by someone else?); the data stays buffered.`,
          { uri: this.uri },
        );
      } else {
        appended += 1;
      }
    }
    return { reply: scriptReply as Reply, appended, failed };
  }

  #fenceBreached(appended: number): StorageError {
    return new StorageError(
      `The flush fence of the Redis checkpoint ${this.uri} refused this writer, yet ${appended} of its elements were appended: the stream's last ID or the meta key "${this.keys.meta}" was changed by hand. Check the checkpoint with XRANGE before writing again.`,
      { uri: this.uri },
    );
  }

  #leaseHeldError(reply: Reply): ConcurrentWriterError {
    const raw = reply[1];
    const pttl = Number(reply[2]);
    const expiry =
      pttl >= 0
        ? `its lease (key "${this.keys.lease}") expires in ${pttl} ms unless that writer renews it`
        : `its lease is key "${this.keys.lease}"`;
    return new ConcurrentWriterError(
      `The Redis checkpoint ${this.uri} is being written by another writer: ${describeHolder(parseHolder(raw), raw)}; ${expiry}. Nothing was written by this instance. If that writer is alive, stop it or use another key. If it crashed, write again once its lease has expired (within ${Math.max(pttl, 0)} ms; a live writer renews it every leaseMs/3), or open this storage with takeover: true (URI: &takeover=true) to take the lease at once — the old writer, if still running, is then refused at its next flush.`,
      { uri: this.uri },
    );
  }

  #leaseLostError(reply: Reply): ConcurrentWriterError {
    const raw = reply[1];
    const holder = parseHolder(raw);
    const who =
      holder !== undefined || (typeof raw === 'string' && raw !== '')
        ? `${describeHolder(holder, raw)} holds its writer lease (key "${this.keys.lease}") now: it took the lease after this writer's lease expired (no renewal for ${this.#leaseMs} ms), or with takeover: true`
        : `another writer (token ${String(reply[3]) || '?'}) wrote to it after this writer's lease (key "${this.keys.lease}") expired`;
    return new ConcurrentWriterError(
      `This writer (pid ${process.pid}) lost the Redis checkpoint ${this.uri}: ${who}. This flush was refused and nothing was appended; its data stays buffered in this instance. Stop this writer, or read the checkpoint and resume from it with one writer.`,
      { uri: this.uri },
    );
  }

  #startHeartbeat(): void {
    if (this.#heartbeat !== undefined) return;
    const timer = setInterval(() => this.#refresh(), Math.max(1, Math.floor(this.#leaseMs / 3)));
    // The heartbeat alone never keeps the process alive: a crawler that exits
    // without close() simply lets its lease expire.
    timer.unref();
    this.#heartbeat = timer;
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat === undefined) return;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /**
   * One heartbeat: renews the lease (or takes it again if it expired and
   * nobody wrote since). At most one is in flight, so a long outage does not
   * pile up queued commands; failures are left to the next beat or flush.
   */
  #refresh(): void {
    if (this.#refreshing) return;
    this.#refreshing = true;
    this.#eval(REFRESH_SCRIPT, [this.#token, this.#leaseValue, String(this.#leaseMs)]).then(
      (reply) => {
        this.#refreshing = false;
        // Lost to another writer: the next flush reports it.
        if (Array.isArray(reply) && reply[0] === REPLY.conflict) this.#stopHeartbeat();
      },
      () => {
        this.#refreshing = false;
      },
    );
  }

  #wrongType(type: string): StorageError {
    return new StorageError(
      `The Redis key "${this.key}" at ${this.uri} holds a ${type}, not a stream: RedisStorage keeps a checkpoint as a stream (XADD/XRANGE). Use another key, or delete this one (DEL ${this.key}) if its content is not needed.`,
      { uri: this.uri },
    );
  }

  /** One `EVALSHA` of `script` on the checkpoint's three keys, with an `EVAL` fallback. */
  async #eval(script: LuaScript, args: string[]): Promise<unknown> {
    const { data, meta, lease } = this.keys;
    try {
      return await this.#client.evalsha(script.sha, 3, data, meta, lease, ...args);
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
      // First use on this server (or after a restart / SCRIPT FLUSH).
      return await this.#client.eval(script.source, 3, data, meta, lease, ...args);
    }
  }

  async #runScript(op: string, script: LuaScript, args: string[]): Promise<Reply> {
    const reply = await this.#call(op, () => this.#eval(script, args));
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
        `Redis at ${this.uri} refused the credentials or a permission (${cause.message.split(' ')[0]}) during ${op}: check the user name and password in the URI, and that the ACL user may run EVAL, EVALSHA, MULTI, EXEC, XADD, XDEL, XSETID, XINFO, XRANGE, XREVRANGE, HSET, HGET, TYPE, EXISTS, GET, SET, PEXPIRE, PTTL and DEL on "${this.key}", "${this.keys.meta}" and "${this.keys.lease}".`,
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
