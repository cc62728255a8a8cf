import type { ConnectionOptions } from 'node:tls';
import {
  BUFFERED_OPTIONS,
  type BufferedStorageOptions,
  checkUri,
  defineOptions,
  InvalidOptionError,
  InvalidUriError,
  queryPairs,
  redactUri,
} from '@yoink/storage-core';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { isRedisClient, type RedisClient } from './client.js';
import { OWN_URI_PARAMS, parseRedisUri, type RedisUriParts } from './uri.js';

/** Options of `RedisStorage` (the same through `new RedisStorage(uri, options)` and `StorageFactory.fromUri`). */
export interface RedisStorageOptions extends BufferedStorageOptions {
  /**
   * Your own ioredis `Redis` or `Cluster` (ioredis 5 or 6). It is used as it
   * is configured and never quit by `close()`. The URI still names the key
   * (`redis://?key=crawl-1`; a host and port there are then informational);
   * credentials, a db index other than 0, `cluster`/`nodes`, `tls`,
   * `redisOptions` and `clusterOptions` cannot apply to it and are refused.
   */
  client?: RedisClient;
  /**
   * How long one call (a flush's append, the open on first write, a read page,
   * `exists()`) keeps retrying while Redis is unreachable, restarting, loading
   * or failing over, in ms. Then it rejects with `StorageUnavailableError`; a
   * failed flush keeps its data for the next one. Default 10,000.
   */
  flushTimeoutMs?: number;
  /** TLS options for `rediss://` (e.g. `{ ca }` for a private CA), passed to ioredis. */
  tls?: ConnectionOptions;
  /** Extra ioredis options for a client created from a URI (for a cluster: each node's). */
  redisOptions?: RedisOptions;
  /** Extra ioredis `Cluster` options for a cluster created from a URI. */
  clusterOptions?: ClusterOptions;
  /** Target size of one read page, in bytes (the page's entry count adapts). Default 1 MiB. */
  readPageBytes?: number;
  /**
   * Above this many bytes, one flush is sent as several fenced calls (still
   * exactly once: a retry resumes at the first unconfirmed part). Default 64 MiB.
   */
  maxCallBytes?: number;
  /**
   * Time to live of the writer lease, in whole ms (URI: `leaseMs=`). The
   * writer renews it every `leaseMs / 3` (and on every flush); after a crash
   * it expires within `leaseMs`, and only then can another writer open the
   * key (unless it passes `takeover`). Default 15,000.
   */
  leaseMs?: number;
  /**
   * Take the writer lease even when another writer holds a live one (URI:
   * `takeover=true`): for an operator restarting a crawler whose predecessor
   * crashed less than `leaseMs` ago. The previous writer, if still alive, is
   * refused with `ConcurrentWriterError` at its next flush (its data
   * stays in its buffer). Default `false`.
   */
  takeover?: boolean;
  /**
   * Write even to a server whose `maxmemory-policy` may evict the checkpoint
   * (`allkeys-*`, or `volatile-*`, which may evict the writer lease), which is
   * otherwise refused with `EvictionPolicyError` (URI: `allowEviction=true`).
   * Evicted data is then reported as `CheckpointDataLostError` by the next
   * flush or read, not prevented. Default `false`.
   */
  allowEviction?: boolean;
}

/** Every option of RedisStorage, checked by core's kit (unknown names get a "did you mean"). */
const OPTIONS = defineOptions<RedisStorageOptions>({
  ...BUFFERED_OPTIONS,
  client: { type: 'object' },
  flushTimeoutMs: { type: 'number', min: 1 },
  tls: { type: 'object' },
  redisOptions: { type: 'object' },
  clusterOptions: { type: 'object' },
  readPageBytes: { type: 'number', min: 1 },
  maxCallBytes: { type: 'number', min: 1 },
  leaseMs: { type: 'number', min: 1, integer: true, uri: true },
  takeover: { type: 'boolean', uri: true },
  allowEviction: { type: 'boolean', uri: true },
});

/** Default of {@link RedisStorageOptions.flushTimeoutMs}. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 10_000;
/** Default of {@link RedisStorageOptions.leaseMs}. */
export const DEFAULT_LEASE_MS = 15_000;
/** Default of {@link RedisStorageOptions.readPageBytes}. */
export const DEFAULT_READ_PAGE_BYTES: number = 1024 * 1024;
/** Default of {@link RedisStorageOptions.maxCallBytes}. */
export const DEFAULT_MAX_CALL_BYTES: number = 64 * 1024 * 1024;

/** The constructor's arguments, checked and with every default applied. */
export interface ResolvedArgs {
  key: string;
  /** The caller's client, or `undefined` when one is created from `parts`. */
  client: RedisClient | undefined;
  /** The parsed URI. */
  parts: RedisUriParts;
  /** The options, checked, with the URI's option parameters merged in. */
  options: RedisStorageOptions;
  timeoutMs: number;
  pageBytes: number;
  maxCallBytes: number;
  leaseMs: number;
  takeover: boolean;
  allowEviction: boolean;
}

/** What a URI or options set that cannot apply to a client passed in. */
function refusedWithClient(parts: RedisUriParts, options: RedisStorageOptions): string[] {
  return [
    parts.username !== undefined && 'a user name (URI)',
    parts.password !== undefined && 'a password (URI)',
    parts.db !== 0 && `database /${parts.db} (URI)`,
    parts.cluster && 'cluster=true (URI)',
    parts.hasNodes && 'nodes= (URI)',
    options.tls !== undefined && 'tls',
    options.redisOptions !== undefined && 'redisOptions',
    options.clusterOptions !== undefined && 'clusterOptions',
  ].filter((x): x is string => typeof x === 'string');
}

/**
 * Checks `new RedisStorage(uri, options)`'s arguments and applies the
 * defaults: the URI's authority, `key`, `cluster` and `nodes` here; every
 * option, and the option parameters of the URI (`leaseMs`, `takeover`,
 * `allowEviction`), with core's `defineOptions` kit.
 *
 * @throws {InvalidUriError} for a bad URI, a missing key, or an unknown query parameter.
 * @throws {InvalidOptionError} for an unknown option (with "did you mean"), a
 *   value of the wrong type or out of range, one the URI sets differently,
 *   a `client` that is not an ioredis client, or settings that cannot apply
 *   to a client passed in.
 */
export function resolveArgs(uri: string, given: unknown): ResolvedArgs {
  checkUri(uri);
  const parts = parseRedisUri(uri);
  const options = OPTIONS.parse({
    uri,
    options: given,
    query: queryPairs(uri),
    extraUriParams: OWN_URI_PARAMS,
    backend: 'RedisStorage',
  });
  if (parts.key === undefined) {
    throw new InvalidUriError(
      `A Redis checkpoint needs a key: add ?key=<key> to ${redactUri(uri)} (with options.client too: redis://?key=<key>)`,
      { uri },
    );
  }
  const client = options.client;
  if (client !== undefined) {
    if (!isRedisClient(client)) {
      throw new InvalidOptionError(
        `Option client of RedisStorage must be an ioredis Redis or Cluster (ioredis 5 or 6), got an object without isCluster/evalsha/multi (for ${redactUri(uri)}).`,
        { uri, option: 'client' },
      );
    }
    const refused = refusedWithClient(parts, options);
    if (refused.length > 0) {
      throw new InvalidOptionError(
        `${refused.join(', ')} cannot apply to a client you pass in (for ${redactUri(uri)}): configure your ioredis client instead and leave them out, or leave out client. With a client, the URI names the key only, e.g. redis://?key=crawl-1.`,
        { uri, option: 'client' },
      );
    }
  }
  return {
    key: parts.key,
    client,
    parts,
    options,
    timeoutMs: options.flushTimeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS,
    pageBytes: options.readPageBytes ?? DEFAULT_READ_PAGE_BYTES,
    maxCallBytes: options.maxCallBytes ?? DEFAULT_MAX_CALL_BYTES,
    leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    takeover: options.takeover ?? false,
    allowEviction: options.allowEviction ?? false,
  };
}

/** A URI naming the server of a client passed in (for messages when the URI names no host), with `key=`. */
export function describeClient(client: RedisClient, key: string): string {
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
