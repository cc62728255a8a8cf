import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendSource, CORE_DIR, node, removeDir, sh, tempDir, writePackage } from './fixtures.js';

// Real consumers, installed from packed tarballs the way users install them:
// npm's flat node_modules and pnpm's isolated one (where core cannot resolve a
// package it does not depend on, so auto-import must look from the app).
let work: string;
// The pnpm that runs this suite (under `npx pnpm@10 test` it may not be on PATH).
const execpath = process.env.npm_execpath ?? '';
const PNPM: string[] = /pnpm/.test(execpath) ? [process.execPath, execpath] : ['pnpm'];
let coreTgz: string;
let pluginTgz: string;

const ESM_PROBE = `
import { StorageFactory } from '@yoink/storage-core';
const s = await StorageFactory.fromUri('fakefs://consumer');
await s.write('{"ok":1}\\n'); await s.close();
const lines = []; for await (const l of s.read()) lines.push(l);
let missing;
try { await StorageFactory.fromUri('absentzz://x'); } catch (e) { missing = e.message; }
console.log(JSON.stringify({ createdBy: s.createdBy, lines, missing }));
`;
const CJS_PROBE = `
const { StorageFactory } = require('@yoink/storage-core');
StorageFactory.fromUri('fakefs://consumer-cjs').then(async (s) => {
  await s.write('{"ok":2}\\n'); await s.close();
  const lines = []; for await (const l of s.read()) lines.push(l);
  console.log(JSON.stringify({ createdBy: s.createdBy, lines }));
}, (e) => { console.error(e); process.exit(1); });
`;

async function pack(dir: string, dest: string): Promise<string> {
  const out = await sh('npm', ['pack', '--silent', '--pack-destination', dest], dir);
  return join(dest, out.trim().split('\n').at(-1) as string);
}

async function makeApp(name: string): Promise<string> {
  const app = join(work, name);
  name = name.replace(/\W/g, '-');
  await writePackage(app, { name, source: '' });
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({
      name,
      private: true,
      type: 'module',
      dependencies: {
        '@yoink/storage-core': `file:${coreTgz}`,
        'yoink-storage-fakefs': `file:${pluginTgz}`,
      },
    }),
  );
  await writeFile(join(app, 'esm.mjs'), ESM_PROBE);
  await writeFile(join(app, 'cjs.cjs'), CJS_PROBE);
  return app;
}

async function check(app: string): Promise<void> {
  const esm = await node(['esm.mjs'], app);
  expect(esm.code, esm.stderr).toBe(0);
  const out = JSON.parse(esm.stdout);
  expect(out.createdBy).toBe('fakefs');
  expect(out.lines).toEqual(['{"ok":1}']);
  expect(out.missing).toContain('npm install yoink-storage-absentzz');
  const cjs = await node(['--no-warnings', 'cjs.cjs'], app);
  expect(cjs.code, cjs.stderr).toBe(0);
  expect(JSON.parse(cjs.stdout)).toEqual({ createdBy: 'fakefs', lines: ['{"ok":2}'] });
}

beforeAll(async () => {
  work = await tempDir('consumers');
  coreTgz = await pack(CORE_DIR, work);
  const plugin = join(work, 'plugin-src');
  await writePackage(plugin, {
    name: 'yoink-storage-fakefs',
    source: backendSource('fakefs'),
    schemes: ['fakefs'],
  });
  pluginTgz = await pack(plugin, work);
}, 120_000);

afterAll(async () => {
  await removeDir(work);
});

describe('installed consumers', () => {
  it('the packed core holds only built files', async () => {
    const list = await sh('tar', ['-tzf', coreTgz], work);
    const files = list.trim().split('\n');
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/index.d.ts');
    expect(files.filter((f) => /\.test\.|\/src\/|\/test\//.test(f))).toEqual([]);
  });

  it('npm (flat node_modules): ESM and CommonJS find a third-party backend by scheme', async () => {
    const app = await makeApp('npm-app');
    await sh('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], app);
    await check(app);
  }, 180_000);

  it('pnpm workspace (isolated node_modules): ESM and CommonJS find a third-party backend by scheme', async () => {
    // The app is a workspace package; pnpm keeps core's real folder under the
    // workspace root's node_modules/.pnpm, from where walking up never reaches
    // the app's own node_modules: core alone cannot see the plugin.
    const root = join(work, 'pnpm-ws');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'ws-root', private: true }));
    await writeFile(join(root, 'pnpm-workspace.yaml'), 'packages:\n  - app\n');
    const app = await makeApp(join('pnpm-ws', 'app'));
    // hoist=false: pnpm's strict mode (by default it also hoists every package
    // into .pnpm/node_modules, where core could see it).
    await sh(
      PNPM[0] as string,
      [
        ...PNPM.slice(1),
        'install',
        '--offline',
        '--no-frozen-lockfile', // pnpm freezes the lockfile when CI is set
        '--config.hoist=false',
        '--config.confirmModulesPurge=false',
      ],
      root,
    );
    const hidden = await node(
      [
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module'; import { realpathSync } from 'node:fs';
         const core = realpathSync('node_modules/@yoink/storage-core/package.json');
         let seen = 'hidden';
         try { createRequire(core).resolve('yoink-storage-fakefs'); seen = 'visible'; } catch {}
         console.log(JSON.stringify({ seen, underPnpm: core.includes('.pnpm') }));`,
      ],
      app,
    );
    expect(JSON.parse(hidden.stdout)).toEqual({ seen: 'hidden', underPnpm: true });
    await check(app);
  }, 180_000);
});
