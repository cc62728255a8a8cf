import { Redis } from 'ioredis';

/** A reply as ioredis returns it in RESP2: a string, an integer, nil, or an array of those. */
export type RedisReply = string | number | null | RedisReply[];

/** Where and how {@link redisCommand} connects. */
export interface RedisTarget {
  port: number;
  /** Password of the `default` user. */
  password?: string | undefined;
  /** The CA's PEM, for a TLS-only server (the name checked is `localhost`). */
  ca?: string | undefined;
}

/**
 * Sends one command on a new ioredis connection to `127.0.0.1:<port>` and
 * resolves with its reply; the connection is closed either way. The client
 * neither retries nor queues: a server that is down or not ready yet rejects
 * at once (or after `timeoutMs`, default 2,000, for a connection that hangs).
 * For fixtures and test set-up, not for the code under test.
 *
 * @example
 * ```ts
 * await redisCommand({ port }, ['PING']); // 'PONG'
 * ```
 */
export async function redisCommand(
  target: RedisTarget,
  args: readonly [string, ...string[]],
  timeoutMs = 2_000,
): Promise<RedisReply> {
  const client = new Redis({
    host: '127.0.0.1',
    port: target.port,
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.ca === undefined ? {} : { tls: { ca: target.ca, servername: 'localhost' } }),
    // RESP2: flat arrays for hashes, no HELLO negotiation.
    protocol: 2,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // Failures reach the caller through the rejected promise below.
  client.on('error', () => {});
  try {
    await client.connect();
    const [command, ...rest] = args;
    return (await client.call(command, ...rest)) as RedisReply;
  } finally {
    client.disconnect();
  }
}
