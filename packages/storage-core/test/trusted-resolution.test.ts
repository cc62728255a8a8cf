import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backendSource,
  installCore,
  node,
  plantedSource,
  removeDir,
  tempDir,
  writePackage,
} from './fixtures.js';

// Security: fromUri imports code chosen by a string. These cases run real Node
// processes: an application with its own node_modules, started from an
// untrusted working folder that plants packages of the same names.
let root: string;
let app: string;
let untrusted: string;
let cwd: string;
const markers: string[] = [];

const PROBE = `
import { StorageFactory } from '@yoink/storage-core';
const [uri, autoImport, resolveFrom] = process.argv.slice(2);
if (autoImport === 'off') StorageFactory.configure({ autoImport: false });
if (resolveFrom) StorageFactory.configure({ resolveFrom });
try {
  const s = await StorageFactory.fromUri(uri);
  console.log(JSON.stringify({ ok: true, createdBy: s.createdBy }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, name: e.name, code: e.code, message: e.message }));
}
`;

function marker(name: string): string {
  const path = join(root, `${name}.marker`);
  markers.push(path);
  return path;
}

async function probe(
  uri: string,
  options: { cwd?: string; script?: string; args?: string[] } = {},
): Promise<Record<string, unknown>> {
  const r = await node(
    [options.script ?? join(app, 'probe.mjs'), uri, ...(options.args ?? [])],
    options.cwd ?? cwd,
  );
  if (r.code !== 0 || !r.stdout.trim()) throw new Error(`probe failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
}

function noneImported(): void {
  for (const m of markers) expect(existsSync(m), `${m} must not exist`).toBe(false);
}

beforeAll(async () => {
  root = await tempDir('trust');
  app = join(root, 'app');
  untrusted = join(root, 'untrusted');
  cwd = join(untrusted, 'downloaded-crawl');
  await mkdir(cwd, { recursive: true });
  await installCore(app);
  await writeFile(join(app, 'probe.mjs'), PROBE);
  const nm = join(app, 'node_modules');
  await writePackage(join(nm, 'yoink-storage-beta'), {
    name: 'yoink-storage-beta',
    source: backendSource('beta'),
    schemes: ['beta'],
  });
  // The application itself has an unscoped package claiming s3 (a typosquat).
  await writePackage(join(nm, 'yoink-storage-s3'), {
    name: 'yoink-storage-s3',
    source: plantedSource('s3', marker('typosquat-s3')),
    schemes: ['s3'],
  });
  // Installed packages that are not backends for the scheme asked.
  await writePackage(join(nm, 'yoink-storage-undeclared'), {
    name: 'yoink-storage-undeclared',
    source: plantedSource('undeclared', marker('undeclared')),
  });
  await writePackage(join(nm, 'yoink-storage-other'), {
    name: 'yoink-storage-other',
    source: plantedSource('other', marker('other')),
    schemes: ['something-else'],
  });
  // Planted in the working folder and in its parent.
  for (const dir of [cwd, untrusted]) {
    const planted = join(dir, 'node_modules');
    const where = dir === cwd ? 'cwd' : 'parent';
    await writePackage(join(planted, 'yoink-storage-beta'), {
      name: 'yoink-storage-beta',
      source: plantedSource('beta', marker(`${where}-beta`)),
      schemes: ['beta'],
    });
    await writePackage(join(planted, 'yoink-storage-zeta'), {
      name: 'yoink-storage-zeta',
      source: plantedSource('zeta', marker(`${where}-zeta`)),
      schemes: ['zeta'],
    });
    await writePackage(join(planted, '@yoink', 'storage-local'), {
      name: '@yoink/storage-local',
      source: plantedSource('file', marker(`${where}-local`)),
      schemes: ['file'],
    });
  }
}, 60_000);

afterAll(async () => {
  await removeDir(root);
});

describe('auto-import trusts only the application', () => {
  it('uses the application’s backend, never one planted in the working folder or its parent', async () => {
    expect(await probe('beta://x')).toMatchObject({ ok: true, createdBy: 'beta' });
    noneImported();
  });

  it('does not run a planted package for a scheme the application lacks', async () => {
    for (const uri of ['zeta://x', './crawl.jsonl']) {
      const r = await probe(uri);
      expect(r, uri).toMatchObject({ ok: false, code: 'ERR_YOINK_BACKEND_NOT_INSTALLED' });
    }
    noneImported();
  });

  it('never falls back to an unscoped package for an official scheme', async () => {
    const r = await probe('s3://bucket/key');
    expect(r).toMatchObject({ ok: false, code: 'ERR_YOINK_BACKEND_NOT_INSTALLED' });
    expect(r.message).toContain('npm install @yoink/storage-s3');
    noneImported();
  });

  it('imports only a package that declares itself a backend for the scheme, and says why not', async () => {
    for (const [uri, pkg] of [
      ['core://x', '@yoink/storage-core'],
      ['undeclared://x', 'yoink-storage-undeclared'],
      ['other://x', 'yoink-storage-other'],
    ] as const) {
      const r = await probe(uri);
      expect(r, uri).toMatchObject({ ok: false, code: 'ERR_YOINK_BACKEND_LOAD' });
      expect(r.message, uri).toContain(`${pkg} is installed`);
      expect(r.message, uri).toContain('does not declare it a yoink storage backend');
    }
    noneImported();
  });

  it('resolves from the working folder when there is no main module (node -e)', async () => {
    const r = await node(
      [
        '--input-type=module',
        '-e',
        `import { StorageFactory } from '@yoink/storage-core';
         const s = await StorageFactory.fromUri('beta://e');
         console.log(s.createdBy);`,
      ],
      app,
    );
    expect(r.stdout.trim()).toBe('beta');
  });

  it('resolves from the folder given to configure({ resolveFrom }) first', async () => {
    // A script outside the application, run from an untrusted folder.
    const lib = join(root, 'lib');
    await installCore(lib);
    await writeFile(join(lib, 'probe.mjs'), PROBE);
    const script = join(lib, 'probe.mjs');
    expect(await probe('beta://r', { script })).toMatchObject({
      ok: false,
      code: 'ERR_YOINK_BACKEND_NOT_INSTALLED',
    });
    expect(await probe('beta://r', { script, args: ['on', app] })).toMatchObject({
      ok: true,
      createdBy: 'beta',
    });
    noneImported();
  });

  it('imports nothing when auto-import is off', async () => {
    const r = await probe('beta://x', { args: ['off'] });
    expect(r).toMatchObject({ ok: false, code: 'ERR_YOINK_BACKEND_NOT_INSTALLED' });
    expect(r.message).toContain('auto-import is turned off');
    noneImported();
  });
});
