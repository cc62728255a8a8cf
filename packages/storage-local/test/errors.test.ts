import { chmod, chown, mkdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConcurrentWriterError, StorageError, StoragePermissionError } from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalFileStorage } from '../src/index.js';
import { ChildWriter } from './child-writer.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

const NOBODY = 65534;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

let dir = '';
const storages: LocalFileStorage[] = [];
const children: ChildWriter[] = [];

function storage(path: string): LocalFileStorage {
  const s = new LocalFileStorage(path);
  storages.push(s);
  return s;
}

beforeEach(async () => {
  dir = await makeTempDir('errors');
});

afterEach(async () => {
  for (const c of children.splice(0)) await c.kill();
  for (const s of storages.splice(0)) await s.close().catch(() => {});
  await removeTempDir(dir);
});

function causeCode(e: unknown): string | undefined {
  return ((e as Error).cause as NodeJS.ErrnoException | undefined)?.code;
}

/** Writes `data` and flushes; returns the error and whether write() accepted the data. */
async function writeAndFlush(
  s: LocalFileStorage,
  data: string,
): Promise<{ error: unknown; accepted: boolean }> {
  let accepted = false;
  try {
    await s.write(data);
    accepted = true;
    await s.flush();
  } catch (error) {
    return { error, accepted };
  }
  return { error: undefined, accepted };
}

function expectStorageError(error: unknown, path: string, codes: string[], words: RegExp): void {
  expect(StorageError.isInstance(error)).toBe(true);
  expect(ConcurrentWriterError.isInstance(error)).toBe(false);
  expect(StoragePermissionError.isInstance(error)).toBe(false);
  expect(codes).toContain(causeCode(error));
  const message = (error as Error).message;
  expect(message).toContain(path);
  expect(message).toMatch(words);
}

describe('file system errors', () => {
  it('a path that is a folder: StorageError naming it, EISDIR as cause; works once fixed', async () => {
    const path = join(dir, 'crawl.jsonl');
    await mkdir(path);
    const s = storage(path);
    const { error, accepted } = await writeAndFlush(s, 'a\n');
    expectStorageError(error, path, ['EISDIR'], /is a folder/i);

    await rm(path, { recursive: true });
    if (!accepted) await s.write('a\n');
    await s.close();
    expect(await collectLines(s.read())).toEqual(['a']);
  });

  it('a parent that is a file: StorageError naming the path, ENOTDIR/EEXIST as cause; works once fixed', async () => {
    const parent = join(dir, 'not-a-folder');
    await writeFile(parent, 'I am a file\n');
    const path = join(parent, 'crawl.jsonl');
    const s = storage(path);
    const { error, accepted } = await writeAndFlush(s, 'a\n');
    expectStorageError(error, path, ['ENOTDIR', 'EEXIST'], /parent .* is a file/i);

    await unlink(parent);
    if (!accepted) await s.write('a\n');
    await s.close();
    expect(await collectLines(s.read())).toEqual(['a']);
  });

  it('disk full: StorageError naming the path, ENOSPC as cause, and the data is delivered once by the next flush', async () => {
    const real = join(dir, 'real.jsonl');
    const before = storage(real);
    await before.write('before\n');
    await before.close();

    // The checkpoint path leads to /dev/full: every write gets ENOSPC.
    const path = join(dir, 'crawl.jsonl');
    await symlink('/dev/full', path);
    const s = storage(path);
    await s.write('a\n');
    await s.write('b\n');
    const error = await s.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expectStorageError(error, path, ['ENOSPC'], /disk .* is full.*flush\(\) again/i);
    await s.write('c\n');

    // Space is back: the path now leads to a real file.
    await unlink(path);
    await symlink(real, path);
    await s.flush();
    await s.close();
    expect(await collectLines(s.read())).toEqual(['before', 'a', 'b', 'c']);
  });

  describe('permission denied', () => {
    // Root ignores file modes, so as root the writer runs as nobody in a child process.
    const otherUser = isRoot ? { uid: NOBODY, gid: NOBODY } : {};

    async function writerWithoutRoot(): Promise<ChildWriter> {
      const child = await ChildWriter.start(otherUser);
      children.push(child);
      return child;
    }

    it('a folder the writer may not write to: StoragePermissionError naming the path, EACCES as cause', async () => {
      const folder = join(dir, 'read-only');
      await mkdir(folder, { mode: 0o555 });
      await chmod(dir, 0o755);
      await chmod(folder, 0o555);
      const path = join(folder, 'crawl.jsonl');
      try {
        const child = await writerWithoutRoot();
        await child.ok({ cmd: 'open', path });
        const reply = await child.send({ cmd: 'write', data: 'a\n' });
        expect(reply.ok).toBe(false);
        if (reply.ok) return;
        expect(reply.error.isStorageError).toBe(true);
        expect(reply.error.code).toBe(StoragePermissionError.code);
        expect(reply.error.causeCode).toBe('EACCES');
        expect(reply.error.message).toContain(path);
        expect(reply.error.message).toMatch(/permission denied/i);
      } finally {
        await chmod(folder, 0o755);
      }
    });

    it('a file the writer may not append to: the flush fails with StoragePermissionError (EACCES), keeps the data, and delivers it once when fixed', async () => {
      await chmod(dir, 0o755);
      const work = join(dir, 'work');
      await mkdir(work);
      if (isRoot) await chown(work, NOBODY, NOBODY);
      const path = join(work, 'crawl.jsonl');
      await writeFile(path, 'old\n');
      await chmod(path, 0o444);

      const child = await writerWithoutRoot();
      await child.ok({ cmd: 'open', path });
      await child.ok({ cmd: 'write', data: 'a\n' });
      const reply = await child.send({ cmd: 'flush' });
      expect(reply.ok).toBe(false);
      if (reply.ok) return;
      expect(reply.error.isStorageError).toBe(true);
      expect(reply.error.code).toBe(StoragePermissionError.code);
      expect(reply.error.causeCode).toBe('EACCES');
      expect(reply.error.message).toContain(path);
      expect(reply.error.message).toMatch(/permission denied.*flush\(\) again/i);

      // The operator fixes the permission; the kept data goes out once.
      await chmod(path, 0o666);
      await child.ok({ cmd: 'write', data: 'b\n' });
      await child.ok({ cmd: 'flush' });
      await child.ok({ cmd: 'close' });
      expect(await collectLines(new LocalFileStorage(path).read())).toEqual(['old', 'a', 'b']);
    });
  });
});
