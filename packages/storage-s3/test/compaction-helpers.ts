import {
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { collectLines } from '@yoink/storage-testkit';
import type { S3TestServer } from '@yoink/test-servers/s3';
import { afterAll, beforeAll } from 'vitest';
import type { S3Storage, S3StorageOptions } from '../src/index.js';
import { segmentKey } from '../src/segments-layout.js';
import { storageOn } from './helpers.js';

/** A test file's server, a plain client on it, and segments checkpoints on it. */
export interface SegmentsServer {
  /** The server (once the file's `beforeAll` has run). */
  readonly server: S3TestServer;
  /** A plain client, to put and list objects directly. */
  readonly direct: S3Client;
  /** A storage of `key` in the segments layout (`options` on top). */
  open(key: string, options?: S3StorageOptions): S3Storage;
  /** Every line of `key`, read by a fresh storage. */
  linesOf(key: string): Promise<string[]>;
}

/**
 * Starts a server for the calling test file before its tests and stops it
 * after (with `beforeAll`/`afterAll`); `params` go into every storage's URI
 * (e.g. `conditionalWrites: 'off'` on s3rver).
 */
export function segmentsServer(
  start: () => Promise<S3TestServer>,
  bucket: string,
  params: Record<string, string> = {},
): SegmentsServer {
  let server: S3TestServer | undefined;
  let direct: S3Client | undefined;
  beforeAll(async () => {
    server = await start();
    direct = new S3Client(server.clientConfig);
  }, 60_000);
  afterAll(async () => {
    direct?.destroy();
    await server?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new Error('the test server has not started (use it inside tests)');
    return value;
  };
  const open = (key: string, options: S3StorageOptions = {}): S3Storage =>
    storageOn(started(server), bucket, key, { layout: 'segments', ...options }, params);
  return {
    get server() {
      return started(server);
    },
    get direct() {
      return started(direct);
    },
    open,
    async linesOf(key) {
      const s = open(key);
      try {
        return await collectLines(s.read());
      } finally {
        await s.close();
      }
    },
  };
}

/** The command name of a middleware context (`PutObject`, `UploadPart`…). */
function nameOf(context: { commandName?: string }): string {
  return String(context.commandName).replace(/Command$/, '');
}

/** A promise with its resolve, for events a test waits for. */
export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** What a {@link holdAt} middleware lets a test do. */
export interface Hold {
  /** Resolves when the held request is reached (before it is sent). */
  readonly reached: Promise<void>;
  /** Lets the held request (and every later one) go. */
  release(): void;
}

/**
 * Holds the `nth` request named `command` sent by `client` (1-based) until
 * `release()`: a step of a compaction or a read stops there, and the test
 * acts meanwhile. Nothing waits on time.
 */
export function holdAt(client: S3Client, command: string, nth = 1): Hold {
  const reached = deferred();
  const gate = deferred();
  let seen = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (nameOf(context) === command && ++seen === nth) {
        reached.resolve();
        await gate.promise;
      }
      return next(args);
    },
    { step: 'initialize', name: `yoinkHold${command}${nth}` },
  );
  return { reached: reached.promise, release: () => gate.resolve() };
}

/** The error a "killed" process's requests fail with. */
export class Killed extends Error {
  constructor() {
    super('killed (test: the process died here)');
    this.name = 'Killed';
  }
}

/**
 * Simulates a crash right after the `nth` request named `command`: that
 * request reaches the server and its reply is dropped, and every request
 * sent afterwards by `client` fails with {@link Killed} before it is sent
 * (no clean-up can happen, as after SIGKILL). `killed` tells whether the
 * point was reached.
 */
export function killAfter(
  client: S3Client,
  command: string,
  nth = 1,
): { readonly killed: boolean } {
  const state = { killed: false };
  let seen = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (state.killed) throw new Killed();
      const out = await next(args);
      if (nameOf(context) === command && ++seen === nth) {
        state.killed = true;
        throw new Killed();
      }
      return out;
    },
    { step: 'initialize', name: `yoinkKillAfter${command}${nth}` },
  );
  return state;
}

/**
 * Makes every listing of `client` ask for at most `maxKeys` keys a page, so
 * a read crosses many page boundaries on a small checkpoint.
 */
export function smallPages(client: S3Client, maxKeys: number): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { MaxKeys?: number };
      if (nameOf(context) === 'ListObjectsV2' && input.MaxKeys === undefined) {
        input.MaxKeys = maxKeys;
      }
      return next(args);
    },
    { step: 'initialize', name: 'yoinkSmallPages' },
  );
}

/** Answers every request named `command` with the error S3 gives a missing permission. */
export function deny(client: S3Client, command: string): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (nameOf(context) === command) {
        throw Object.assign(new Error('Access Denied'), {
          name: 'AccessDenied',
          Code: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        });
      }
      return next(args);
    },
    { step: 'initialize', name: `yoinkDeny${command}` },
  );
}

/** What {@link watchCompactions} reports. */
export interface CompactionWatch {
  /** Compactions that took the lock so far. */
  readonly started: number;
  /** Resolves once `count` compactions have ended (released their lock). */
  ended(count: number): Promise<void>;
}

/**
 * Watches the compactions `client` runs, by their lock: a PutObject of
 * `yoink-compaction.json` starts one, its DeleteObject ends it. A test waits
 * for a background compaction to end with `ended(k)` instead of sleeping.
 */
export function watchCompactions(client: S3Client): CompactionWatch {
  let started = 0;
  let ended = 0;
  const waiters: { count: number; done: Deferred }[] = [];
  const isLock = (args: { input: unknown }): boolean =>
    String((args.input as { Key?: string }).Key).endsWith('/yoink-compaction.json');
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = nameOf(context);
      if (name === 'PutObject' && isLock(args)) started += 1;
      const out = await next(args);
      if (name === 'DeleteObject' && isLock(args)) {
        ended += 1;
        for (const w of waiters) if (w.count <= ended) w.done.resolve();
      }
      return out;
    },
    { step: 'initialize', name: 'yoinkWatchCompactions' },
  );
  return {
    get started() {
      return started;
    },
    ended(count) {
      if (count <= ended) return Promise.resolve();
      const done = deferred();
      waiters.push({ count, done });
      return done.promise;
    },
  };
}

/** Counts requests by command name. */
export function countRequests(client: S3Client): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = nameOf(context);
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'yoinkCountRequests' },
  );
  return counts;
}

/** The line `j` of segment `i` of a test checkpoint: about `bytes` bytes, JSON, numbered. */
export function lineOf(i: number, j: number, bytes = 100): string {
  const head = `{"segment":${i},"line":${j},"pad":"`;
  return `${head}${'x'.repeat(Math.max(0, bytes - head.length - 2))}"}`;
}

/**
 * Puts `count` segments of `linesPer` lines each straight under `<key>/`
 * (16 at a time), as a writer's flushes would leave them; returns every
 * line in order.
 */
export async function putSegments(
  client: S3Client,
  bucket: string,
  key: string,
  count: number,
  linesPer: number,
  bytes = 100,
): Promise<string[]> {
  const lines: string[][] = [];
  for (let i = 0; i < count; i += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, count - i) }, async (_, k) => {
        const seq = i + k;
        const mine = Array.from({ length: linesPer }, (_, j) => lineOf(seq, j, bytes));
        lines[seq] = mine;
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: segmentKey(`${key}/`, seq),
            Body: mine.map((l) => `${l}\n`).join(''),
          }),
        );
      }),
    );
  }
  return lines.flat();
}

/** The names (after `<key>/`) of every object under `<key>/`, in key order. */
export async function objectsUnder(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${key}/`, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) out.push((o.Key ?? '').slice(key.length + 1));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** What one read produced: the lines it yielded, and the error that ended it, if any. */
export interface ReadOutcome {
  lines: string[];
  error: unknown;
}

/** Reads every line of `read`, keeping what was yielded before an error. */
export async function readOutcome(read: AsyncIterable<string>): Promise<ReadOutcome> {
  const lines: string[] = [];
  try {
    for await (const line of read) lines.push(line);
    return { lines, error: undefined };
  } catch (error) {
    return { lines, error };
  }
}
