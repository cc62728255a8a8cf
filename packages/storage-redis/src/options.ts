import type { ConnectionOptions } from 'node:tls';
import {
  type BufferedStorageOptions,
  InvalidOptionError,
  InvalidUriError,
} from '@yoink/storage-core';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { RedisClient } from './client.js';
import { parseRedisUri, type RedisUriParts } from './uri.js';

/** Options of `RedisStorage`. */
export interface RedisStorageOptions extends BufferedStorageOptions {
  /**
   * How long one call (a flush's append, the open on first write, a read page,
   * `exists()`) keeps retrying while Redis is unreachable, restarting, loading
   * or failing over, in ms. Then it rejects with `StorageError`; a failed
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

/** Default of {@link RedisStorageOptions.flushTimeoutMs}. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 10_000;
/** Default of {@link RedisStorageOptions.leaseMs}. */
export const DEFAULT_LEASE_MS = 15_000;
/** Default of {@link RedisStorageOptions.readPageBytes}. */
export const DEFAULT_READ_PAGE_BYTES: number = 4 * 1024 * 1024;
/** Default of {@link RedisStorageOptions.maxCallBytes}. */
export const DEFAULT_MAX_CALL_BYTES: number = 64 * 1024 * 1024;

/** The constructor's arguments, checked and with every default applied. */
export interface ResolvedArgs {
  /** The URI the storage is known by (with `key=` added when the key came separately). */
  uri: string;
  key: string;
  /** The caller's client, or `undefined` when one is created from `parts`. */
  client: RedisClient | undefined;
  /** The parsed URI, when the storage was given one. */
  parts: RedisUriParts | undefined;
  options: RedisStorageOptions;
  timeoutMs: number;
  pageBytes: number;
  maxCallBytes: number;
  leaseMs: number;
  takeover: boolean;
  allowEviction: boolean;
}

function pickOption<T>(
  name: string,
  fromOptions: T | undefined,
  fromUri: T | undefined,
  uri: string,
): T | undefined {
  if (fromOptions !== undefined && fromUri !== undefined && fromOptions !== fromUri) {
    throw new InvalidOptionError(
      `The URI sets ${name}=${String(fromUri)} but options.${name} is ${String(fromOptions)}: give it once`,
      { uri },
    );
  }
  return fromOptions ?? fromUri;
}

function positive(name: string, value: unknown, fallback: number, uri: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(`Option ${name} must be a positive number, got ${String(value)}`, {
      uri,
    });
  }
  return value;
}

function boolean(name: string, value: unknown, uri: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new InvalidOptionError(`Option ${name} must be true or false, got ${String(value)}`, {
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

/** A URI naming the server of a client passed in (for messages), with `key=`. */
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

/**
 * Checks `RedisStorage`'s constructor arguments (`(uri, options?)` or
 * `(urlOrClient, key, options?)`) and applies the defaults.
 *
 * @throws {InvalidUriError} for a bad URI, a key given twice differently, or
 *   a first argument that is neither a URI nor a client.
 * @throws {InvalidOptionError} for an option value of the wrong type or out
 *   of range, or one the URI sets differently.
 */
export function resolveArgs(
  urlOrClient: string | RedisClient,
  keyOrOptions?: string | RedisStorageOptions,
  maybeOptions?: RedisStorageOptions,
): ResolvedArgs {
  const keyArg = typeof keyOrOptions === 'string' ? keyOrOptions : undefined;
  const options: RedisStorageOptions =
    (typeof keyOrOptions === 'object' && keyOrOptions !== null ? keyOrOptions : maybeOptions) ?? {};
  let uri: string;
  let key: string;
  let client: RedisClient | undefined;
  let parts: RedisUriParts | undefined;
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
  const leaseMs = pickOption('leaseMs', options.leaseMs, parts?.leaseMs, uri);
  return {
    uri,
    key,
    client,
    parts,
    options,
    timeoutMs: positive('flushTimeoutMs', options.flushTimeoutMs, DEFAULT_FLUSH_TIMEOUT_MS, uri),
    pageBytes: positive('readPageBytes', options.readPageBytes, DEFAULT_READ_PAGE_BYTES, uri),
    maxCallBytes: positive('maxCallBytes', options.maxCallBytes, DEFAULT_MAX_CALL_BYTES, uri),
    leaseMs: Math.ceil(positive('leaseMs', leaseMs, DEFAULT_LEASE_MS, uri)),
    takeover: boolean(
      'takeover',
      pickOption('takeover', options.takeover, parts?.takeover, uri),
      uri,
    ),
    allowEviction: boolean(
      'allowEviction',
      pickOption('allowEviction', options.allowEviction, parts?.allowEviction, uri),
      uri,
    ),
  };
}
