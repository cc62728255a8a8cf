import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { collectLines } from '@yoink/storage-testkit';
import { type RedisTestCluster, startRedisCluster } from '@yoink/test-servers/redis';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStorage } from '../src/redis-storage.js';

const run = promisify(execFile);
const WORKER = fileURLToPath(new URL('./fixtures/cluster-worker.mjs', import.meta.url));
const WORKERS = 8;
const LINES = 1_500;

let cluster: RedisTestCluster;

beforeAll(async () => {
  cluster = await startRedisCluster({ nodes: 3 });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const ids = Array.from({ length: WORKERS }, (_, i) => `w${i}`);
const keyOf = (id: string): string => `yoink:crawl-42:worker-${id}`;

/** Runs the 8 worker processes at once; resolves with what each printed. */
async function runWorkers(): Promise<string[]> {
  const out = await Promise.all(
    ids.map((id) => run(process.execPath, [WORKER, cluster.url, id, String(LINES)])),
  );
  return out.map((o) => o.stdout.trim());
}

async function readWorker(id: string): Promise<{ worker: string; i: number }[]> {
  const s = new RedisStorage(cluster.keyUri(keyOf(id)));
  const lines = await collectLines(s.read());
  await s.close();
  return lines.map((l) => JSON.parse(l) as { worker: string; i: number });
}

describe('one crawl on many machines: a checkpoint per worker on a Redis Cluster', () => {
  it('8 writer processes at once, each with its own key, then restarted: every line of every worker exactly once, in order', {
    timeout: 120_000,
  }, async () => {
    expect(await runWorkers()).toEqual(ids.map((id) => `done ${id} 0 ${LINES - 1}`));
    // Every worker restarts, finds its own checkpoint by its worker id and resumes after its last line.
    expect(await runWorkers()).toEqual(ids.map((id) => `done ${id} ${LINES} ${2 * LINES - 1}`));
    for (const id of ids) {
      const records = await readWorker(id);
      expect(records.every((r) => r.worker === id)).toBe(true);
      expect(records.map((r) => r.i)).toEqual(Array.from({ length: 2 * LINES }, (_, i) => i));
    }
  });

  it('without a common hash tag the workers’ keys spread over the cluster’s nodes', async () => {
    const admin = new Cluster(cluster.nodes.map((n) => ({ host: n.host, port: n.port })));
    try {
      const slots = await Promise.all(
        ids.map(async (id) => Number(await admin.cluster('KEYSLOT', keyOf(id)))),
      );
      const ranges = await admin.cluster('SLOTS');
      const nodeOf = (slot: number): number | undefined =>
        ranges.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1];
      expect(new Set(slots.map(nodeOf)).size).toBe(3);
    } finally {
      admin.disconnect();
    }
  });
});
