import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createLock,
  type LockOwner,
  readLockOwner,
  recordName,
  removeOwnLock,
  takeOverLock,
} from './lock-folder.js';

let dir = '';
let lockPath = '';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yoink-local-lock-folder-'));
  lockPath = join(dir, 'crawl.jsonl.lock');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function owner(pid = 4242): LockOwner {
  return {
    pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    pidNamespace: undefined,
    token: randomUUID(),
  };
}

async function failure(p: Promise<unknown>): Promise<NodeJS.ErrnoException | undefined> {
  return p.then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e,
  );
}

describe('createLock', () => {
  it('creates the lock folder with its owner record already inside, and nothing beside it', async () => {
    const o = owner();
    await createLock(lockPath, o);
    expect(await readdir(lockPath)).toEqual([recordName(o.token)]);
    expect(await readLockOwner(lockPath)).toEqual(o);
    expect(await readdir(dir)).toEqual(['crawl.jsonl.lock']);
  });

  it('fails with EEXIST when a lock exists, leaving it and no staging folder', async () => {
    const first = owner(1);
    await createLock(lockPath, first);
    const error = await failure(createLock(lockPath, owner(2)));
    expect(error?.code).toBe('EEXIST');
    expect((await readLockOwner(lockPath))?.token).toBe(first.token);
    expect(await readdir(dir)).toEqual(['crawl.jsonl.lock']);
  });
});

describe('removeOwnLock', () => {
  it('removes its record and the folder', async () => {
    const o = owner();
    await createLock(lockPath, o);
    await removeOwnLock(lockPath, o.token);
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes nothing once the lock is someone else’s', async () => {
    const mine = owner(1);
    await createLock(lockPath, mine);
    await takeOverLock(lockPath, recordName(mine.token), randomUUID());
    const theirs = owner(2);
    await createLock(lockPath, theirs);
    await removeOwnLock(lockPath, mine.token);
    expect((await readLockOwner(lockPath))?.token).toBe(theirs.token);
  });
});

describe('takeOverLock', () => {
  it('removes the folder it claimed and leaves no tombstone', async () => {
    const dead = owner();
    await createLock(lockPath, dead);
    await takeOverLock(lockPath, recordName(dead.token), randomUUID());
    expect(await readdir(dir)).toEqual([]);
  });

  it('lets exactly one of two takers of the same record act, without errors', async () => {
    const dead = owner();
    await createLock(lockPath, dead);
    await Promise.all([
      takeOverLock(lockPath, recordName(dead.token), randomUUID()),
      takeOverLock(lockPath, recordName(dead.token), randomUUID()),
    ]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves alone a lock created after the dead one was taken over (a late taker hits nothing)', async () => {
    const dead = owner(1);
    await createLock(lockPath, dead);
    await takeOverLock(lockPath, recordName(dead.token), randomUUID());
    const winner = owner(2);
    await createLock(lockPath, winner);
    // A second taker that judged the dead record before the winner acted.
    await takeOverLock(lockPath, recordName(dead.token), randomUUID());
    expect(await readLockOwner(lockPath)).toEqual(winner);
    expect(await readdir(dir)).toEqual(['crawl.jsonl.lock']);
  });
});

describe('readLockOwner', () => {
  it('ignores a record whose content names another token than its file name', async () => {
    await mkdir(lockPath);
    const o = owner();
    await writeFile(join(lockPath, recordName(randomUUID())), JSON.stringify(o));
    expect(await readLockOwner(lockPath)).toBeUndefined();
  });

  it('returns undefined when there is no lock', async () => {
    expect(await readLockOwner(lockPath)).toBeUndefined();
  });
});
