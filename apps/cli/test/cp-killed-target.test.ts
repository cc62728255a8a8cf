import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FreezingProxy } from '@yoink/test-servers/proxies';
import { startRedis } from '@yoink/test-servers/redis';
import { startMoto } from '@yoink/test-servers/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKilledMidway } from './kill-midway.js';
import type { CliRun } from './run-cli.js';

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
      const run = await runKilledMidway(
        ['-o', 'flushTimeoutMs=2000', '-o', 'maxBufferBytes=262144', 'cp', source, dst],
        proxy,
        () => server.kill(),
        { cwd: dir },
      );
      expectPartialCopyError(run);
    } finally {
      await proxy.cut();
      await server.stop();
    }
  }, 60_000);
});

describe('yoink-storage cp to an S3 target (moto_server) killed mid-copy', () => {
  it('reports the failure on one line and exits 1 instead of hanging', async () => {
    const bucket = 'yoink-cli-killed';
    const key = `cli/killed-${process.pid}.jsonl`;
    const moto = await startMoto({ buckets: [bucket] });
    // The PUT of the data object itself (not of a probe object beside it).
    const proxy = await FreezingProxy.start(moto.port, new RegExp(`PUT /${bucket}/${key}[ ?]`));
    try {
      const { accessKeyId, secretAccessKey } = moto.clientConfig.credentials;
      const dst = `s3://${bucket}/${key}?endpoint=http://127.0.0.1:${proxy.port}&forcePathStyle=true`;
      const run = await runKilledMidway(
        ['-o', 'maxBufferBytes=262144', 'cp', source, dst],
        proxy,
        () => moto.stop(),
        {
          cwd: dir,
          env: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey },
        },
      );
      expectPartialCopyError(run);
    } finally {
      await proxy.cut();
      await moto.stop();
    }
  }, 60_000);
});
