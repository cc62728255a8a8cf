import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '@yoink/test-servers/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FreezingProxy } from './freezing-proxy.js';
import { type CliRun, runCli } from './run-cli.js';

// The CLI must exit within the backend's timeout plus start-up; the bound is
// generous (a shared, loaded machine) but far below "never".
const FLUSH_TIMEOUT_MS = 2_000;
const EXIT_BOUND_MS = 20_000;

let dir: string;
let source: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yoink-cli-killed-'));
  source = join(dir, 'src.jsonl');
  // ~8 MiB: dozens of flushes of 256 KiB, so the first one is early in the copy.
  const line = (i: number): string =>
    JSON.stringify({ i, url: `https://example.com/${i}`, pad: 'x'.repeat(150) });
  await writeFile(source, `${Array.from({ length: 50_000 }, (_, i) => line(i)).join('\n')}\n`);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Starts `cp` into `proxy`'s target, waits until its first flush has reached
 * the target, then runs `kill` (the target dies) and cuts the proxy (the
 * CLI's connections close, new ones are refused). Resolves with the CLI run,
 * which rejects if the CLI is still running after {@link EXIT_BOUND_MS}.
 */
async function cpKilledMidCopy(
  args: readonly string[],
  proxy: FreezingProxy,
  kill: () => Promise<void>,
  env?: NodeJS.ProcessEnv,
): Promise<CliRun> {
  const run = runCli(args, { cwd: dir, env, timeout: EXIT_BOUND_MS });
  await Promise.race([
    proxy.frozen,
    run.then((r) => {
      throw new Error(`cp ended before its first flush reached the target: ${JSON.stringify(r)}`);
    }),
  ]);
  await kill();
  await proxy.cut();
  return run;
}

function expectPartialCopyError(run: CliRun): void {
  expect(run.code).toBe(1);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^yoink-storage: .*cp stopped after [\d,]+ lines/);
  expect(run.stdout).toBe('');
}

describe('yoink-storage cp to a Redis target killed mid-copy', () => {
  it('reports the failure on one line and exits 1 instead of hanging', async () => {
    const server = await startRedis();
    const proxy = await FreezingProxy.start(server.port, /\r\nxadd\r\n/i);
    try {
      const dst = `redis://127.0.0.1:${proxy.port}?key=yoink:cli:killed`;
      const run = await cpKilledMidCopy(
        [
          '-o',
          `flushTimeoutMs=${FLUSH_TIMEOUT_MS}`,
          '-o',
          'maxBufferBytes=262144',
          'cp',
          source,
          dst,
        ],
        proxy,
        () => server.kill(),
      );
      expectPartialCopyError(run);
    } finally {
      await proxy.cut();
      await server.stop();
    }
  }, 60_000);
});
