import * as fs from 'node:fs';
import { mkdir, readdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errno } from './file-error.js';

// The lock's layout on disk, and the few file operations on it that are safe
// to race. The protocol that uses them is in checkpoint-lock.ts.
//
//   <path>.lock/                     the lock: exists while someone holds it
//     owner-<token>.json             the holder's record, there from the folder's birth
//     claimed-<token>.json           a record renamed by a taker (takeover in progress)
//   <path>.lock.new-<token>/         a lock being born (renamed to <path>.lock)
//   <path>.lock.stale-<token>/       a taken-over lock being removed (a tombstone)
//
// Every name that a racing process acts on is unique (it carries a token), so
// a rename or unlink by name can only ever hit the one generation it meant.

/** Who holds a checkpoint's lock, as recorded in `<path>.lock/owner-<token>.json`. */
export interface LockOwner {
  /** Process id of the holder. */
  pid: number;
  /** `os.hostname()` of the holder. */
  hostname: string;
  /** When the holder acquired the lock (ISO 8601). */
  startedAt: string;
  /** The holder's pid namespace (`/proc/self/ns/pid` on Linux), so containers sharing a host name are told apart. */
  pidNamespace?: string | undefined;
  /** Unique per acquisition; also in the record's file name. */
  token: string;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const RECORD = new RegExp(`^owner-(${UUID})\\.json$`);
const CLAIM = new RegExp(`^claimed-(${UUID})\\.json$`);

/** The file name of the owner record of the acquisition `token`. */
export function recordName(token: string): string {
  return `owner-${token}.json`;
}

/** The file name a taker renames a record to, claiming it. */
function claimName(token: string): string {
  return `claimed-${token}.json`;
}

/** `true` for the entries this package puts in a lock folder (records and claims). */
export function isOurEntry(name: string): boolean {
  return RECORD.test(name) || CLAIM.test(name);
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (
      typeof o.pid === 'number' &&
      typeof o.hostname === 'string' &&
      typeof o.startedAt === 'string' &&
      typeof o.token === 'string'
    ) {
      return {
        pid: o.pid,
        hostname: o.hostname,
        startedAt: o.startedAt,
        pidNamespace: typeof o.pidNamespace === 'string' ? o.pidNamespace : undefined,
        token: o.token,
      };
    }
  } catch {
    // Garbage: the holder is unknown.
  }
  return undefined;
}

/** The record `name` in `lockPath`, when it is an owner record whose content matches its name. */
async function readRecord(lockPath: string, name: string): Promise<LockOwner | undefined> {
  const token = RECORD.exec(name)?.[1];
  if (token === undefined) return undefined;
  const text = await readFile(join(lockPath, name), 'utf8').catch(() => '');
  const owner = parseOwner(text);
  return owner?.token === token ? owner : undefined;
}

/**
 * Reads the owner record of a checkpoint's lock folder (`<path>.lock`), to
 * show who writes a checkpoint. Takes no lock and never throws.
 *
 * @param lockPath The lock folder: the checkpoint's path plus `.lock`.
 * @returns The holder, or `undefined` when there is no lock, or it is being
 *   taken over, or its record is unreadable.
 *
 * @example
 * ```ts
 * const owner = await readLockOwner('/srv/crawl.jsonl.lock');
 * if (owner) console.log(`written by pid ${owner.pid} on ${owner.hostname} since ${owner.startedAt}`);
 * ```
 */
export async function readLockOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    for (const name of await readdir(lockPath)) {
      const owner = await readRecord(lockPath, name);
      if (owner) return owner;
    }
  } catch {
    // No lock, or not readable.
  }
  return undefined;
}

/** What a lock folder holds, as seen by one look. */
export interface LockState {
  /** Its entries (normally exactly one record). */
  entries: string[];
  /** The holder, when the folder holds exactly one valid owner record. */
  owner: LockOwner | undefined;
  /** The folder's mtime (refreshed by a live holder). */
  mtimeMs: number;
}

/** Looks at a lock folder; `undefined` when it does not exist (any more). */
export async function inspectLock(lockPath: string): Promise<LockState | undefined> {
  try {
    const entries = await readdir(lockPath);
    const { mtimeMs } = await stat(lockPath);
    const only = entries.length === 1 ? entries[0] : undefined;
    const owner = only === undefined ? undefined : await readRecord(lockPath, only);
    return { entries, owner, mtimeMs };
  } catch (e) {
    if (errno(e) === 'ENOENT') return undefined;
    throw e;
  }
}

function alreadyExists(e: unknown, lockPath: string): boolean {
  const code = errno(e);
  if (code === 'ENOTEMPTY' || code === 'EEXIST') return true;
  // Windows refuses to rename a folder over another one with EPERM/EACCES.
  return (
    process.platform === 'win32' &&
    (code === 'EPERM' || code === 'EACCES') &&
    fs.existsSync(lockPath)
  );
}

/**
 * Creates the lock folder with `owner`'s record already inside: the record is
 * written in `<lockPath>.new-<token>`, which is then renamed to `lockPath`.
 * The rename fails when a lock folder with anything in it exists, so the
 * folder is never seen without its record.
 *
 * @throws an error with code `EEXIST` when the lock exists; the file system's
 *   error otherwise.
 */
export async function createLock(lockPath: string, owner: LockOwner): Promise<void> {
  const staging = `${lockPath}.new-${owner.token}`;
  await mkdir(staging);
  try {
    await writeFile(join(staging, recordName(owner.token)), `${JSON.stringify(owner)}\n`, {
      flag: 'wx',
    });
    await rename(staging, lockPath);
  } catch (e) {
    await removeLockFolder(staging).catch(() => {});
    if (alreadyExists(e, lockPath)) {
      throw Object.assign(new Error(`${lockPath} exists`), { code: 'EEXIST', cause: e });
    }
    throw e;
  }
}

function ignore(codes: string[]): (e: unknown) => void {
  return (e) => {
    if (!codes.includes(errno(e) ?? '')) throw e;
  };
}

/**
 * Removes the record of `token` and then the lock folder, if it is empty. When
 * the record is gone already (the lock was taken over), nothing is removed:
 * the folder at `lockPath` is someone else's.
 */
export async function removeOwnLock(lockPath: string, token: string): Promise<void> {
  try {
    await unlink(join(lockPath, recordName(token)));
  } catch (e) {
    if (errno(e) === 'ENOENT') return;
    throw e;
  }
  await rmdir(lockPath).catch(ignore(['ENOENT', 'ENOTEMPTY', 'EEXIST']));
}

/** {@link removeOwnLock}, synchronously (for the exit handler). */
export function removeOwnLockSync(lockPath: string, token: string): void {
  try {
    fs.unlinkSync(join(lockPath, recordName(token)));
  } catch {
    return;
  }
  try {
    fs.rmdirSync(lockPath);
  } catch {
    // Someone else's entries are in it: leave it.
  }
}

/**
 * Removes a folder of this package's (a tombstone, a staging folder, an
 * empty lock): our entries, then the folder. Anything else in it makes
 * `rmdir` fail, so a folder that is not ours is never deleted recursively.
 */
async function removeLockFolder(path: string): Promise<void> {
  for (const name of await readdir(path)) {
    if (isOurEntry(name)) await unlink(join(path, name)).catch(ignore(['ENOENT']));
  }
  await rmdir(path);
}

/** Removes an empty lock folder; does nothing if it is gone or not empty. */
export async function removeEmptyLock(lockPath: string): Promise<void> {
  await rmdir(lockPath).catch(ignore(['ENOENT', 'ENOTEMPTY', 'EEXIST']));
}

/**
 * Takes over the lock folder whose entry `entry` a taker judged dead:
 *
 * 1. claim: rename `entry` to `claimed-<token>.json`. Names are unique, so of
 *    all takers that judged this entry, exactly one rename succeeds; the
 *    others get ENOENT and return `false`.
 * 2. rename the folder to the tombstone `<lockPath>.stale-<token>`. The folder
 *    cannot have changed since the claim: nobody else can claim it (the claim
 *    just refreshed its mtime), the old holder's release removes only its own
 *    record, and a new lock cannot be born over a folder that is not empty.
 * 3. check that the tombstone holds our claim. It would not only if this
 *    process was paused for longer than the stale period between 1 and 2 and
 *    someone else took over meanwhile: that folder is put back (its holder
 *    notices the lost lock if even that fails);
 * 4. remove the tombstone.
 *
 * The caller then tries to create its own lock folder, competing fairly with
 * every other writer.
 */
export async function takeOverLock(lockPath: string, entry: string, token: string): Promise<void> {
  const claim = claimName(token);
  try {
    await rename(join(lockPath, entry), join(lockPath, claim));
  } catch (e) {
    if (errno(e) === 'ENOENT') return; // another taker claimed it first
    throw e;
  }
  const tombstone = `${lockPath}.stale-${token}`;
  try {
    await rename(lockPath, tombstone);
  } catch (e) {
    if (errno(e) === 'ENOENT') return;
    throw e;
  }
  const ours = await stat(join(tombstone, claim)).then(
    () => true,
    () => false,
  );
  if (!ours) {
    try {
      await rename(tombstone, lockPath);
      return;
    } catch {
      // A lock was created meanwhile; the moved one's holder finds its lock lost.
    }
  }
  await removeLockFolder(tombstone).catch(() => {});
}
