import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisTestServer, startRedis } from '@yoink/test-servers/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_BOUND_MS } from './kill-midway.js';
import { type CliRun, runCli } from './run-cli.js';

// The password "p/ss" holds an unencoded "/", which ends a URL's authority
// early: a naive parser sees host "u", port "p" and a path "/ss@127…".
const PASSWORD = 'p/ss';
const RAW = `redis://u:${PASSWORD}@127.0.0.1:1/0?key=k`;
const ENCODED = `redis://u:${encodeURIComponent(PASSWORD)}@127.0.0.1:1/0?key=k`;
const TEST_MS = 60_000;

let dir: string;
let n = 0;
let source: string;
const local = (name: string): string => join(dir, `${name}-${n++}.jsonl`);
const cli = (args: readonly string[]): Promise<CliRun> =>
  runCli(['-o', 'flushTimeoutMs=500', ...args], { cwd: dir, timeout: EXIT_BOUND_MS });

function expectNoPassword(run: CliRun): void {
  for (const secret of [PASSWORD, encodeURIComponent(PASSWORD)]) {
    expect(run.stderr).not.toContain(secret);
    expect(run.stdout).not.toContain(secret);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yoink-cli-redact-'));
  source = join(dir, 'src.jsonl');
  await writeFile(source, '{"a":1}\n{"a":2}\n');
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.each([
  ['with an unencoded "/"', RAW],
  ['percent-encoded', ENCODED],
])('yoink-storage output for a Redis URI whose password is %s', (_name, uri) => {
  it.each([
    ['stat', () => ['stat', uri]],
    ['stat --json', () => ['stat', '--json', uri]],
    ['stat --debug', () => ['--debug', 'stat', uri]],
    ['cat', () => ['cat', uri]],
    ['cp from it', () => ['cp', uri, local('dst')]],
    ['cp to it', () => ['cp', source, uri]],
    ['cp --debug --progress to it', () => ['--debug', 'cp', '--progress', source, uri]],
    ['bench', () => ['bench', uri, '--lines', '10']],
    ['the URI as an unknown command', () => [uri]],
    ['the URI in an unknown option', () => ['stat', `--frobnicate=${uri}`]],
  ])(
    'never shows the password: %s',
    async (_case, args) => {
      const run = await cli(args());
      expect([1, 2]).toContain(run.code);
      expectNoPassword(run);
    },
    TEST_MS,
  );
});

describe('yoink-storage output for a working Redis whose password holds a "/"', () => {
  let server: RedisTestServer;
  const uri = (key: string): string =>
    `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${server.port}?key=${key}`;
  beforeAll(async () => {
    server = await startRedis({ password: PASSWORD });
  }, TEST_MS);
  afterAll(async () => {
    await server?.stop();
  });

  it(
    'never shows the password in results, progress or tables',
    async () => {
      const target = uri('yoink:cli:redacted');
      const runs = [
        await cli(['cp', '--progress', source, target]),
        await cli(['stat', target]),
        await cli(['stat', '--json', target]),
        await cli(['cat', target]),
        await cli(['bench', uri('yoink:cli:redacted-bench'), '--lines', '100']),
        await cli(['cp', source, target]),
      ];
      for (const run of runs.slice(0, -1)) {
        expect(run.code, run.stderr).toBe(0);
        expectNoPassword(run);
      }
      // The refusal of an existing destination names it, redacted.
      const refused = runs.at(-1) as CliRun;
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('already exists');
      expectNoPassword(refused);
    },
    TEST_MS,
  );
});
