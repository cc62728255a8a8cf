import { afterAll, describe, expect, it } from 'vitest';
import { type RedisTestServer, startRedis, startRedisTls } from '../src/redis.js';

const servers: RedisTestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function started(server: Promise<RedisTestServer>): Promise<RedisTestServer> {
  const s = await server;
  servers.push(s);
  return s;
}

describe('startRedis', () => {
  it('answers commands with their decoded replies', async () => {
    const redis = await started(startRedis());
    expect(await redis.command('PING')).toBe('PONG');
    expect(await redis.command('RPUSH', 'k', 'a', 'b')).toBe(2);
    expect(await redis.command('LRANGE', 'k', '0', '-1')).toEqual(['a', 'b']);
    expect(await redis.command('TYPE', 'k')).toBe('list');
    expect(redis.keyUri('a b')).toBe(`redis://127.0.0.1:${redis.port}?key=a%20b`);
  });

  it('sets the default password and ACL users, and command() authenticates as default', async () => {
    const redis = await started(
      startRedis({
        password: 'pw-default',
        aclUsers: [{ name: 'reader', password: 'pw-reader', rules: ['~*', '+@read'] }],
      }),
    );
    expect(await redis.command('ACL', 'WHOAMI')).toBe('default');
    const users = await redis.command('ACL', 'USERS');
    expect(users).toEqual(expect.arrayContaining(['default', 'reader']));
  });

  it('keeps AOF data across restart(), and kill() leaves it down until restart()', async () => {
    const redis = await started(startRedis({ appendonly: true, save: '' }));
    await redis.command('SET', 'kept', '1');
    await redis.restart();
    expect(await redis.command('GET', 'kept')).toBe('1');
    await redis.kill();
    await expect(redis.command('PING')).rejects.toThrow();
    await redis.restart();
    expect(await redis.command('GET', 'kept')).toBe('1');
  });

  it('serves TLS only with a CA it generated, and command() speaks TLS', async () => {
    const redis = await started(startRedisTls());
    expect(redis.url).toBe(`rediss://127.0.0.1:${redis.port}`);
    expect(redis.ca).toContain('BEGIN CERTIFICATE');
    expect(await redis.command('PING')).toBe('PONG');
  });
});
