import type { ConnectionOptions } from 'node:tls';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { RedisUriParts } from './uri.js';

/**
 * A client you can pass as `options.client`: an ioredis `Redis` or `Cluster`,
 * of ioredis 5 or 6. It is typed by the members RedisStorage uses, not by
 * one ioredis version's classes, so the client of an application that pins
 * either major fits, and ioredis 5 is not needed to type-check against 6.
 * RedisStorage never quits a client passed in.
 */
export interface RedisClient {
  /** `true` for an ioredis `Cluster`. */
  readonly isCluster: boolean;
  /** ioredis's connection status (`'wait'`, `'ready'`, `'end'`, …). */
  readonly status: string;
  // The commands RedisStorage sends. Their parameters are not spelled out:
  // each ioredis major declares its own overloads, and RedisStorage calls
  // them with the arguments both accept.
  evalsha(...args: never[]): unknown;
  eval(...args: never[]): unknown;
  multi(...args: never[]): unknown;
  pipeline(...args: never[]): unknown;
  exists(...args: never[]): unknown;
  type(...args: never[]): unknown;
  quit(...args: never[]): unknown;
  disconnect(...args: never[]): unknown;
  on(...args: never[]): unknown;
}

/** The client as RedisStorage calls it (ioredis 6's API, which ioredis 5 shares for these commands). */
export type IoRedisClient = Redis | Cluster;

/** `client` as the ioredis API RedisStorage calls (see {@link RedisClient}). */
export function ioredis(client: RedisClient): IoRedisClient {
  return client as unknown as IoRedisClient;
}

/** `true` when `value` has what RedisStorage calls on a client (an ioredis 5 or 6 `Redis` or `Cluster`). */
export function isRedisClient(value: unknown): value is RedisClient {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    typeof c.isCluster === 'boolean' &&
    ['evalsha', 'eval', 'multi', 'pipeline', 'exists', 'quit', 'disconnect', 'on'].every(
      (m) => typeof c[m] === 'function',
    )
  );
}

/** Settings for a client that RedisStorage creates from a URI. */
export interface ClientSettings {
  /** TLS options merged into ioredis's `tls` for `rediss://` (e.g. `{ ca }`). */
  tls?: ConnectionOptions | undefined;
  /** Extra ioredis options (for a cluster: options of each node connection). */
  redisOptions?: RedisOptions | undefined;
  /** Extra ioredis Cluster options. */
  clusterOptions?: ClusterOptions | undefined;
  /** Bound of one connection attempt, in ms. */
  connectTimeoutMs: number;
}

/**
 * Reconnect forever, with a delay capped at one second: the storage never
 * gives up on its connection. What is bounded is each call (flush, read,
 * exists), by RedisStorage's own deadline (`flushTimeoutMs`). (ioredis 6's
 * default caps the delay at 5 s, longer than a short flushTimeoutMs.)
 */
function retryStrategy(times: number): number {
  return Math.min(25 * 2 ** Math.min(times, 10), 1000);
}

function nodeOptions(parts: RedisUriParts, settings: ClientSettings): RedisOptions {
  return {
    username: parts.username,
    password: parts.password,
    ...(parts.tls ? { tls: { ...settings.tls } } : {}),
    // RESP2, as ioredis 5 spoke. ioredis 6 defaults to RESP3, which gives us
    // nothing (every reply we read has the same shape under both) and costs a
    // HELLO negotiation, with a downgrade path for servers and proxies that
    // lack HELLO. An injected ioredis 6 client on RESP3 works too (tested).
    protocol: 2,
    // No I/O in the constructor: a bad host surfaces on first use, bounded.
    lazyConnect: true,
    connectTimeout: settings.connectTimeoutMs,
    // Commands issued while (re)connecting wait in the offline queue and go
    // out as soon as the connection is ready, so a flush rides out a short
    // restart without a failed round trip...
    enableOfflineQueue: true,
    // ...but only for two failed reconnect attempts: then ioredis fails them
    // (MaxRetriesPerRequestError) and RedisStorage retries itself until its
    // deadline. Without this bound (null; ioredis's default is 20), every
    // timed-out flush would leave a queued copy of its batch behind for as
    // long as Redis stays down.
    maxRetriesPerRequest: 1,
    retryStrategy,
    // ioredis re-sends commands that were sent but not answered when the
    // connection dropped. An unguarded RPUSH could then land twice; our appends
    // are XADDs with explicit IDs (<flush seq>-<n>), which Redis applies at most
    // once, behind a fence script that recognises an applied flush. Resending
    // shortens recovery.
    autoResendUnfulfilledCommands: true,
    // After a restart Redis answers LOADING while it replays the AOF; the ready
    // check waits for that instead of failing our commands.
    enableReadyCheck: true,
    // TCP keep-alive probes after 30 s idle (ioredis 6's default, 0 in 5): a
    // reader's or an idle writer's connection through a NAT or load balancer
    // that dropped it is found dead instead of hanging until flushTimeoutMs.
    keepAlive: 30_000,
    ...settings.redisOptions,
  };
}

/**
 * Creates the ioredis client for a parsed URI: a `Cluster` seeded with every
 * node of the URI when `cluster=true`, else a `Redis` on host/port/db. Both
 * connect lazily (no I/O here). See the comments for why each option is set.
 */
export function createClient(parts: RedisUriParts, settings: ClientSettings): IoRedisClient {
  const node = nodeOptions(parts, settings);
  if (parts.cluster) {
    return new Cluster(
      parts.nodes.map((n) => ({ host: n.host, port: n.port })),
      {
        lazyConnect: true,
        enableOfflineQueue: true,
        clusterRetryStrategy: retryStrategy,
        // A master that restarts without a slot change is reconnected (by
        // default ioredis waits for a MOVED that never comes).
        clusterNodeRetryStrategy: retryStrategy,
        // Redirections and failovers are retried by ioredis within one command;
        // RedisStorage's deadline bounds the whole call anyway.
        maxRedirections: 16,
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 100,
        slotsRefreshTimeout: settings.connectTimeoutMs,
        redisOptions: node,
        ...settings.clusterOptions,
      },
    );
  }
  return new Redis({ ...node, host: parts.host, port: parts.port, db: parts.db });
}
