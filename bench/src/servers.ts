import { type RedisTestServer, startRedis } from '@yoink/test-servers/redis';
import { type S3TestServer, startMoto, startS3rver } from '@yoink/test-servers/s3';
import { Redis } from 'ioredis';

/** The bucket every S3 benchmark writes to. */
export const BUCKET = 'yoink-bench';

/** Test servers a run shares between its sections, each started on first use. */
export interface BenchServers {
  redis(): Promise<RedisTestServer>;
  /** One ioredis client to {@link BenchServers.redis}, shared by the Redis measurements. */
  redisClient(): Promise<Redis>;
  moto(): Promise<S3TestServer>;
  s3rver(): Promise<S3TestServer>;
  /** Stops every server that was started. */
  stop(): Promise<void>;
}

/** Servers for one run: none runs until a section asks for it. */
export function benchServers(): BenchServers {
  const started: Promise<{ stop(): Promise<void> }>[] = [];
  const once = <T extends { stop(): Promise<void> }>(start: () => Promise<T>) => {
    let server: Promise<T> | undefined;
    return (): Promise<T> => {
      if (!server) {
        server = start();
        started.push(server);
      }
      return server;
    };
  };
  // No snapshots: the Redis section grows checkpoints up to 1 GB, and a save would time the disk too.
  const redis = once(() => startRedis({ save: '' }));
  const redisClient = once(async () => {
    const server = await redis();
    const client = new Redis({ host: server.host, port: server.port, maxRetriesPerRequest: null });
    return Object.assign(client, {
      stop: async () => {
        client.disconnect();
      },
    });
  });
  return {
    redis,
    redisClient,
    moto: once(() => startMoto({ buckets: [BUCKET] })),
    s3rver: once(() => startS3rver({ buckets: [BUCKET] })),
    async stop() {
      // Clients first (started after their servers), then the servers.
      for (const s of started.reverse()) await Promise.allSettled([s.then((x) => x.stop())]);
    },
  };
}
