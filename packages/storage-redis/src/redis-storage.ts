import {
  BufferedStorage,
  type Chunk,
  type OpenResult,
  type ReadOptions,
} from '@yoink/storage-core';
import { createClient, type RedisClient } from './client.js';
import { Connection } from './connection.js';
import { FencedAppender } from './fenced-appender.js';
import { type CheckpointKeys, checkpointKeys } from './keys.js';
import { WriterLease } from './lease.js';
import { describeClient, type RedisStorageOptions, resolveArgs } from './options.js';
import {
  CheckpointDataLostError,
  EvictionPolicyError,
  type RedisErrorContext,
} from './redis-errors.js';
import { checkServer } from './server-check.js';
import { readStream } from './stream-reader.js';

export type { RedisStorageOptions } from './options.js';

/**
 * A checkpoint in Redis (or Valkey, or Redis Cluster), kept as a stream.
 *
 * - **Layout.** The data is the stream at `key`: each flush appends entries
 *   `XADD key <seq>-<n> d <text>`, where `seq` numbers flushes and `n` the
 *   elements of one flush; an element holds up to 64 Ki UTF-16 units (usually
 *   whole lines, possibly part of one). The flush fence is the hash
 *   `{key}:meta` (or `key:meta` when `key` has a hash tag) with fields `owner`,
 *   `seq`, `part`, `data` and `epoch`; the writer lease is the string
 *   `{key}:writer` (or `key:writer`) with a TTL. All three keys share one
 *   Cluster slot.
 * - **The server must keep what it acknowledges.** Before a writer's first
 *   write, `INFO` is read: a `maxmemory-policy` that may evict the checkpoint
 *   (`allkeys-*`, `volatile-*`) is refused with {@link EvictionPolicyError}
 *   unless `allowEviction: true`; a server without AOF and RDB save points
 *   gets a warning (`YOINK_REDIS_NO_PERSISTENCE`, once per server).
 * - **Exactly once.** `flush()` sends its whole batch in one round trip (a
 *   few only above `maxCallBytes`): `MULTI`, a Lua fence script, one
 *   `XADD key NOMKSTREAM <seq>-<n> d <element>` per element, `EXEC`. The fence
 *   checks the lease and the flush sequence and records the flush; the data
 *   itself never passes through Lua. An `XADD` with an explicit ID is applied
 *   at most once (Redis refuses an ID not above the stream's last ID), so a
 *   flush retried after a lost reply, or re-sent by ioredis after a reconnect,
 *   is never appended twice.
 * - **One writer: a lease.** The first `write()` takes the writer lease
 *   (`SET {key}:writer <token, host, pid, since> PX leaseMs`). While another
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
 * - **Lost data is reported, never hidden.** When the stream or the fence
 *   vanished or went back under a writer (eviction, a restart without
 *   persistence, a failover, `DEL`), its flush rejects with
 *   {@link CheckpointDataLostError} and keeps its data; nothing is appended
 *   into a re-created stream.
 * - **Reading** pages with `XRANGE key (<last id> <end> COUNT n` — O(log N)
 *   per page, so a full read is linear — and stops at the last entry that
 *   existed when `read()` started. A read whose stream vanishes or is
 *   re-created meanwhile rejects with {@link CheckpointDataLostError}; it
 *   never ends early without an error. `read()` and `exists()` work after
 *   `close()` too (with a connection of their own).
 * - **Faults.** While Redis is down, restarting or failing over, each call
 *   retries for up to `flushTimeoutMs`, then rejects with
 *   {@link StorageUnavailableError} (`retryable`; a flush keeps its data). No
 *   call waits longer.
 *
 * A client passed in (`options.client`) belongs to the caller: `close()`
 * flushes but does not quit it.
 *
 * @throws {InvalidUriError} from the constructor for a bad URI, a missing key
 *   or an unknown query parameter.
 * @throws {InvalidOptionError} from the constructor for an unknown option
 *   (with "did you mean"), a bad option value, or settings that cannot apply
 *   to a client passed in.
 * @throws {EvictionPolicyError} from the first `write()` on an evicting server.
 * @throws {ConcurrentWriterError} from the first `write()` while another
 * writer holds the lease, and from `flush()` once another writer took it.
 * @throws {CheckpointDataLostError} from `flush()`, `write()` or `read()` when
 * the checkpoint's data was lost on the server.
 * @throws {StoragePermissionError} for refused credentials or a missing ACL permission.
 * @throws {StorageUnavailableError} when Redis stays unreachable past `flushTimeoutMs`.
 *
 * @example
 * ```ts
 * const storage = new RedisStorage('redis://:secret@localhost:6379/0?key=yoink:crawl-1');
 * await storage.write('{"url":"https://example.com"}\n');
 * await storage.flush();
 * for await (const line of storage.read()) console.log(line);
 * await storage.close();
 * // or with your own client (never quit by us):
 * // new RedisStorage('redis://?key=yoink:crawl-1', { client: new Cluster([{ host, port }]) })
 * ```
 */
export class RedisStorage extends BufferedStorage {
  /** The Redis key of the checkpoint's stream. */
  readonly key: string;
  /** The data, meta (flush fence) and lease (writer lease) keys. */
  readonly keys: CheckpointKeys;
  readonly #conn: Connection;
  readonly #connect: () => Connection;
  readonly #lease: WriterLease;
  readonly #appender: FencedAppender;
  readonly #pageBytes: number;
  readonly #ctx: RedisErrorContext;
  readonly #allowEviction: boolean;

  /**
   * @param uri `redis[s]://[user][:password]@host[:port][/db]?key=<key>[&cluster=true&nodes=h:p,…][&leaseMs=…][&takeover=true][&allowEviction=true]`;
   *   with `options.client`, `redis://?key=<key>` (a host and port there are informational).
   * @param options see {@link RedisStorageOptions}.
   */
  constructor(uri: string, options?: RedisStorageOptions) {
    const args = resolveArgs(uri, options);
    super(uri, args.options);
    this.key = args.key;
    this.keys = checkpointKeys(args.key, uri);
    // Messages name the URI (redacted when the error is built); with a client
    // passed in and a URI without a host, they name the client's server.
    const ctx: RedisErrorContext = {
      uri: args.client && !args.parts.hasHost ? describeClient(args.client, args.key) : this.rawUri,
      keys: this.keys,
    };
    this.#ctx = ctx;
    const { parts } = args;
    const settings = args.options;
    // A client created from the URI is ours to quit; a read after close()
    // creates another one for its own duration.
    this.#connect = () =>
      new Connection(
        createClient(parts, {
          tls: settings.tls,
          redisOptions: settings.redisOptions,
          clusterOptions: settings.clusterOptions,
          connectTimeoutMs: Math.min(args.timeoutMs, 10_000),
        }),
        true,
        ctx,
        args.timeoutMs,
      );
    this.#conn = args.client
      ? new Connection(args.client, false, ctx, args.timeoutMs)
      : this.#connect();
    this.#lease = new WriterLease(this.#conn, ctx, args);
    this.#appender = new FencedAppender(this.#conn, ctx, this.#lease, args.maxCallBytes);
    this.#pageBytes = args.pageBytes;
    this.#allowEviction = args.allowEviction;
  }

  /** The ioredis client in use (the caller's `options.client`, or the one created from the URI). */
  get client(): RedisClient {
    return this.#conn.client;
  }

  // ---- BufferedStorage's part --------------------------------------------------

  protected override async openForAppend(): Promise<OpenResult> {
    await checkServer(this.#conn, this.#ctx, { allowEviction: this.#allowEviction });
    const { seq, tornTail, streamExisted } = await this.#lease.take();
    this.#appender.opened(seq, streamExisted);
    return { tornTail };
  }

  protected override persist(data: string): Promise<void> {
    return this.#appender.persist(data);
  }

  /**
   * The stream's lines. After `close()`, a read opens a connection of its
   * own and quits it when the iteration ends (also when the caller stops
   * early); a read running while `close()` happens keeps the client until it
   * ends.
   */
  protected override async *readChunks(options: ReadOptions): AsyncGenerator<Chunk> {
    const { conn, done } = await this.#borrow();
    try {
      yield* readStream(conn, this.#ctx, this.#pageBytes, options.signal);
    } finally {
      await done();
    }
  }

  /**
   * The server lost the checkpoint (eviction, a restart without
   * persistence, a manual DEL) or may evict it: no retry can deliver the
   * buffered data without a silent gap, so `close()` releases and reports it.
   */
  protected override retryCannotDeliver(error: unknown): boolean {
    return (
      super.retryCannotDeliver(error) ||
      CheckpointDataLostError.isInstance(error) ||
      EvictionPolicyError.isInstance(error)
    );
  }

  /** `true` once the checkpoint's stream exists (`EXISTS key`); works after `close()` too. */
  override async exists(): Promise<boolean> {
    const { conn, done } = await this.#borrow();
    try {
      return (await conn.call('exists', () => conn.client.exists(this.keys.data))) > 0;
    } finally {
      await done();
    }
  }

  protected override async release(): Promise<void> {
    await this.#lease.release(Math.min(this.#conn.timeoutMs, 2_000));
    await this.#conn.end();
  }

  /** A connection for one read, and the function that gives it back: ours, or a new one once ours has ended. */
  async #borrow(): Promise<{ conn: Connection; done: () => Promise<void> }> {
    const conn = this.#conn.ending ? this.#connect() : this.#conn;
    const done = conn.use();
    // A connection of its own is quit when its one read is done.
    if (conn !== this.#conn) await conn.end();
    return { conn, done };
  }
}
