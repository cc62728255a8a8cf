import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { ConcurrentWriterError } from '@yoink/storage-core';
import lockfile from 'proper-lockfile';
import {
  createLock,
  inspectLock,
  isOurEntry,
  type LockOwner,
  type LockState,
  removeEmptyLock,
  removeOwnLock,
  removeOwnLockSync,
  takeOverLock,
} from './lock-folder.js';

/** Options of {@link CheckpointLock.acquire}. */
export interface CheckpointLockOptions {
  /**
   * A lock whose mtime was not refreshed for this long is stale and may be
   * taken over (from any host). The holder refreshes it every third of it.
   * The minimum is 2000 ms.
   */
  staleMs: number;
  /** Called once if the lock is lost (removed, or taken over as stale) while held. */
  onCompromised(error: Error): void;
}

/** How many times `acquire` creates or takes over before it gives up. */
const MAX_ATTEMPTS = 5;

function ownPidNamespace(): string | undefined {
  try {
    return fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

const PID_NAMESPACE = ownPidNamespace();

/**
 * Tokens of the acquisitions this process holds or is making. A record with
 * our pid and a token not in here is left by an earlier process that had our
 * pid. A token is added before its record can be seen.
 */
const heldTokens = new Set<string>();

type Callback = (err: NodeJS.ErrnoException | null) => void;

function callback(promise: Promise<void>, cb: Callback): void {
  promise.then(
    () => cb(null),
    (e: NodeJS.ErrnoException) => cb(e),
  );
}

/**
 * The file system proper-lockfile uses for one acquisition, so that the lock
 * folder is born with its owner record (`mkdir`) and only our own lock is
 * ever removed (`rmdir`, also from its exit handler and from its own
 * stale-lock path, where our record is not in the folder, so that path
 * removes nothing).
 */
function lockFsFor(owner: LockOwner) {
  return {
    mkdir: (lockPath: string, cb: Callback) => callback(createLock(lockPath, owner), cb),
    rmdir: (lockPath: string, cb: Callback) => callback(removeOwnLock(lockPath, owner.token), cb),
    rmdirSync: (lockPath: string) => removeOwnLockSync(lockPath, owner.token),
    stat: fs.stat,
    utimes: fs.utimes,
    realpath: fs.realpath,
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * `true` when `owner` is a process of this host (same host name and pid
 * namespace) that no longer runs, or an acquisition of this very pid that
 * this process does not hold (a previous process that had our pid).
 */
function isDeadLocalOwner(owner: LockOwner): boolean {
  if (owner.hostname !== hostname() || owner.pidNamespace !== PID_NAMESPACE) return false;
  if (owner.pid === process.pid) return !heldTokens.has(owner.token);
  return !isAlive(owner.pid);
}

/**
 * What a taker may do with the lock folder it found: `'empty'` (remove it),
 * the entry to claim, or `undefined` (a live holder: refuse).
 */
function takeoverTarget(state: LockState, staleMs: number): string | undefined {
  // This package never leaves an empty lock folder (a lock is born with its
  // record), so an empty one holds nobody: a release in progress, or a crash
  // of another tool. Removing it cannot remove a live lock of ours.
  if (state.entries.length === 0) return 'empty';
  const stale = Date.now() - state.mtimeMs > staleMs;
  const dead = state.owner !== undefined && isDeadLocalOwner(state.owner);
  if (!stale && !dead) return undefined;
  // Every taker that judges the same folder claims the same entry, so that
  // exactly one of them wins it.
  return state.entries.filter(isOurEntry).sort()[0];
}

function describeHolder(state: LockState | undefined): string {
  if (state === undefined) return 'writers that kept creating and removing it';
  const { owner, entries } = state;
  if (owner) return `pid ${owner.pid} on host ${owner.hostname}, since ${owner.startedAt}`;
  if (entries.some((e) => e.startsWith('claimed-'))) {
    return 'another writer that is taking it over right now';
  }
  return `an unknown holder (the lock folder holds ${entries.join(', ') || 'nothing'})`;
}

/**
 * An exclusive lock on one checkpoint: the folder `<path>.lock`, holding the
 * holder's record `owner-<token>.json` (pid, host, pid namespace, start time).
 *
 * - **Created atomically with its record**: written in `<path>.lock.new-<token>`,
 *   then renamed to `<path>.lock`, which fails when a lock exists.
 * - **Kept fresh and watched** by proper-lockfile: it refreshes the folder's
 *   mtime every `staleMs / 3`, reports the lock lost (`onCompromised`) when
 *   the folder changed or vanished, and removes it on exit and on signals.
 * - **Taken over without a race** (our own code, not proper-lockfile's): a
 *   lock whose holder is a dead process of this host is taken over at once,
 *   any other once its mtime is older than `staleMs`. proper-lockfile's own
 *   stale path removes the folder and re-creates it, and two takers can both
 *   do that, each removing the other's new lock, so both believe they hold
 *   it. Here a taker first claims the dead holder's record by renaming it;
 *   record names are unique, so exactly one taker wins, and only the winner
 *   moves the folder to a tombstone (see {@link takeOverLock}). Then every
 *   taker tries to create its own lock, and only one creation succeeds.
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
   * Acquires the lock of the checkpoint at `path`, taking over a dead
   * holder's lock.
   *
   * @throws {ConcurrentWriterError} when a live writer holds it; the message names it.
   * @throws the file system's error (EACCES, ENOTDIR, …) when the lock folder
   *   cannot be created; the caller wraps it.
   */
  static async acquire(path: string, options: CheckpointLockOptions): Promise<CheckpointLock> {
    const lockPath = `${path}.lock`;
    const staleMs = Math.max(2000, options.staleMs);
    let state: LockState | undefined;
    let locked: unknown;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const owner: LockOwner = {
        pid: process.pid,
        hostname: hostname(),
        startedAt: new Date().toISOString(),
        pidNamespace: PID_NAMESPACE,
        token: randomUUID(),
      };
      let lock: CheckpointLock | undefined;
      let compromised = false;
      heldTokens.add(owner.token);
      let release: () => Promise<void>;
      try {
        release = await lockfile.lock(path, {
          stale: staleMs,
          update: Math.max(1000, Math.floor(staleMs / 3)),
          realpath: false,
          retries: 0,
          lockfilePath: lockPath,
          fs: lockFsFor(owner),
          onCompromised: (err: Error) => {
            compromised = true;
            heldTokens.delete(owner.token);
            if (lock) lock.#released = true;
            options.onCompromised(err);
          },
        });
      } catch (e) {
        heldTokens.delete(owner.token);
        if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
        locked = e;
        state = await inspectLock(lockPath);
        if (state === undefined) continue; // released meanwhile: create it
        const target = takeoverTarget(state, staleMs);
        if (target === undefined) break;
        if (target === 'empty') await removeEmptyLock(lockPath);
        else await takeOverLock(lockPath, target, owner.token);
        continue;
      }
      lock = new CheckpointLock(lockPath, owner, release);
      if (compromised) lock.#released = true;
      return lock;
    }
    throw new ConcurrentWriterError(
      `${path} is locked by another writer: ${describeHolder(state)} (lock folder ${lockPath}). ` +
        'A checkpoint has one writer at a time: stop the other writer, or wait for it to close. ' +
        'A lock left by a dead process is taken over automatically: at once on the same host, ' +
        `or once it is ${staleMs} ms old when the holder ran on another host.`,
      { uri: path, cause: locked },
    );
  }

  /** Removes the lock folder. Idempotent; a lock already lost is left alone. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    try {
      await this.#release().catch((e: NodeJS.ErrnoException) => {
        // ERELEASED: lost (compromised) before; nothing of ours to remove.
        if (e.code !== 'ERELEASED') throw e;
      });
    } finally {
      heldTokens.delete(this.owner.token);
    }
  }
}
