import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FreezingProxy } from '@yoink/test-servers/proxies';
import { type RedisTestServer, startRedis } from '@yoink/test-servers/redis';
import { startMoto } from '@yoink/test-servers/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_BOUND_MS, runKilledMidway } from './kill-midway.js';
import { type CliProcess, type CliRun, runCli, runCliClosingStdout, spawnCli } from './run-cli.js';

// Every run here is bounded by EXIT_BOUND_MS: a CLI that does not exit fails
// its test. Redis runs use a short flushTimeoutMs, the backend's timeout.
const REDIS_TIMEOUT = ['-o', 'flushTimeoutMs=1000'];
const SMALL_FLUSHES = ['-o', 'maxBufferBytes=262144'];
// Nothing listens on port 1: connections are refused at once.
const NO_REDIS = 'redis://127.0.0.1:1?key=yoink:cli:nowhere';
const NO_S3 = 's3://yoink-cli/nowhere.jsonl?endpoint=http://127.0.0.1:1&forcePathStyle=true';
const S3_ENV = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_EC2_METADATA_DISABLED: 'true',
};
const TEST_MS = 60_000;

let dir: string;
let n = 0;
let source: string;
let content: string;
const local = (name: string): string => join(dir, `${name}-${n++}.jsonl`);
const cli = (args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliRun> =>
  runCli(args, { cwd: dir, env, timeout: EXIT_BOUND_MS });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yoink-cli-fail-'));
  source = join(dir, 'src.jsonl');
  // ~8 MiB: with 256 KiB flushes, a Redis copy of it is dozens of stream
  // entries, so reading it takes several pages.
  const line = (i: number): string =>
    JSON.stringify({ i, url: `https://example.com/${i}`, pad: 'x'.repeat(150) });
  content = `${Array.from({ length: 50_000 }, (_, i) => line(i)).join('\n')}\n`;
  await writeFile(source, content);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function expectOneErrorLine(run: CliRun, code = 1): void {
  expect(run.code).toBe(code);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^yoink-storage: /);
}

/** Waits until `proxy` froze, failing early if the CLI exits before. */
async function frozen(proxy: FreezingProxy, run: CliProcess): Promise<void> {
  await Promise.race([
    proxy.frozen,
    run.result.then((r) => {
      throw new Error(`the CLI ended before it reached the server: ${JSON.stringify(r)}`);
    }),
  ]);
}

/** A Redis server holding a copy of `source` at `key` (written in many entries). */
async function seededRedis(key: string): Promise<RedisTestServer> {
  const server = await startRedis();
  const seed = await cli([...SMALL_FLUSHES, 'cp', source, server.keyUri(key)]);
  expect(seed.code).toBe(0);
  return server;
}

describe('yoink-storage with an unreachable Redis', () => {
  it.each([
    ['cat', (uri: string) => ['cat', uri]],
    ['stat', (uri: string) => ['stat', uri]],
    ['cp from it', (uri: string) => ['cp', uri, local('dst')]],
  ])(
    '%s exits 1 with one error line when the source is unreachable',
    async (_name, args) => {
      expectOneErrorLine(await cli([...REDIS_TIMEOUT, ...args(NO_REDIS)]));
    },
    TEST_MS,
  );

  it.each([
    ['cp to it', (uri: string) => ['cp', source, uri]],
    ['bench', (uri: string) => ['bench', uri, '--lines', '100']],
  ])(
    '%s exits 1 with one error line when the target is unreachable',
    async (_name, args) => {
      expectOneErrorLine(await cli([...REDIS_TIMEOUT, ...args(NO_REDIS)]));
    },
    TEST_MS,
  );
});

describe('yoink-storage with a Redis server killed mid-run', () => {
  it.each([
    ['cat', (uri: string) => ['cat', uri]],
    ['stat', (uri: string) => ['stat', uri]],
  ])(
    '%s exits 1 with one error line when the source is killed mid-read',
    async (_name, args) => {
      const key = 'yoink:cli:read-killed';
      const server = await seededRedis(key);
      const proxy = await FreezingProxy.start(server.port, /\r\nxrange\r\n/i);
      try {
        const uri = `redis://127.0.0.1:${proxy.port}?key=${key}`;
        const run = await runKilledMidway(
          [...REDIS_TIMEOUT, ...args(uri)],
          proxy,
          () => server.kill(),
          { cwd: dir },
        );
        expectOneErrorLine(run);
      } finally {
        await proxy.cut();
        await server.stop();
      }
    },
    TEST_MS,
  );

  it(
    'bench exits 1 with one error line when its target is killed mid-run',
    async () => {
      const server = await startRedis();
      const proxy = await FreezingProxy.start(server.port, /\r\nxadd\r\n/i);
      try {
        const uri = `redis://127.0.0.1:${proxy.port}?key=yoink:cli:bench-killed`;
        const run = await runKilledMidway(
          [...REDIS_TIMEOUT, ...SMALL_FLUSHES, 'bench', uri, '--lines', '50000'],
          proxy,
          () => server.kill(),
          { cwd: dir },
        );
        expectOneErrorLine(run);
        expect(run.stdout).toBe('');
      } finally {
        await proxy.cut();
        await server.stop();
      }
    },
    TEST_MS,
  );
});

describe('yoink-storage with its stdout closed early', () => {
  it(
    'cat of a Redis checkpoint exits 0 quietly when its reader goes away',
    async () => {
      const key = 'yoink:cli:head';
      const server = await seededRedis(key);
      try {
        const run = await runCliClosingStdout(['cat', server.keyUri(key)], dir, EXIT_BOUND_MS);
        expect(run.code).toBe(0);
        expect(run.stderr).toBe('');
      } finally {
        await server.stop();
      }
    },
    TEST_MS,
  );
});

describe('yoink-storage interrupted (SIGINT)', () => {
  it(
    'cp stops after the current write, closes the target and exits 130; the target holds exactly the lines reported',
    async () => {
      const server = await startRedis();
      const proxy = await FreezingProxy.start(server.port, /\r\nxadd\r\n/i);
      const key = 'yoink:cli:interrupted';
      try {
        const run = spawnCli(
          [...SMALL_FLUSHES, 'cp', source, `redis://127.0.0.1:${proxy.port}?key=${key}`],
          { cwd: dir, timeout: EXIT_BOUND_MS },
        );
        // The CLI waits for its first flush's reply: interrupt it there.
        await frozen(proxy, run);
        run.child.kill('SIGINT');
        await run.stderrMatches(/SIGINT: stopping/);
        proxy.thaw();
        const result = await run.result;
        expect(result.code).toBe(130);
        const match = /interrupted by SIGINT: cp stopped after ([\d,]+) lines.*holds them/.exec(
          result.stderr,
        );
        expect(match, result.stderr).not.toBeNull();
        const lines = Number((match?.[1] ?? '').replaceAll(',', ''));
        expect(lines).toBeGreaterThan(0);
        expect(lines).toBeLessThan(50_000);
        const copy = await cli(['cat', server.keyUri(key)]);
        expect(copy.code).toBe(0);
        expect(copy.stdout).toBe(`${content.split('\n').slice(0, lines).join('\n')}\n`);
        // close() gave the writer lease up: another writer may append at once.
        const extra = local('extra');
        await writeFile(extra, '{"more":true}\n');
        expect((await cli(['cp', '--append', extra, server.keyUri(key)])).code).toBe(0);
      } finally {
        await proxy.cut();
        await server.stop();
      }
    },
    TEST_MS,
  );

  it(
    'a second SIGINT exits 130 at once while the target does not answer',
    async () => {
      const server = await startRedis();
      const proxy = await FreezingProxy.start(server.port, /\r\nxadd\r\n/i);
      try {
        // A minute of patience for Redis: only the second signal can end this run in time.
        const run = spawnCli(
          [
            '-o',
            'flushTimeoutMs=60000',
            ...SMALL_FLUSHES,
            'cp',
            source,
            `redis://127.0.0.1:${proxy.port}?key=yoink:cli:twice`,
          ],
          { cwd: dir, timeout: EXIT_BOUND_MS },
        );
        await frozen(proxy, run);
        run.child.kill('SIGINT');
        await run.stderrMatches(/SIGINT: stopping/);
        run.child.kill('SIGINT');
        expect((await run.result).code).toBe(130);
      } finally {
        await proxy.cut();
        await server.stop();
      }
    },
    TEST_MS,
  );

  it(
    'cat stops and exits 130',
    async () => {
      const key = 'yoink:cli:cat-interrupted';
      const server = await seededRedis(key);
      const proxy = await FreezingProxy.start(server.port, /\r\nxrange\r\n/i);
      try {
        const run = spawnCli(['cat', `redis://127.0.0.1:${proxy.port}?key=${key}`], {
          cwd: dir,
          timeout: EXIT_BOUND_MS,
        });
        await frozen(proxy, run);
        run.child.kill('SIGINT');
        await run.stderrMatches(/SIGINT: stopping/);
        proxy.thaw();
        const result = await run.result;
        expect(result.code).toBe(130);
        expect(result.stderr).toMatch(/^yoink-storage: interrupted by SIGINT$/m);
        expect(content.startsWith(result.stdout)).toBe(true);
      } finally {
        await proxy.cut();
        await server.stop();
      }
    },
    TEST_MS,
  );
});

describe('yoink-storage with an unreachable S3 endpoint', () => {
  it.each([
    ['cat', (uri: string) => ['cat', uri]],
    ['stat', (uri: string) => ['stat', uri]],
    ['cp from it', (uri: string) => ['cp', uri, local('dst')]],
  ])(
    '%s exits 1 with one error line when the source is unreachable',
    async (_name, args) => {
      expectOneErrorLine(await cli(args(NO_S3), S3_ENV));
    },
    TEST_MS,
  );

  it.each([
    ['cp to it', (uri: string) => ['cp', source, uri]],
    ['bench', (uri: string) => ['bench', uri, '--lines', '100']],
  ])(
    '%s exits 1 with one error line when the target is unreachable',
    async (_name, args) => {
      expectOneErrorLine(await cli(args(NO_S3), S3_ENV));
    },
    TEST_MS,
  );
});

describe('yoink-storage with an S3 server (moto_server) killed mid-run', () => {
  it(
    'cat exits 1 with one error line when the source is killed mid-read',
    async () => {
      const bucket = 'yoink-cli-read-killed';
      const key = 'cli/read-killed.jsonl';
      const moto = await startMoto({ buckets: [bucket] });
      const { accessKeyId, secretAccessKey } = moto.clientConfig.credentials;
      const env = { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey };
      const proxy = await FreezingProxy.start(moto.port, new RegExp(`GET /${bucket}/${key}[ ?]`));
      try {
        const at = (port: number): string =>
          `s3://${bucket}/${key}?endpoint=http://127.0.0.1:${port}&forcePathStyle=true`;
        expect((await cli(['cp', source, at(moto.port)], env)).code).toBe(0);
        const run = await runKilledMidway(['cat', at(proxy.port)], proxy, () => moto.stop(), {
          cwd: dir,
          env,
        });
        expectOneErrorLine(run);
      } finally {
        await proxy.cut();
        await moto.stop();
      }
    },
    TEST_MS,
  );
});
