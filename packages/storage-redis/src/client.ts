import type { ConnectionOptions } from 'node:tls';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { RedisUriParts } from './uri.js';

/** A client RedisStorage can use: an ioredis `Redis` or `Cluster`. */
export type RedisClient = Redis | Cluster;

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
 * exists), by RedisStorage's own deadline (`flushTimeoutMs`).
 */
function retryStrategy(times: number): number {
  return Math.min(25 * 2 ** Math.min(times, 10), 1000);
}

function nodeOptions(parts: RedisUriParts, settings: ClientSettings): RedisOptions {
  return {
    username: parts.username,
    password: parts.password,
    ...(parts.tls ? { tls: { ...settings.tls } } : {}),
    // No I/O in the constructor: a bad host surfaces on first use, bounded.
    lazyConnect: true,
    connectTimeout: settings.connectTimeoutMs,
    // Commands issued while (re)connecting wait in the offline queue and go
    // out as soon as the connection is ready, so a flush rides out a short
    // restart without a failed round trip...
    enableOfflineQueue: true,
    // ...but only for two failed reconnect attempts: then ioredis fails them
    // (MaxRetriesPerRequestError) and RedisStorage retries itself until its
    // deadline. Without this bound (null), every timed-out flush would leave a
    // queued copy of its batch behind for as long as Redis stays down.
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
    ...settings.redisOptions,
  };
}

/**
 * Creates the ioredis client for a parsed URI: a `Cluster` seeded with every
 * node of the URI when `cluster=true`, else a `Redis` on host/port/db. Both
 * connect lazily (no I/O here). See the comments for why each option is set.
 */
export function createClient(parts: RedisUriParts, settings: ClientSettings): RedisClient {
  const node = nodeOptions(parts, settings);
  if (parts.cluster) {
    return new Cluster(
      parts.nodes.map((n) => ({ host: n.host, port: n.port })),
      {
        lazyConnect: true,
        enableOfflineQueue: true,
        clusterRetryStrategy: retryStrategy,
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
