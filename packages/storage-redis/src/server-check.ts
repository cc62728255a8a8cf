import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from './client.js';
import type { Connection } from './connection.js';
import {
  evictionPolicyError,
  NO_PERSISTENCE_WARNING,
  noPersistenceWarning,
  type RedisErrorContext,
} from './redis-errors.js';

/** What one server's `INFO` says about keeping a checkpoint. */
interface ServerFacts {
  /** `host:port`, for messages. */
  node: string;
  /** `run_id` (one per server process), or `node` when it is missing. */
  id: string;
  /** `maxmemory_policy`, when reported. */
  policy: string | undefined;
  /** `aof_enabled` is 1. */
  aof: boolean;
}

/** The `field:value` lines of an `INFO` reply. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/**
 * `true` for a `maxmemory-policy` under which Redis may evict one of the
 * checkpoint's keys: every `allkeys-*` policy (the stream may go), and every
 * `volatile-*` policy (the writer lease has a TTL). `noeviction`, and a
 * server that does not report a policy, are safe.
 */
export function mayEvict(policy: string | undefined): boolean {
  return policy !== undefined && (policy.startsWith('allkeys-') || policy.startsWith('volatile-'));
}

/**
 * `true` when `CONFIG GET save`'s reply lists no RDB save point. `undefined`
 * when the reply says nothing (then nobody is warned).
 */
export function noSavePoints(reply: unknown): boolean | undefined {
  if (!Array.isArray(reply) || reply.length < 2) return undefined;
  return String(reply[1]).trim() === '';
}

function nodeName(node: Redis): string {
  return `${node.options.host ?? 'localhost'}:${node.options.port ?? 6379}`;
}

/** The servers holding data for `client`: itself, or every master of a cluster. */
async function serversOf(client: RedisClient): Promise<Redis[]> {
  if (!client.isCluster) return [client as Redis];
  const cluster = client as Cluster;
  // A lazy cluster knows its nodes once it has connected.
  if (cluster.nodes('master').length === 0) await cluster.ping();
  return cluster.nodes('master');
}

async function factsOf(node: Redis): Promise<ServerFacts> {
  const info = parseInfo(await node.info());
  const name = nodeName(node);
  return {
    node: name,
    id: info.get('run_id') ?? name,
    policy: info.get('maxmemory_policy'),
    aof: info.get('aof_enabled') === '1',
  };
}

/** Clients whose servers passed the eviction check (a refusal is never cached). */
const passed = new WeakSet<object>();
/** Servers (by `run_id`) whose persistence was looked at: each is warned about once per process. */
const persistenceSeen = new Set<string>();

/** Settings of {@link checkServer}. */
export interface ServerCheckSettings {
  /** Accept a server that may evict the checkpoint. */
  allowEviction: boolean;
}

/**
 * Checks, before a writer's first write is acknowledged, that the server
 * keeps what it acknowledges (`INFO`; CONFIG is disabled on several managed
 * services):
 *
 * - an evicting `maxmemory-policy` (see {@link mayEvict}) is refused with
 *   `EvictionPolicyError`, unless `allowEviction`;
 * - a server without AOF and without RDB save points gets one
 *   `process.emitWarning` per process (code `YOINK_REDIS_NO_PERSISTENCE`).
 *   `INFO` does not show save points, so `CONFIG GET save` is asked; if it is
 *   refused, nobody is warned.
 *
 * A client whose servers passed is not checked again.
 *
 * @throws {EvictionPolicyError} for an evicting policy, without `allowEviction`.
 * @throws {StoragePermissionError} when the ACL user may not run `INFO`
 *   (without `allowEviction`; with it, the check is skipped).
 * @throws {StorageUnavailableError} when Redis stays unreachable.
 */
export async function checkServer(
  conn: Connection,
  ctx: RedisErrorContext,
  settings: ServerCheckSettings,
): Promise<void> {
  const client = conn.client;
  if (passed.has(client)) return;
  let all: ServerFacts[];
  try {
    all = await conn.call('open', async () => Promise.all((await serversOf(client)).map(factsOf)));
  } catch (e) {
    if (settings.allowEviction) return;
    throw e;
  }
  for (const facts of all) {
    if (mayEvict(facts.policy) && !settings.allowEviction) {
      throw evictionPolicyError(ctx, facts.policy as string, facts.node);
    }
  }
  if (!all.some((f) => mayEvict(f.policy))) passed.add(client);
  await warnWithoutPersistence(client, ctx, all);
}

async function warnWithoutPersistence(
  client: RedisClient,
  ctx: RedisErrorContext,
  all: readonly ServerFacts[],
): Promise<void> {
  if (all.every((f) => f.aof || persistenceSeen.has(f.id))) return;
  const nodes = await serversOf(client);
  for (const [i, facts] of all.entries()) {
    const node = nodes[i];
    if (facts.aof || persistenceSeen.has(facts.id) || node === undefined) continue;
    const reply = await node.config('GET', 'save').catch(() => undefined);
    if (persistenceSeen.has(facts.id)) continue;
    persistenceSeen.add(facts.id);
    if (noSavePoints(reply) === true) {
      process.emitWarning(noPersistenceWarning(ctx, facts.node), { code: NO_PERSISTENCE_WARNING });
    }
  }
}
