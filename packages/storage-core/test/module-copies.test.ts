import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_DIR, installCore, node, removeDir, tempDir } from './fixtures.js';

// Two copies of core in one process (CJS next to ESM, or two versions in one
// node_modules) must share one registry and recognise each other's errors.
let dir: string;

beforeAll(async () => {
  dir = await tempDir('copies');
  for (const copy of ['copy-a', 'copy-b']) {
    await cp(join(CORE_DIR, 'dist'), join(dir, copy, 'dist'), { recursive: true });
    await cp(join(CORE_DIR, 'package.json'), join(dir, copy, 'package.json'));
  }
  await installCore(dir);
});

afterAll(async () => {
  await removeDir(dir);
});

describe('two copies of core', () => {
  it('share one registry and recognise each other’s errors', async () => {
    const script = join(dir, 'copies.mjs');
    await writeFile(
      script,
      `
      const a = await import('./copy-a/dist/index.js');
      const b = await import('./copy-b/dist/index.js');
      const out = {};
      out.distinct = a.StorageFactory !== b.StorageFactory;
      a.StorageFactory.register('shared-x', (uri) => new a.MemoryStorage('memory://shared-x'));
      out.seenByB = b.StorageFactory.schemes().includes('shared-x');
      const s = await b.StorageFactory.fromUri('shared-x://1');
      out.madeByA = s instanceof a.MemoryStorage;
      try { b.StorageFactory.register('shared-x', () => s); out.duplicate = 'allowed'; }
      catch (e) { out.duplicate = e.code; out.duplicateIsA = a.StorageError.isInstance(e); out.instanceofA = e instanceof a.StorageError; }
      const err = new a.ConcurrentWriterError('x');
      out.bSeesConcurrent = b.ConcurrentWriterError.isInstance(err);
      out.bSeesStorage = b.StorageError.isInstance(err);
      out.bSeesInvalid = b.InvalidUriError.isInstance(err);
      // Memory stores are shared too.
      const w = new a.MemoryStorage('memory://across');
      await w.write('one\\n'); await w.close();
      const lines = []; for await (const l of new b.MemoryStorage('memory://across').read()) lines.push(l);
      out.lines = lines;
      console.log(JSON.stringify(out));
      `,
    );
    const r = await node([script], dir);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      distinct: true,
      seenByB: true,
      madeByA: true,
      duplicate: 'ERR_YOINK_SCHEME_REGISTERED',
      duplicateIsA: true,
      instanceofA: false,
      bSeesConcurrent: true,
      bSeesStorage: true,
      bSeesInvalid: false,
      lines: ['one'],
    });
  });
});

describe('CommonJS consumers', () => {
  it("require('@yoink/storage-core') works (Node >= 20.19 require of ESM)", async () => {
    const script = join(dir, 'consumer.cjs');
    await writeFile(
      script,
      `
      const core = require('@yoink/storage-core');
      (async () => {
        const s = await core.StorageFactory.fromUri('memory://cjs');
        await s.write('{"from":"cjs"}\\n');
        await s.close();
        const lines = [];
        for await (const l of s.read()) lines.push(l);
        console.log(JSON.stringify({ lines, exportsCount: Object.keys(core).length, isClass: typeof core.CheckpointStorage }));
      })().catch((e) => { console.error(e); process.exit(1); });
      `,
    );
    const r = await node(['--no-warnings', script], dir);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.lines).toEqual(['{"from":"cjs"}']);
    expect(out.isClass).toBe('function');
    expect(out.exportsCount).toBeGreaterThan(10);
  });
});
