// Filled in by the storage-redis work: startRedis(), startRedisCluster(), startRedisTls().
export {};
