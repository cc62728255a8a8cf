import { startRedis } from '@yoink/test-servers/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCpRoundTrip } from './round-trip.js';
import { runCli } from './run-cli.js';

describe('yoink-storage cp between local files and Redis (redis-server)', () => {
  describeCpRoundTrip(async () => {
    const server = await startRedis();
    return {
      backend: { uri: (name) => server.keyUri(`yoink:cli:${name}`) },
      stop: () => server.stop(),
    };
  });
});

describe('yoink-storage against a Redis server that needs a password', () => {
  let server: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    server = await startRedis({ password: 'correct-horse' });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('reports a wrong password as one line, exit 1, without the password', async () => {
    const uri = `redis://:wrong-battery@127.0.0.1:${server.port}?key=yoink:cli:auth`;
    const run = await runCli(['stat', uri]);
    expect(run.code).toBe(1);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(run.stderr).not.toContain('wrong-battery');
  });
});
