import { collectLines, describeConformance } from '@yoink/storage-testkit';
import { type RedisTestCluster, startRedisCluster } from '@yoink/test-servers/redis';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointKeys } from '../src/keys.js';
import { RedisStorage } from '../src/redis-storage.js';
import { FaultyRedisStorage } from './faulty-storage.js';

let cluster: RedisTestCluster;
let shared: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster({ nodes: 3 });
  shared = new Cluster(cluster.nodes.map((n) => ({ host: n.host, port: n.port })));
}, 60_000);

afterAll(async () => {
  await shared?.quit().catch(() => {});
  await cluster?.stop();
});

describeConformance<FaultyRedisStorage>('RedisStorage (3-node cluster, URI)', {
  create: (location) => new FaultyRedisStorage(cluster.keyUri(`yoink:${location}`)),
  failNextFlush: (storage) => {
    storage.failNext = true;
  },
  secondWriter: true,
});

describeConformance<FaultyRedisStorage>(
  'RedisStorage (3-node cluster, Cluster instance passed in)',
  {
    create: (location) =>
      new FaultyRedisStorage(`redis://?key=${encodeURIComponent(`yoink:${location}`)}`, {
        client: shared,
      }),
    failNextFlush: (storage) => {
      storage.failNext = true;
    },
    secondWriter: true,
  },
);

describe('RedisStorage on a cluster', () => {
  it('keeps the data, fence and lease keys in one slot, for keys with and without hash tags', async () => {
    for (const key of [
      'yoink:crawl-1',
      '{crawl}:site-a',
      'a{',
      'a{b',
      '{crawl-7',
      'x{y}z{w}',
      'é:日本',
    ]) {
      const keys = checkpointKeys(key);
      const a = await shared.cluster('KEYSLOT', keys.data);
      const b = await shared.cluster('KEYSLOT', keys.meta);
      const c = await shared.cluster('KEYSLOT', keys.lease);
      expect({ key, slot: b }).toEqual({ key, slot: a });
      expect({ key, slot: c }).toEqual({ key, slot: a });
    }
  });

  it('spreads checkpoints over the nodes, and each one reads back whole', async () => {
    const slots = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const key = `yoink:spread-${i}`;
      slots.add(Number(await shared.cluster('KEYSLOT', key)));
      const s = new RedisStorage(cluster.keyUri(key));
      await s.write(`line ${i}\n`);
      await s.close();
    }
    expect(slots.size).toBeGreaterThan(1);
    for (let i = 0; i < 6; i++) {
      const r = new RedisStorage(cluster.keyUri(`yoink:spread-${i}`));
      expect(await collectLines(r.read())).toEqual([`line ${i}`]);
      await r.close();
    }
  });

  it('close() leaves a Cluster passed in connected (it is the caller’s)', async () => {
    const s = new RedisStorage('redis://?key=yoink:caller-owned', { client: shared });
    await s.write('x\n');
    await s.close();
    expect(shared.status).toBe('ready');
    expect(await shared.xlen('yoink:caller-owned')).toBe(1);
  });
});
