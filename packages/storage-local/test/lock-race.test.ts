import { mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConcurrentWriterError } from '@yoink/storage-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalFileStorage } from '../src/index.js';
import { ChildWriter, type Reply } from './child-writer.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

const ROUNDS = 200;
/** Above Linux's largest possible pid (2^22): a process that cannot be alive, so never reused. */
const DEAD_PID = 4_194_305;

let dir = '';
let path = '';
let lockPath = '';
/** The files of a real lock folder taken by this package, by name. */
let snapshot: Array<{ name: string; text: string }> = [];
const racers: ChildWriter[] = [];

beforeAll(async () => {
  dir = await makeTempDir('lock-race');
  path = join(dir, 'crawl.jsonl');
  lockPath = `${path}.lock`;
  // Take a real lock once and keep a copy of what it leaves on disk, so the
  // rounds below restore exactly what a holder leaves behind.
  const holder = new LocalFileStorage(path);
  await holder.write('seed\n');
  for (const name of await readdir(lockPath)) {
    snapshot.push({ name, text: await readFile(join(lockPath, name), 'utf8') });
  }
  await holder.close();
  expect(snapshot.length).toBeGreaterThan(0);
  racers.push(await ChildWriter.start(), await ChildWriter.start());
});

afterAll(async () => {
  for (const c of racers.splice(0)) await c.kill();
  snapshot = [];
  await removeTempDir(dir);
});

/**
 * Puts back the lock folder of a holder that is gone: the snapshot's owner
 * record with `edit` applied, and the folder's mtime set to `mtime` (default:
 * now). Removes whatever earlier rounds left beside it first.
 */
async function plantDeadLock(
  edit: (owner: Record<string, unknown>) => void,
  mtime?: Date,
): Promise<void> {
  const prefix = `${basename(lockPath)}`;
  for (const name of await readdir(dirname(lockPath))) {
    if (name.startsWith(prefix)) await rm(join(dir, name), { recursive: true, force: true });
  }
  await mkdir(lockPath);
  for (const { name, text } of snapshot) {
    let out = text;
    try {
      const owner = JSON.parse(text) as Record<string, unknown>;
      edit(owner);
      out = JSON.stringify(owner);
    } catch {
      // Not a JSON record: restore as it was.
    }
    await writeFile(join(lockPath, name), out);
  }
  if (mtime) await utimes(lockPath, mtime, mtime);
}

type Outcome = 'held' | 'refused' | 'failed';

function outcome(reply: Reply): Outcome {
  if (reply.ok) return 'held';
  return reply.error.code === ConcurrentWriterError.code ? 'refused' : 'failed';
}

interface Tally {
  rounds: number;
  /** Rounds where both racers believed they held the lock. */
  both: number;
  /** Rounds where neither got it. */
  none: number;
  /** Racers that failed with anything but ConcurrentWriterError. */
  errors: number;
}

/**
 * Runs `ROUNDS` rounds: plant a dead holder's lock, let both racers take it
 * at once (their first write takes the lock), and count how many believed
 * they held it.
 */
async function race(plant: () => Promise<void>, options: Record<string, unknown>): Promise<Tally> {
  const tally: Tally = { rounds: ROUNDS, both: 0, none: 0, errors: 0 };
  const firstErrors: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await plant();
    await Promise.all(racers.map((r) => r.ok({ cmd: 'open', path, options })));
    const replies = await Promise.all(racers.map((r) => r.send({ cmd: 'write', data: 'x\n' })));
    const outcomes = replies.map(outcome);
    const holders = racers.filter((_, i) => outcomes[i] === 'held');
    if (holders.length === 2) tally.both++;
    if (holders.length === 0) tally.none++;
    for (const reply of replies) {
      if (!reply.ok && outcome(reply) === 'failed') {
        tally.errors++;
        if (firstErrors.length < 3) firstErrors.push(reply.error.message ?? '');
      }
    }
    for (const h of holders) await h.ok({ cmd: 'close' });
  }
  if (firstErrors.length > 0) console.error(firstErrors.join('\n'));
  return tally;
}

describe('two writers taking over a dead holder’s lock at the same instant', () => {
  it(`never both get it, over ${ROUNDS} rounds, when the holder was a dead process of this host`, {
    timeout: 120_000,
  }, async () => {
    const result = await race(
      () =>
        plantDeadLock((owner) => {
          owner.pid = DEAD_PID;
        }),
      {},
    );
    expect(result).toEqual({ rounds: ROUNDS, both: 0, none: 0, errors: 0 });
  });

  it(`never both get it, over ${ROUNDS} rounds, when the holder ran on another host and its lock is stale`, {
    timeout: 120_000,
  }, async () => {
    const old = new Date(Date.now() - 60_000);
    const result = await race(
      () =>
        plantDeadLock((owner) => {
          owner.hostname = 'other-host.example';
        }, old),
      { lockStaleMs: 2_000 },
    );
    expect(result).toEqual({ rounds: ROUNDS, both: 0, none: 0, errors: 0 });
  });
});
