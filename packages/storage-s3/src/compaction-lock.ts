import { hostname } from 'node:os';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { readAll } from './body.js';
import { writeCondition } from './conditional-writes.js';
import { normalizeEtag } from './etag.js';
import { writerMetadata } from './own-write.js';
import type { S3Context } from './s3-context.js';
import {
  compactionConflict,
  errorContext,
  isConditionalConflict,
  isNotFound,
  isPreconditionFailed,
  type S3Operation,
  toStorageError,
} from './s3-errors.js';

/** The lock's name under the checkpoint's prefix: not a piece's name, so readers ignore it. */
const LOCK_NAME = 'yoink-compaction.json';

/** Who holds the compaction lock (the lock object's JSON body). */
export interface LockHolder {
  /** The holder's writer token. */
  readonly token: string;
  /** `'writer'`: the checkpoint's writer compacting; `'operator'`: `compact()` with the writer stopped. */
  readonly role: 'writer' | 'operator';
  /**
   * A writer's next sequence number when it took the lock; an operator's
   * fence (the segment it puts to take the writer's place). A writer whose
   * next sequence number is past it has displaced the holder.
   */
  readonly seq: number;
  readonly host: string;
  readonly pid: number;
  /** ISO time the lock was taken. */
  readonly since: string;
}

/** What `decide` is told about a lock held by someone else. */
export type TakeoverDecision = (holder: LockHolder | undefined) => boolean;

/** `host pid P, since T` of a holder, for messages. */
function describeHolder(h: LockHolder | undefined): string {
  if (h === undefined) return 'an unknown holder (the lock object is unreadable)';
  return `a ${h.role === 'writer' ? "writer's compaction" : 'compaction'} on ${h.host} (pid ${h.pid}) since ${h.since}`;
}

/**
 * The compaction lock: one object `<key>/yoink-compaction.json` created with
 * `If-None-Match: *`, so a second compactor is refused with
 * `ConcurrentWriterError`, and deleted when the compaction ends. A lock left
 * by a crash is taken over only when `decide` says so (an explicit
 * `takeover`, or a writer whose open came after the holder's), by
 * re-putting it with `If-Match` on the ETag read, so two takers cannot both
 * win. With `conditionalWrites: 'off'` the lock is checked and put without
 * conditions: two compactions started at the same moment are not refused.
 */
export class CompactionLock {
  readonly #ctx: S3Context;
  readonly #key: string;
  readonly #client: S3Client;
  #etag: string | undefined;

  /** @param client sends the lock's requests (the compaction's counting client). */
  constructor(ctx: S3Context, prefix: string, client: S3Client) {
    this.#ctx = ctx;
    this.#key = `${prefix}${LOCK_NAME}`;
    this.#client = client;
  }

  /** The lock object's key. */
  get key(): string {
    return this.#key;
  }

  #error(e: unknown, operation: S3Operation): Error {
    return toStorageError(e, errorContext(this.#ctx, this.#key, operation));
  }

  #conflict(holder: LockHolder | undefined, cause?: unknown): Error {
    return compactionConflict(
      errorContext(this.#ctx, this.#key, 'PutObject'),
      `another compaction holds ${this.#key}: ${describeHolder(holder)}. If no compaction is running ` +
        '(one crashed), compact again with takeover (yoink-storage compact --takeover)',
      cause,
    );
  }

  /** Takes the lock as `me`, or throws `ConcurrentWriterError` naming the holder. */
  async acquire(me: LockHolder, decide: TakeoverDecision, signal?: AbortSignal): Promise<void> {
    const body = JSON.stringify(me);
    if (this.#ctx.conditionalWrites === 'off') {
      const held = await this.#read(signal);
      if (held !== undefined && !decide(held.holder)) throw this.#conflict(held.holder);
      this.#etag = await this.#put(body, {}, signal);
      return;
    }
    try {
      this.#etag = await this.#put(body, writeCondition(this.#ctx, undefined), signal);
      return;
    } catch (e) {
      if (!isPreconditionFailed(e) && !isConditionalConflict(e)) throw this.#error(e, 'PutObject');
    }
    const held = await this.#read(signal);
    if (held === undefined) {
      // Released between our PUT and the GET: try once more, with the same condition.
      try {
        this.#etag = await this.#put(body, writeCondition(this.#ctx, undefined), signal);
        return;
      } catch (e) {
        if (isPreconditionFailed(e) || isConditionalConflict(e)) throw this.#conflict(undefined, e);
        throw this.#error(e, 'PutObject');
      }
    }
    if (!decide(held.holder)) throw this.#conflict(held.holder);
    try {
      this.#etag = await this.#put(body, { IfMatch: held.etag }, signal);
    } catch (e) {
      if (isPreconditionFailed(e) || isConditionalConflict(e) || isNotFound(e)) {
        throw this.#conflict(undefined, e);
      }
      throw this.#error(e, 'PutObject');
    }
  }

  /** `true` while the lock object is still the one this compactor put. */
  async held(signal?: AbortSignal): Promise<boolean> {
    try {
      const head = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#ctx.bucket, Key: this.#key }),
        { abortSignal: signal },
      );
      return normalizeEtag(head.ETag) === normalizeEtag(this.#etag);
    } catch (e) {
      if (isNotFound(e)) return false;
      throw this.#error(e, 'HeadObject');
    }
  }

  /** Deletes the lock if it is still ours. */
  async release(signal?: AbortSignal): Promise<void> {
    if (this.#etag === undefined) return;
    if (!(await this.held(signal))) return;
    try {
      await this.#client.send(
        new DeleteObjectCommand({ Bucket: this.#ctx.bucket, Key: this.#key }),
        { abortSignal: signal },
      );
    } catch (e) {
      if (!isNotFound(e)) throw this.#error(e, 'DeleteObject');
    }
    this.#etag = undefined;
  }

  async #put(
    body: string,
    condition: { IfMatch?: string; IfNoneMatch?: string },
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    const res = await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#ctx.bucket,
        Key: this.#key,
        Body: body,
        ContentType: 'application/json',
        Metadata: writerMetadata(this.#ctx),
        ...condition,
      }),
      { abortSignal: signal },
    );
    return res.ETag;
  }

  /** The lock as it is, or `undefined` when there is none. */
  async #read(
    signal: AbortSignal | undefined,
  ): Promise<{ holder: LockHolder | undefined; etag: string | undefined } | undefined> {
    let got: { Body?: unknown; ETag?: string | undefined };
    try {
      got = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#ctx.bucket, Key: this.#key }),
        { abortSignal: signal },
      );
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw this.#error(e, 'GetObject');
    }
    const text = (await readAll(got.Body)).toString('utf8');
    let holder: LockHolder | undefined;
    try {
      const parsed = JSON.parse(text) as Partial<LockHolder>;
      if (typeof parsed.token === 'string' && typeof parsed.seq === 'number') {
        holder = parsed as LockHolder;
      }
    } catch {
      holder = undefined;
    }
    return { holder, etag: got.ETag };
  }
}

/** The lock body of this process for `ctx`'s writer token. */
export function lockHolder(ctx: S3Context, role: LockHolder['role'], seq: number): LockHolder {
  return {
    token: ctx.writerToken,
    role,
    seq,
    host: hostname(),
    pid: process.pid,
    since: new Date().toISOString(),
  };
}
