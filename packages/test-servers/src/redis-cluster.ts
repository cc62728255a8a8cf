import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@yoink/storage-testkit';
import { runCommand } from './children.js';
import { REDIS_INSTALL_HINT, type RedisTestServer, startRedis } from './redis-server.js';
import { waitUntil } from './wait-until.js';

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** Number of masters (no replicas). Default 3, minimum 3. */
  nodes?: number;
  /** How long to wait for `cluster_state:ok`, in ms. Default 30,000. */
  startTimeoutMs?: number;
}

/** A running 3-node (by default) Redis Cluster for tests and benchmarks. */
export interface RedisTestCluster {
  /** The masters, all on 127.0.0.1. */
  readonly nodes: readonly { host: string; port: number }[];
  /** `redis://127.0.0.1:<p1>?cluster=true&nodes=127.0.0.1:<p2>,…`: append `&key=…`. */
  readonly url: string;
  /** `url` + `&key=<key>`. */
  keyUri(key: string): string;
  /** Stops every node and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a Redis Cluster of `nodes` masters on free ports (each with
 * `--cluster-enabled yes` and its own cluster-bus port), joins them with
 * `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`, and waits
 * until every node reports `cluster_state:ok`.
 *
 * @throws Error when redis-server or redis-cli is missing or the cluster does not form in time.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster({ nodes: 3 });
 * const storage = new RedisStorage(cluster.keyUri('crawl-1'));
 * await cluster.stop();
 * ```
 */
export async function startRedisCluster(
  options: RedisClusterOptions = {},
): Promise<RedisTestCluster> {
  const count = Math.max(3, options.nodes ?? 3);
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const root = await mkdtemp(join(tmpdir(), 'yoink-redis-cluster-'));
  const servers: RedisTestServer[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const busPort = await freePort();
      servers.push(
        await startRedis({
          dir: join(root, `node-${i}`),
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(root, `node-${i}`, 'nodes.conf'),
            '--cluster-node-timeout',
            '5000',
            '--cluster-port',
            String(busPort),
          ],
          startTimeoutMs: timeoutMs,
        }),
      );
    }
    await runCommand(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...servers.map((s) => `127.0.0.1:${s.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { installHint: REDIS_INSTALL_HINT },
    );
    for (const s of servers) {
      await waitUntil(
        `cluster node ${s.port}`,
        async () => String(await s.command('CLUSTER', 'INFO')).includes('cluster_state:ok'),
        { timeoutMs },
      );
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  const nodes = servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  const [first, ...rest] = nodes;
  const url = `redis://127.0.0.1:${first?.port}?cluster=true&nodes=${rest
    .map((n) => `${n.host}:${n.port}`)
    .join(',')}`;
  let stopped = false;
  return {
    nodes,
    url,
    keyUri: (key) => `${url}&key=${encodeURIComponent(key)}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
}
