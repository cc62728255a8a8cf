// Entry point `@yoink/test-servers/redis`: a single redis-server (plain or
// TLS) and a Redis Cluster, for tests and benchmarks.

export {
  type RedisClusterOptions,
  type RedisTestCluster,
  startRedisCluster,
} from './redis-cluster.js';
export type { RedisReply } from './redis-command.js';
export {
  type RedisAclUser,
  type RedisServerOptions,
  type RedisTestServer,
  startRedis,
  startRedisTls,
} from './redis-server.js';
