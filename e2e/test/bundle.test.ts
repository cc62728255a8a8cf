import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RedisTestServer, startRedis } from '@yoink/test-servers/redis';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outsideRepo, tgz } from './consumer-app.js';
import { node, npm } from './run.js';

// An application bundled with esbuild (--bundle --platform=node --format=esm)
// that imports core, local and Redis explicitly, as a bundled application must:
// a bundle cannot load packages by name. Built from the packed tarballs, run
// from a folder with no node_modules at all.

const APP = `import { BackendNotInstalledError, StorageFactory } from '@yoink/storage-core';
import '@yoink/storage-local';
import '@yoink/storage-redis';

const uri = process.argv[2];
try {
  const w = await StorageFactory.fromUri(uri);
  await w.write('{"bundled":1}\\n');
  await w.flush();
  await w.write('{"bundled":2}\\n');
  await w.close();
  const r = await StorageFactory.fromUri(uri);
  const lines = [];
  for await (const line of r.read()) lines.push(line);
  await r.close();
  console.log(JSON.stringify({ ctor: w.constructor.name, lines }));
} catch (e) {
  console.log(JSON.stringify({
    code: e.code,
    notInstalled: BackendNotInstalledError.isInstance(e),
    message: e.message,
  }));
}
`;

// An ESM bundle keeps CommonJS dependencies (proper-lockfile, ioredis) as
// CommonJS, whose require() of Node's built-ins needs a real require: the
// usual esbuild banner (docs/runtimes.md). The alias avoids a clash with the
// createRequire that core imports itself.
const BANNER =
  "import { createRequire as topLevelCreateRequire } from 'node:module'; " +
  'const require = topLevelCreateRequire(import.meta.url);';

interface AppResult {
  ctor?: string;
  lines?: string[];
  code?: string;
  notInstalled?: boolean;
  message?: string;
}

let root = '';
let runDir = '';
let metafile: Metafile;
let redis: RedisTestServer;

async function runBundle(uri: string): Promise<AppResult> {
  const run = await node(['--no-warnings', 'app.mjs', uri], runDir);
  expect(run.code, `the bundle failed:\n${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as AppResult;
}

beforeAll(async () => {
  root = await outsideRepo('bundle');
  const buildDir = join(root, 'build');
  runDir = join(root, 'run');
  await mkdir(buildDir, { recursive: true });
  await mkdir(runDir, { recursive: true });
  const dependencies = Object.fromEntries(
    ['@yoink/storage-core', '@yoink/storage-local', '@yoink/storage-redis'].map((name) => [
      name,
      `file:${tgz(name)}`,
    ]),
  );
  await writeFile(
    join(buildDir, 'package.json'),
    JSON.stringify({ name: 'bundled-app', private: true, type: 'module', dependencies }),
  );
  await writeFile(join(buildDir, 'app.mjs'), APP);
  const [, server] = await Promise.all([npm(['install'], buildDir), startRedis()]);
  redis = server;
  const result = await build({
    absWorkingDir: buildDir,
    entryPoints: ['app.mjs'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    banner: { js: BANNER },
    outfile: join(runDir, 'app.mjs'),
    metafile: true,
    logLevel: 'silent',
  });
  metafile = result.metafile;
});

afterAll(async () => {
  await redis?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('an application bundled with esbuild', () => {
  it('keeps the registration imports of local and Redis (their sideEffects entries)', () => {
    const [output] = Object.values(metafile.outputs);
    const kept = (pkg: string): number =>
      output?.inputs[`node_modules/${pkg}/dist/index.js`]?.bytesInOutput ?? 0;
    // The entry of a backend holds only its registration: esbuild drops it
    // from the bundle when the package says it has no side effects.
    expect(kept('@yoink/storage-local')).toBeGreaterThan(0);
    expect(kept('@yoink/storage-redis')).toBeGreaterThan(0);
    expect(Object.keys(output?.inputs ?? {}).some((f) => f.includes('@yoink/storage-s3'))).toBe(
      false,
    );
  });

  it('round-trips a local checkpoint, run from a folder without node_modules', async () => {
    expect(await runBundle(join(runDir, 'local.jsonl'))).toEqual({
      ctor: 'LocalFileStorage',
      lines: ['{"bundled":1}', '{"bundled":2}'],
    });
  });

  it('round-trips a Redis checkpoint', async () => {
    expect(await runBundle(redis.keyUri('bundled'))).toEqual({
      ctor: 'RedisStorage',
      lines: ['{"bundled":1}', '{"bundled":2}'],
    });
  });

  it('given s3://, which it did not import, gets BackendNotInstalledError saying to import the backend explicitly', async () => {
    const result = await runBundle('s3://bucket/key.jsonl?region=us-east-1');
    expect(result.code).toBe('ERR_YOINK_BACKEND_NOT_INSTALLED');
    expect(result.notInstalled).toBe(true);
    expect(result.message).toContain("import '@yoink/storage-s3'");
    expect(result.message).toContain('a bundled application must import it explicitly');
  });
});
