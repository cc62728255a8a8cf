import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConcurrentWriterError } from '@yoink/storage-core';
import lockfile from 'proper-lockfile';

/** Who holds a checkpoint's lock, as recorded in `<path>.lock/owner.json`. */
export interface LockOwner {
  /** Process id of the holder. */
  pid: number;
  /** `os.hostname()` of the holder. */
  hostname: string;
  /** When the holder acquired the lock (ISO 8601). */
  startedAt: string;
  /** The holder's pid namespace (`/proc/self/ns/pid` on Linux), so containers sharing a host name are told apart. */
  pidNamespace?: string | undefined;
  /** Unique per acquisition. */
  token: string;
}

/** Options of {@link CheckpointLock.acquire}. */
export interface CheckpointLockOptions {
  /**
   * A lock whose mtime was not refreshed for this long is stale and may be
   * taken over (from any host). The holder refreshes it every third of it.
   * proper-lockfile's minimum is 2000 ms.
   */
  staleMs: number;
  /** Called once if the lock is lost (removed, or taken over as stale) while held. */
  onCompromised(error: Error): void;
}

/** The name of the owner record inside the lock folder. */
export const OWNER_FILE = 'owner.json';
const OWNER_ENTRY = /^owner\.json(\.[0-9a-f-]+\.tmp)?$/;

function ownPidNamespace(): string | undefined {
  try {
    return fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

const PID_NAMESPACE = ownPidNamespace();

/** Tokens of the locks this process holds, by lock path. */
const held = new Map<string, string>();

type Callback = (err: NodeJS.ErrnoException | null) => void;

/**
 * Removes a lock folder: its owner record(s), then the folder. Anything else in
 * it makes `rmdir` fail (ENOTEMPTY), so a folder that is not ours is never
 * deleted recursively.
 */
function removeLockDir(path: string, callback: Callback): void {
  fs.readdir(path, (err, entries) => {
    if (err) {
      callback(err);
      return;
    }
    const ours = entries.filter((e) => OWNER_ENTRY.test(e));
    let pending = ours.length;
    const done = (): void => fs.rmdir(path, callback);
    if (pending === 0) {
      done();
      return;
    }
    for (const entry of ours) {
      fs.unlink(join(path, entry), () => {
        pending -= 1;
        if (pending === 0) done();
      });
    }
  });
}

function removeLockDirSync(path: string): void {
  for (const entry of fs.readdirSync(path)) {
    if (OWNER_ENTRY.test(entry)) fs.rmSync(join(path, entry), { force: true });
  }
  fs.rmdirSync(path);
}

/**
 * The file system proper-lockfile uses: node's, except that removing the lock
 * folder also removes the owner record we keep inside it (its `rmdir` would
 * fail on a non-empty folder). Also used by its exit handler (`rmdirSync`).
 */
const lockFs = {
  mkdir: fs.mkdir,
  stat: fs.stat,
  utimes: fs.utimes,
  realpath: fs.realpath,
  rmdir: removeLockDir,
  rmdirSync: removeLockDirSync,
};

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
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
    // A record being written, or garbage: the holder is unknown.
  }
  return undefined;
}

/**
 * Reads the owner record of a checkpoint's lock folder (`<path>.lock`), to
 * show who writes a checkpoint. Takes no lock and never throws.
 *
 * @param lockPath The lock folder: the checkpoint's path plus `.lock`.
 * @returns The holder, or `undefined` when there is no lock or its record is
 *   missing or unreadable (a lock being created).
 *
 * @example
 * ```ts
 * const owner = await readLockOwner('/srv/crawl.jsonl.lock');
 * if (owner) console.log(`written by pid ${owner.pid} on ${owner.hostname} since ${owner.startedAt}`);
 * ```
 */
export async function readLockOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    return parseOwner(await readFile(join(lockPath, OWNER_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * `true` when `owner` is a process of this host (same host name and pid
 * namespace) that no longer runs, or a lock of this very process that it does
 * not hold any more (a previous process that had our pid).
 */
function isDeadLocalOwner(owner: LockOwner, lockPath: string): boolean {
  if (owner.hostname !== hostname() || owner.pidNamespace !== PID_NAMESPACE) return false;
  if (owner.pid === process.pid) return held.get(lockPath) !== owner.token;
  return !isAlive(owner.pid);
}

function describeOwner(owner: LockOwner | undefined): string {
  if (!owner) return 'a process that has not recorded itself yet (no owner.json)';
  return `pid ${owner.pid} on host ${owner.hostname}, since ${owner.startedAt}`;
}

/**
 * An exclusive lock on one checkpoint: the folder `<path>.lock`, created
 * atomically by proper-lockfile (`mkdir`, whose "already exists" is the same
 * guarantee as `O_EXCL`), kept fresh by it (mtime refreshed every
 * `staleMs / 3`), and removed on release and on process exit. Inside it,
 * `owner.json` records the holder's pid, host and start time.
 *
 * What proper-lockfile lacks and this adds: the owner record; naming the
 * holder in the error; and taking over at once a lock whose holder is a dead
 * process of this host (its mtime is set to the epoch, so proper-lockfile's
 * own stale path removes and re-creates it). A holder on another host is
 * taken over only once the lock is older than `staleMs`.
 *
 * @example
 * ```ts
 * const lock = await CheckpointLock.acquire('/srv/crawl.jsonl', { staleMs: 10_000, onCompromised: console.error });
 * try { ... } finally { await lock.release(); }
 * ```
 */
export class CheckpointLock {
  /** The lock folder, `<path>.lock`. */
  readonly lockPath: string;
  /** This process's owner record. */
  readonly owner: LockOwner;
  readonly #release: () => Promise<void>;
  #released = false;

  private constructor(lockPath: string, owner: LockOwner, release: () => Promise<void>) {
    this.lockPath = lockPath;
    this.owner = owner;
    this.#release = release;
  }

  /**
   * Acquires the lock of the checkpoint at `path`.
   *
   * @throws {ConcurrentWriterError} when a live writer holds it; the message names it.
   * @throws the file system's error (EACCES, ENOTDIR, …) when the lock folder
   *   cannot be created; the caller wraps it.
   */
  static async acquire(path: string, options: CheckpointLockOptions): Promise<CheckpointLock> {
    const lockPath = `${path}.lock`;
    const staleMs = Math.max(2000, options.staleMs);
    let compromised = false;
    let lock: CheckpointLock | undefined;
    const lockOptions = {
      stale: staleMs,
      update: Math.max(1000, Math.floor(staleMs / 3)),
      realpath: false,
      retries: 0,
      lockfilePath: lockPath,
      fs: lockFs,
      onCompromised: (err: Error) => {
        compromised = true;
        if (held.get(lockPath) === lock?.owner.token) held.delete(lockPath);
        options.onCompromised(err);
      },
    };
    for (let attempt = 0; ; attempt++) {
      let release: () => Promise<void>;
      try {
        release = await lockfile.lock(path, lockOptions);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
        const owner = await readLockOwner(lockPath);
        if (attempt < 3 && owner && isDeadLocalOwner(owner, lockPath)) {
          // Re-read right before marking it stale, so a lock that someone else
          // took over in the meantime is not marked.
          const again = await readLockOwner(lockPath);
          if (again?.token === owner.token) {
            const epoch = new Date(0);
            await utimes(lockPath, epoch, epoch).catch(() => {});
          }
          continue;
        }
        throw new ConcurrentWriterError(
          `${path} is locked by another writer: ${describeOwner(owner)} (lock folder ${lockPath}). ` +
            'A checkpoint has one writer at a time: stop the other writer, or wait for it to close. ' +
            `A lock left by a dead process is taken over automatically: at once on the same host, ` +
            `or once it is ${staleMs} ms old when the holder ran on another host.`,
          { uri: path, cause: e },
        );
      }
      const owner: LockOwner = {
        pid: process.pid,
        hostname: hostname(),
        startedAt: new Date().toISOString(),
        pidNamespace: PID_NAMESPACE,
        token: randomUUID(),
      };
      try {
        // proper-lockfile remembers the folder's mtime and treats any other
        // mtime as a takeover; adding a file changes it, so put it back.
        const { mtime } = await stat(lockPath);
        // Written beside, then renamed: a reader never sees half a record.
        const tmp = join(lockPath, `${OWNER_FILE}.${owner.token}.tmp`);
        await writeFile(tmp, `${JSON.stringify(owner)}\n`);
        await rename(tmp, join(lockPath, OWNER_FILE));
        await utimes(lockPath, mtime, mtime);
      } catch (e) {
        await release().catch(() => {});
        throw e;
      }
      lock = new CheckpointLock(lockPath, owner, release);
      held.set(lockPath, owner.token);
      if (compromised) lock.#released = true;
      return lock;
    }
  }

  /** Removes the lock folder. Idempotent; a lock already lost is left alone. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    if (held.get(this.lockPath) === this.owner.token) held.delete(this.lockPath);
    await this.#release().catch((e: NodeJS.ErrnoException) => {
      // ERELEASED: lost (compromised) before; nothing of ours to remove.
      if (e.code !== 'ERELEASED') throw e;
    });
  }
}
