import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectLocalWorks,
  expectMissing,
  installedNames,
  isClient,
  outsideRepo,
  runProbes,
  tgz,
  writeApp,
} from './consumer-app.js';
import { node, pnpm } from './run.js';

// A user's pnpm workspace with the isolated layout, outside the repository.
// Core's real folder is in the root's node_modules/.pnpm, from where walking up
// never reaches the app's node_modules: core alone cannot see the backends, so
// auto-import must resolve from the application.

let root = '';
let app = '';
beforeAll(async () => {
  root = await outsideRepo('pnpm');
  app = join(root, 'app');
  await mkdir(app, { recursive: true });
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'ws-root', private: true }));
  await writeFile(join(root, 'pnpm-workspace.yaml'), 'packages:\n  - app\n');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function install(dependencies: Record<string, string>): Promise<void> {
  await writeApp(app, 'pnpm-app', dependencies);
  // hoist=false: strict isolation (by default pnpm also hoists every package
  // into .pnpm/node_modules, where core could see it).
  await pnpm(
    // --no-frozen-lockfile: pnpm freezes the lockfile when CI is set, and the
    // second install adds dependencies to this throwaway workspace.
    [
      'install',
      '--prefer-offline',
      '--no-frozen-lockfile',
      '--config.hoist=false',
      '--config.confirmModulesPurge=false',
    ],
    root,
  );
}

/**
 * Whether core, from its real folder, can resolve `name` by itself. Asked in a
 * child process: this one has pnpm's NODE_PATH, which a user's process has not.
 */
async function coreSees(name: string): Promise<boolean> {
  const check = await node(
    [
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module'; import { realpathSync } from 'node:fs';
       const core = realpathSync('node_modules/@yoink/storage-core/package.json');
       if (!core.includes('.pnpm')) throw new Error('core is not in the virtual store: ' + core);
       let seen = false;
       try { createRequire(core).resolve(${JSON.stringify(name)}); seen = true; } catch {}
       console.log(JSON.stringify(seen));`,
    ],
    app,
  );
  expect(check.code, check.stderr).toBe(0);
  return JSON.parse(check.stdout) as boolean;
}

const deps = (...names: string[]) =>
  Object.fromEntries(names.map((n) => [n, `file:${tgz(n)}`])) as Record<string, string>;

describe('pnpm workspace with the isolated layout', () => {
  it('installs only core and local: no S3 or Redis client, plain paths work although core cannot see local, absent schemes name their package (ESM and CommonJS)', async () => {
    await install(deps('@yoink/storage-core', '@yoink/storage-local'));

    const names = await installedNames(join(root, 'node_modules'));
    expect(names).toContain('@yoink/storage-local');
    expect(names.filter(isClient)).toEqual([]);
    expect(await coreSees('@yoink/storage-local')).toBe(false);

    const { esm, cjs } = await runProbes(app, 'core-local');
    for (const [tag, result] of [
      ['core-local-esm', esm],
      ['core-local-cjs', cjs],
    ] as const) {
      expectLocalWorks(result, tag);
      expectMissing(result.s3, '@yoink/storage-s3');
      expectMissing(result.redis, '@yoink/storage-redis');
      expectMissing(result.azblob, '@yoink/storage-azure');
      expectMissing(result.gzfile, 'yoink-storage-gzfile');
    }
  });

  it('after adding the S3, Azure and third-party gzfile tarballs, fromUri finds each by scheme with no import although core cannot see them', async () => {
    await install(
      deps(
        '@yoink/storage-core',
        '@yoink/storage-local',
        '@yoink/storage-s3',
        '@yoink/storage-azure',
        'yoink-storage-gzfile',
      ),
    );

    const names = await installedNames(join(root, 'node_modules'));
    expect(names).toContain('@aws-sdk/client-s3');
    expect(names).toContain('@azure/storage-blob');
    expect(names).not.toContain('@azure/identity');
    expect(names).not.toContain('ioredis');
    expect(await coreSees('@yoink/storage-s3')).toBe(false);
    expect(await coreSees('@yoink/storage-azure')).toBe(false);
    expect(await coreSees('yoink-storage-gzfile')).toBe(false);

    const { esm, cjs } = await runProbes(app, 'with-s3');
    for (const [tag, result] of [
      ['with-s3-esm', esm],
      ['with-s3-cjs', cjs],
    ] as const) {
      expectLocalWorks(result, tag);
      expect(result.s3).toEqual({ ctor: 'S3Storage' });
      expect(result.azblob).toEqual({ ctor: 'AzureBlobStorage' });
      expect(result.gzfile).toEqual({ ctor: 'GzipFileStorage', lines: [`{"from":"${tag}"}`] });
      expectMissing(result.redis, '@yoink/storage-redis');
    }
  });
});
