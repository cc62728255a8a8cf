import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendSource, installCore, node, removeDir, tempDir, writePackage } from './fixtures.js';

// A fresh Node process per case: each starts with an empty registry, and its
// working folder is the application, the way a user runs it.
let app: string;

const PROBE = `
import { StorageFactory, BackendNotInstalledError, BackendLoadError } from '@yoink/storage-core';
const uri = process.argv[2];
try {
  const s = await StorageFactory.fromUri(uri);
  await s.write('hello\\n');
  await s.close();
  const lines = [];
  for await (const l of s.read()) lines.push(l);
  console.log(JSON.stringify({ ok: true, createdBy: s.createdBy, lines, schemes: StorageFactory.schemes() }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, name: e.name, code: e.code, message: e.message, cause: e.cause ? String(e.cause.message ?? e.cause) : undefined,
    notInstalled: BackendNotInstalledError.isInstance(e), loadError: BackendLoadError.isInstance(e) }));
}
`;

async function probe(
  uri: string,
  cwd = app,
  script = join(app, 'probe.mjs'),
): Promise<Record<string, unknown>> {
  const r = await node([script, uri], cwd);
  if (r.code !== 0 || !r.stdout.trim()) throw new Error(`probe failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
}

beforeAll(async () => {
  app = await tempDir('auto-import');
  await installCore(app);
  await writeFile(join(app, 'probe.mjs'), PROBE);
  const nm = join(app, 'node_modules');
  // The official name wins over the third-party one.
  await writePackage(join(nm, '@yoink', 'storage-alpha'), {
    name: '@yoink/storage-alpha',
    source: backendSource('alpha'),
    schemes: ['alpha'],
  });
  await writePackage(join(nm, 'yoink-storage-beta'), {
    name: 'yoink-storage-beta',
    source: backendSource('beta'),
    schemes: ['beta'],
  });
  // ESM-only package whose exports have only the "import" condition (require.resolve cannot see it).
  await writePackage(join(nm, 'yoink-storage-gamma'), {
    name: 'yoink-storage-gamma',
    source: backendSource('gamma'),
    exports: { '.': { import: './index.js' } },
    schemes: ['gamma'],
  });
  // A CommonJS third-party backend.
  await writePackage(join(nm, 'yoink-storage-delta'), {
    name: 'yoink-storage-delta',
    type: 'commonjs',
    file: 'index.cjs',
    source: backendSource('delta', 'cjs'),
    schemes: ['delta'],
  });
  await writePackage(join(nm, 'yoink-storage-broken'), {
    name: 'yoink-storage-broken',
    source: `import 'a-dependency-that-is-missing';\n`,
    schemes: ['broken'],
  });
  await writePackage(join(nm, 'yoink-storage-silent'), {
    name: 'yoink-storage-silent',
    source: 'export {};\n',
    schemes: ['silent'],
  });
}, 60_000);

afterAll(async () => {
  await removeDir(app);
});

describe('StorageFactory auto-import', () => {
  it('imports @yoink/storage-<scheme> installed in the application', async () => {
    const r = await probe('alpha://one');
    expect(r).toMatchObject({ ok: true, createdBy: 'alpha', lines: ['hello'] });
    expect(r.schemes).toContain('alpha');
  });

  it('imports a third-party yoink-storage-<scheme>', async () => {
    expect(await probe('BETA://one')).toMatchObject({ ok: true, createdBy: 'beta' });
  });

  it('imports an ESM-only package whose exports only have "import"', async () => {
    expect(await probe('gamma://one')).toMatchObject({ ok: true, createdBy: 'gamma' });
  });

  it('imports a CommonJS backend', async () => {
    expect(await probe('delta://one')).toMatchObject({ ok: true, createdBy: 'delta' });
  });

  it('finds backends next to the main module when run from another folder', async () => {
    const elsewhere = await tempDir('elsewhere');
    try {
      expect(await probe('beta://two', elsewhere)).toMatchObject({ ok: true, createdBy: 'beta' });
    } finally {
      await removeDir(elsewhere);
    }
  });

  it('says which package to install when none is', async () => {
    const r = await probe('nothere://x');
    expect(r).toMatchObject({
      ok: false,
      notInstalled: true,
      code: 'ERR_YOINK_BACKEND_NOT_INSTALLED',
    });
    expect(r.message).toContain('npm install yoink-storage-nothere');
  });

  it('names the official package for s3:, redis: and plain paths', async () => {
    // This application installs none of them.
    for (const [uri, pkg] of [
      ['s3://bucket/key', '@yoink/storage-s3'],
      ['rediss://host?key=k', '@yoink/storage-redis'],
      ['./crawl.jsonl', '@yoink/storage-local'],
      ['C:\\crawl.jsonl', '@yoink/storage-local'],
    ] as const) {
      const r = await probe(uri);
      expect(r, uri).toMatchObject({ ok: false, notInstalled: true });
      expect(r.message, uri).toContain(`npm install ${pkg}`);
    }
  });

  it('says the package is installed but failed to load, with the cause', async () => {
    const r = await probe('broken://x');
    expect(r).toMatchObject({
      ok: false,
      loadError: true,
      notInstalled: false,
      code: 'ERR_YOINK_BACKEND_LOAD',
    });
    expect(r.message).toContain('yoink-storage-broken is installed');
    expect(r.message).toContain('failed to load');
    expect(r.cause).toContain('a-dependency-that-is-missing');
  });

  it('says so when a package loads but registers nothing', async () => {
    const r = await probe('silent://x');
    expect(r).toMatchObject({ ok: false, loadError: true });
    expect(r.message).toContain('did not register');
  });

  it('resolves from the application folder, where core itself cannot see the backend', async () => {
    // Core's real location is the workspace; the backends live only in the
    // temporary application's node_modules, so a bare import() from core fails.
    const r = await node(
      [
        '--input-type=module',
        '-e',
        `import('yoink-storage-beta').then(() => console.log('visible'), () => console.log('invisible'))`,
      ],
      join(app, '..'),
    );
    expect(r.stdout.trim()).toBe('invisible');
    expect(await probe('beta://three')).toMatchObject({ ok: true });
  });

  it('loads each backend once when asked concurrently', async () => {
    const script = join(app, 'concurrent.mjs');
    await mkdir(app, { recursive: true });
    await writeFile(
      script,
      `import { StorageFactory } from '@yoink/storage-core';
       const all = await Promise.all([1,2,3,4].map((i) => StorageFactory.fromUri('alpha://c' + i)));
       console.log(JSON.stringify({ ok: true, n: all.length, schemes: StorageFactory.schemes() }));`,
    );
    const r = await node([script], app);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, n: 4 });
  });
});
