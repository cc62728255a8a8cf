import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConcurrentWriterError } from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalFileStorage } from '../src/index.js';
import { readLockOwner } from '../src/lock-folder.js';
import { ChildWriter } from './child-writer.js';
import { makeTempDir, removeTempDir, waitFor } from './temp-dir.js';

let dir = '';
let path = '';
const children: ChildWriter[] = [];
const storages: LocalFileStorage[] = [];

function storage(options = {}): LocalFileStorage {
  const s = new LocalFileStorage(path, options);
  storages.push(s);
  return s;
}

async function child(): Promise<ChildWriter> {
  const c = await ChildWriter.start();
  children.push(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

beforeEach(async () => {
  dir = await makeTempDir('lock');
  path = join(dir, 'crawl.jsonl');
});

afterEach(async () => {
  for (const c of children.splice(0)) await c.kill();
  for (const s of storages.splice(0)) await s.close().catch(() => {});
  await removeTempDir(dir);
});

describe('the writer lock', () => {
  it('is a folder beside the checkpoint holding pid, host and start time', async () => {
    const s = storage();
    await s.write('a\n');
    const owner = await readLockOwner(`${path}.lock`);
    expect(owner).toMatchObject({ pid: process.pid, hostname: hostname() });
    expect(Number.isNaN(Date.parse(owner?.startedAt ?? ''))).toBe(false);
  });

  it('refuses a second writer in another live process, naming the holder', async () => {
    const holder = await child();
    await holder.ok({ cmd: 'open', path });
    await holder.ok({ cmd: 'write', data: 'from-child\n' });
    await holder.ok({ cmd: 'flush' });

    const s = storage();
    const error = await rejection(s.write('from-parent\n'));
    expect(ConcurrentWriterError.isInstance(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(path);
    expect(message).toContain(`pid ${holder.pid}`);
    expect(message).toContain(hostname());
    expect(await collectLines(s.read())).toEqual(['from-child']);
  });

  it('a second writer in another process is refused too', async () => {
    const s = storage();
    await s.write('parent\n');
    await s.flush();
    const other = await child();
    await other.ok({ cmd: 'open', path });
    const reply = await other.send({ cmd: 'write', data: 'child\n' });
    expect(reply.ok).toBe(false);
    if (!reply.ok) {
      expect(reply.error.code).toBe(ConcurrentWriterError.code);
      expect(reply.error.message).toContain(`pid ${process.pid}`);
    }
  });

  it('is taken over at once when the holder on this host was killed', async () => {
    const holder = await child();
    await holder.ok({ cmd: 'open', path });
    await holder.ok({ cmd: 'write', data: 'before-kill\n' });
    await holder.ok({ cmd: 'flush' });
    await holder.kill('SIGKILL');
    // SIGKILL runs no exit handler: the lock is still there, fresh.
    expect((await readLockOwner(`${path}.lock`))?.pid).toBe(holder.pid);

    const s = storage(); // default stale period (10 s): only the dead-pid rule can let it in
    await s.write('after-kill\n');
    await s.close();
    expect(await collectLines(s.read())).toEqual(['before-kill', 'after-kill']);
  });

  it('is released on close()', async () => {
    const first = storage();
    await first.write('one\n');
    expect(existsSync(`${path}.lock`)).toBe(true);
    await first.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
    const second = storage();
    await second.write('two\n');
    await second.close();
    expect(await collectLines(second.read())).toEqual(['one', 'two']);
  });

  it('is released when the process exits without close()', async () => {
    const holder = await child();
    await holder.ok({ cmd: 'open', path });
    await holder.ok({ cmd: 'write', data: 'x\n' });
    expect(existsSync(`${path}.lock`)).toBe(true);
    void holder.send({ cmd: 'exit', code: 0 }).catch(() => {});
    const { code } = await holder.exited;
    expect(code).toBe(0);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('is released when the process is stopped with SIGTERM', async () => {
    const holder = await child();
    await holder.ok({ cmd: 'open', path });
    await holder.ok({ cmd: 'write', data: 'x\n' });
    expect(existsSync(`${path}.lock`)).toBe(true);
    await holder.kill('SIGTERM');
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  /** Plants a lock of pid 4242 on another host, last refreshed `ageMs` ago; returns its token. */
  async function foreignLock(ageMs: number): Promise<string> {
    const lockPath = `${path}.lock`;
    const token = randomUUID();
    await mkdir(lockPath);
    await writeFile(
      join(lockPath, `owner-${token}.json`),
      JSON.stringify({
        pid: 4242,
        hostname: 'other-host.example',
        startedAt: new Date(Date.now() - ageMs).toISOString(),
        token,
      }),
    );
    const mtime = new Date(Date.now() - ageMs);
    await utimes(lockPath, mtime, mtime);
    return token;
  }

  /** The names in the checkpoint's folder: no tombstone or half-born lock may be left there. */
  async function folderEntries(): Promise<string[]> {
    return (await readdir(dir)).sort();
  }

  it('takes over a lock from another host once it is older than the stale period', async () => {
    await writeFile(path, 'old\n');
    await foreignLock(60_000);
    const s = storage({ lockStaleMs: 5_000 });
    await s.write('new\n');
    expect((await readLockOwner(`${path}.lock`))?.pid).toBe(process.pid);
    expect(await folderEntries()).toEqual(['crawl.jsonl', 'crawl.jsonl.lock']);
    await s.close();
    expect(await collectLines(s.read())).toEqual(['old', 'new']);
    expect(await folderEntries()).toEqual(['crawl.jsonl']);
  });

  it('refuses a fresh lock from another host, naming it, and leaves it as it was', async () => {
    const token = await foreignLock(0);
    const s = storage({ lockStaleMs: 5_000 });
    const error = await rejection(s.write('new\n'));
    expect(ConcurrentWriterError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('pid 4242 on host other-host.example');
    expect((await readLockOwner(`${path}.lock`))?.token).toBe(token);
    expect(await folderEntries()).toEqual(['crawl.jsonl.lock']);
  });

  it('takes over a dead holder’s lock leaving no tombstone or half-made lock beside the checkpoint', async () => {
    const holder = await child();
    await holder.ok({ cmd: 'open', path });
    await holder.ok({ cmd: 'write', data: 'a\n' });
    await holder.ok({ cmd: 'flush' });
    await holder.kill('SIGKILL');
    const s = storage();
    await s.write('b\n');
    expect((await readLockOwner(`${path}.lock`))?.pid).toBe(process.pid);
    expect(await folderEntries()).toEqual(['crawl.jsonl', 'crawl.jsonl.lock']);
    expect(await readdir(`${path}.lock`)).toHaveLength(1);
  });

  it('replaces an empty lock folder at once: this package never leaves one, so it holds nobody', async () => {
    await mkdir(`${path}.lock`);
    const s = storage();
    await s.write('new\n');
    expect((await readLockOwner(`${path}.lock`))?.pid).toBe(process.pid);
  });

  it('never removes a lock folder holding files it does not know, even a stale one', async () => {
    const lockPath = `${path}.lock`;
    await mkdir(lockPath);
    await writeFile(join(lockPath, 'someone-elses.txt'), 'x');
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPath, old, old);
    const error = await rejection(storage({ lockStaleMs: 2_000 }).write('new\n'));
    expect(ConcurrentWriterError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('an unknown holder');
    expect((error as Error).message).toContain('someone-elses.txt');
    expect(await readdir(lockPath)).toEqual(['someone-elses.txt']);
  });

  it('refuses a lock that another writer is taking over right now (a claimed record)', async () => {
    const lockPath = `${path}.lock`;
    await mkdir(lockPath);
    await writeFile(join(lockPath, `claimed-${randomUUID()}.json`), '{}');
    const error = await rejection(storage().write('new\n'));
    expect(ConcurrentWriterError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('taking it over right now');
  });

  it('is refreshed by its holder, so it does not go stale while the holder lives', async () => {
    const s = storage({ lockStaleMs: 2_000 });
    await s.write('a\n');
    const lockPath = `${path}.lock`;
    const first = (await stat(lockPath)).mtimeMs;
    await waitFor(
      'the lock mtime to be refreshed',
      async () => (await stat(lockPath)).mtimeMs > first,
    );
    await s.write('b\n');
    await s.flush();
    expect(await collectLines(s.read())).toEqual(['a', 'b']);
  });

  it('a writer whose lock was removed stops writing with ConcurrentWriterError, keeping its data', async () => {
    const s = storage({ lockStaleMs: 2_000 });
    await s.write('first\n');
    await s.flush();
    await removeTempDir(`${path}.lock`);
    const accepted: string[] = ['first'];
    let error: unknown;
    let i = 0;
    await waitFor('the lost lock to be noticed', async () => {
      const line = `line-${i++}`;
      try {
        await s.write(`${line}\n`);
        await s.flush();
        accepted.push(line);
      } catch (e) {
        error = e;
        return true;
      }
      return false;
    });
    expect(ConcurrentWriterError.isInstance(error)).toBe(true);
    expect(s.bufferedBytes).toBeGreaterThan(0);
    expect(await collectLines(s.read())).toEqual(accepted);
  });

  it('is not taken when lock is false', async () => {
    const s = storage({ lock: false });
    await s.write('a\n');
    await s.flush();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});
