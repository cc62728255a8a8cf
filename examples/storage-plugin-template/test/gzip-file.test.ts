import { execFile } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { StorageError, StorageFactory } from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GzipFileStorage } from '../src/index.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

const run = promisify(execFile);
let root = '';
beforeAll(async () => {
  root = await makeTempDir('gzip');
});
afterAll(async () => {
  await removeTempDir(root);
});

/** What the standard gzip tool reads from `path` (it fails on a corrupt file). */
async function gunzipCli(path: string): Promise<string> {
  const { stdout } = await run('gzip', ['-dc', path]);
  return stdout;
}

describe('GzipFileStorage on disk', () => {
  it('writes one gzip member per flush, and gzip -dc reads the whole checkpoint', async () => {
    const path = join(root, 'members.jsonl.gz');
    const s = new GzipFileStorage(`gzfile:${path}`);
    for (const n of [1, 2, 3]) {
      await s.write(`{"n":${n}}\n`);
      await s.flush();
    }
    await s.close();
    const bytes = await readFile(path);
    // Each member starts with the gzip magic 1f 8b 08.
    const members = bytes.toString('latin1').split('\x1f\x8b\x08').length - 1;
    expect(members).toBe(3);
    expect(await gunzipCli(path)).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
  });

  it('repairs a member torn by a crash: the next writer keeps what is readable and starts a new line', async () => {
    const path = join(root, 'torn.jsonl.gz');
    const first = new GzipFileStorage(`gzfile:${path}`);
    await first.write('{"ok":1}\n');
    await first.close();
    // A crash mid-append: half of a member is on disk.
    const member = gzipSync(`{"torn":"${'x'.repeat(2000)}"}\n`);
    await appendFile(path, member.subarray(0, Math.floor(member.length / 2)));
    await expect(gunzipCli(path)).rejects.toThrow();

    const second = new GzipFileStorage(`gzfile:${path}`);
    await second.write('{"ok":2}\n');
    await second.close();

    const lines = await collectLines(new GzipFileStorage(`gzfile:${path}`).read());
    expect(lines[0]).toBe('{"ok":1}');
    expect(lines.at(-1)).toBe('{"ok":2}');
    expect(lines.length).toBeLessThanOrEqual(3);
    if (lines.length === 3) expect(`{"torn":"${'x'.repeat(2000)}"}`).toContain(lines[1]);
    // And the repaired file is a valid .gz again.
    expect(await gunzipCli(path)).toBe(`${lines.join('\n')}\n`);
  });

  it('refuses to append to a file that is not gzip, and leaves it as it was', async () => {
    const path = join(root, 'not-gzip.jsonl.gz');
    await writeFile(path, 'plain text, not gzip\n');
    const s = new GzipFileStorage(`gzfile:${path}`);
    const failure = await s.write('{"a":1}\n').catch((e: unknown) => e);
    expect(StorageError.isInstance(failure)).toBe(true);
    expect((failure as Error).message).toContain('not a valid gzip file');
    expect(await readFile(path, 'utf8')).toBe('plain text, not gzip\n');
    await s.close();
  });

  it('importing the package registers the gzfile: scheme with StorageFactory', async () => {
    const storage = await StorageFactory.fromUri(`gzfile:${join(root, 'factory.jsonl.gz')}`);
    expect(storage).toBeInstanceOf(GzipFileStorage);
    await storage.close();
  });
});

describe('GzipFileStorage options (core kit)', () => {
  it('takes level from the URI or the options, and refuses a contradiction', () => {
    expect(new GzipFileStorage('gzfile:///srv/a.gz?level=9').level).toBe(9);
    expect(new GzipFileStorage('gzfile:///srv/a.gz', { level: 1 }).level).toBe(1);
    expect(new GzipFileStorage('gzfile:///srv/a.gz?level=3', { level: 3 }).level).toBe(3);
    expect(() => new GzipFileStorage('gzfile:///srv/a.gz?level=3', { level: 4 })).toThrowError(
      expect.objectContaining({ code: 'ERR_YOINK_INVALID_OPTION' }),
    );
  });

  it('refuses unknown options and parameters, naming the nearest', () => {
    expect(() => new GzipFileStorage('gzfile:///srv/a.gz', { levle: 3 } as never)).toThrowError(
      /Did you mean "level"\?/,
    );
    expect(() => new GzipFileStorage('gzfile:///srv/a.gz?durability=fsync')).toThrowError(
      expect.objectContaining({ code: 'ERR_YOINK_INVALID_URI' }),
    );
    for (const level of ['0', '10', 'fast']) {
      expect(() => new GzipFileStorage(`gzfile:///srv/a.gz?level=${level}`)).toThrowError(
        expect.objectContaining({ code: 'ERR_YOINK_INVALID_URI' }),
      );
    }
  });

  it('importing a second copy of the package does not throw, and gzfile: still routes', async () => {
    // The built copy is another module instance, as a second copy in node_modules would be.
    const copy = `${pathToFileURL(join(import.meta.dirname, '..', 'dist', 'index.js')).href}?copy=2`;
    await import(/* @vite-ignore */ copy);
    const s = await StorageFactory.fromUri(`gzfile:${join(root, 'copies.jsonl.gz')}`);
    expect(s).toBeInstanceOf(GzipFileStorage);
  });
});
