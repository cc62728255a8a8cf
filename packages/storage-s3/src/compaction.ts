import { setMaxListeners } from 'node:events';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { StoragePermissionError } from '@yoink/storage-core';
import { readAll } from './body.js';
import { CompactionLock, type LockHolder, lockHolder } from './compaction-lock.js';
import { readCondition, writeCondition } from './conditional-writes.js';
import { multipartEtag, putEtag } from './etag.js';
import { type MergePart, type PieceRange, planParts } from './merge-parts.js';
import { completedPart } from './multipart-append.js';
import { isOurWrite, WRITER_METADATA_KEY, writerMetadata } from './own-write.js';
import {
  bytesOf,
  type Chain,
  ChainGap,
  chainOf,
  deletable,
  mergedKey,
  type Piece,
  planMerges,
  segmentKey,
} from './pieces.js';
import { CONTENT_TYPE, MIN_PART_BYTES, type S3Context } from './s3-context.js';
import {
  compactionConflict,
  compactionGap,
  deleteDenied,
  errorContext,
  isConditionalConflict,
  isNotFound,
  isNotImplemented,
  isPreconditionFailed,
  type S3Operation,
  toStorageError,
} from './s3-errors.js';

/** Options of one `compact()` call; each defaults to the storage's option of the same meaning. */
export interface CompactOptions {
  /** Size merged objects aim for, in bytes. Default: `compactTargetBytes` (64 MiB). */
  targetBytes?: number;
  /**
   * The originals a merged object replaces are deleted once it is this old,
   * so a read that listed them before it existed can finish. Default:
   * `compactGraceMs` (10 minutes); `0` deletes them at once (a read running
   * then may fail with the retryable `SegmentsChangedError`).
   */
  graceMs?: number;
  /**
   * Take over the compaction lock left by a compaction that crashed. Only
   * when no other compaction runs: two at once are refused for a reason.
   */
  takeover?: boolean;
  /** Aborts the compaction; what it wrote so far is complete or removed later, nothing is lost. */
  signal?: AbortSignal;
}

/** One object a compaction wrote. */
export interface MergedObject {
  /** Its key: `<key>/<first>-<last>.jsonl`. */
  readonly key: string;
  readonly first: number;
  readonly last: number;
  readonly bytes: number;
  /** The pieces it replaces. */
  readonly sources: number;
}

/** What a compaction did. */
export interface CompactionResult {
  /** `'writer'`: the checkpoint's writer compacted; `'operator'`: a compaction with the writer stopped. */
  readonly mode: 'writer' | 'operator';
  /** Objects of the checkpoint before: all of them, those a read reads (the chain), and its bytes. */
  readonly before: { readonly objects: number; readonly chain: number; readonly bytes: number };
  /** Objects after: all of them (originals waiting for their grace period included), and the chain. */
  readonly after: { readonly objects: number; readonly chain: number };
  /** The merged objects written, in order. */
  readonly merged: readonly MergedObject[];
  /** Objects deleted: originals covered by merged objects older than the grace period. */
  readonly deleted: number;
  /** Originals kept for the grace period: a later compaction deletes them. */
  readonly pendingDeletion: number;
  /** Bytes copied server-side (UploadPartCopy). */
  readonly copiedBytes: number;
  /** Bytes uploaded (UploadPart of downloaded pieces). */
  readonly uploadedBytes: number;
  /** Bytes downloaded to build parts. */
  readonly downloadedBytes: number;
  /** Requests sent. */
  readonly requests: number;
}

/** What compaction needs from the segments layout. */
export interface CompactionHost {
  readonly ctx: S3Context;
  /** The checkpoint's prefix, ending in `/`. */
  readonly prefix: string;
  /** Every piece under the prefix, in listing order, listed with `client`. */
  pieces(client: S3Client, signal?: AbortSignal): AsyncIterable<Piece>;
  /** The piece with the highest sequence number (O(log n) requests). */
  last(client: S3Client): Promise<Piece | undefined>;
}

/** The checkpoint's writer, when it is the one compacting. */
export interface WriterState {
  /** The next sequence number it will write. */
  next(): number;
}

/** Metadata that marks an operator's fence segment (empty; it takes the writer's place). */
const FENCE_METADATA_KEY = 'yoink-fence';
/** The operator's fence as a piece: an empty segment. */
function fencePiece(prefix: string, seq: number): Piece {
  return { key: segmentKey(prefix, seq), first: seq, last: seq, merged: false, size: 0 };
}

/** Deletes in flight at once. */
const DELETE_CONCURRENCY = 16;

/** A client whose `send` counts requests into `counter`. */
function counting(client: S3Client, counter: { requests: number }): S3Client {
  const c = Object.create(client) as S3Client;
  c.send = ((command: Parameters<S3Client['send']>[0], options?: { abortSignal?: AbortSignal }) => {
    counter.requests += 1;
    return client.send(command, options);
  }) as S3Client['send'];
  return c;
}

/** Runs `fn` over `items`, `limit` at a time; stops starting new ones after the first failure. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  let failure: { error: unknown } | undefined;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (failure === undefined && next < items.length) {
        const item = items[next++] as T;
        try {
          await fn(item);
        } catch (e) {
          failure ??= { error: e };
        }
      }
    }),
  );
  if (failure) throw failure.error;
}

/**
 * One compaction of a segments checkpoint (see `docs/design.md`, "S3
 * segments: compaction"):
 *
 * 1. take the lock `<key>/yoink-compaction.json` (`If-None-Match: *`): a
 *    second compactor is refused with `ConcurrentWriterError`;
 * 2. list the pieces, pick the chain, plan runs of small pieces to merge
 *    (never the last piece) and originals that may be deleted;
 * 3. an operator (not the writer) puts an empty fence segment after the last
 *    one with `If-None-Match: *`, as a writer's flush would: a writer still
 *    running then fails its next flush with `ConcurrentWriterError`, and a
 *    writer that flushed since the listing makes the fence fail;
 * 4. write each merged object `<key>/<first>-<last>.jsonl` by multipart
 *    upload (UploadPartCopy of pieces of 5 MiB or more, downloaded small
 *    pieces joined into parts), completed with `If-None-Match: *`, then
 *    check its size;
 * 5. check that nobody wrote after the fence (or the writer's next segment)
 *    and that the lock is still ours;
 * 6. delete the originals covered by merged objects older than the grace
 *    period, then release the lock.
 *
 * A crash at any step leaves complete objects only: a merged object exists
 * whole or not at all, and an original is deleted only once a complete
 * merged object covers it, so every read finds each line exactly once.
 */
export class Compaction {
  readonly #host: CompactionHost;
  readonly #ctx: S3Context;
  readonly #writer: WriterState | undefined;
  readonly #counter = { requests: 0 };
  readonly #client: S3Client;
  readonly #lock: CompactionLock;
  readonly #options: Required<Omit<CompactOptions, 'signal'>> & { signal?: AbortSignal };
  #copied = 0;
  #uploaded = 0;
  #downloaded = 0;
  /** Set once the server answered NotImplemented to UploadPartCopy: download everything. */
  #noCopy: boolean;

  constructor(
    host: CompactionHost,
    writer: WriterState | undefined,
    options: CompactOptions & { targetBytes: number; graceMs: number },
    noCopy: boolean,
  ) {
    this.#host = host;
    this.#ctx = host.ctx;
    this.#writer = writer;
    this.#client = counting(host.ctx.client, this.#counter);
    this.#lock = new CompactionLock(host.ctx, host.prefix, this.#client);
    this.#options = {
      targetBytes: options.targetBytes,
      graceMs: options.graceMs,
      takeover: options.takeover ?? false,
      ...(options.signal ? { signal: followed(options.signal) } : {}),
    };
    this.#noCopy = noCopy;
  }

  /** `true` once this compaction found that the server lacks UploadPartCopy. */
  get copyUnsupported(): boolean {
    return this.#noCopy;
  }

  #where(key: string, operation: S3Operation) {
    return errorContext(this.#ctx, key, operation);
  }

  #error(e: unknown, key: string, operation: S3Operation): Error {
    if (this.#options.signal?.aborted) return e as Error;
    return toStorageError(e, this.#where(key, operation));
  }

  /** Request options: the compaction's abort signal. */
  get #req(): { abortSignal?: AbortSignal } {
    const signal = this.#options.signal;
    return signal ? { abortSignal: signal } : {};
  }

  /** Runs the compaction. */
  async run(): Promise<CompactionResult> {
    const signal = this.#options.signal;
    signal?.throwIfAborted();
    const writer = this.#writer;
    let fence: number | undefined;
    let me: LockHolder;
    if (writer) {
      me = lockHolder(this.#ctx, 'writer', writer.next());
    } else {
      const last = await this.#host.last(this.#client);
      if (last === undefined) {
        const none = { objects: 0, chain: 0 };
        return this.#result('operator', { ...none, bytes: 0 }, none);
      }
      fence = last.last + 1;
      me = lockHolder(this.#ctx, 'operator', fence);
    }
    const takeover = this.#options.takeover;
    await this.#lock.acquire(
      me,
      (holder) =>
        takeover ||
        // A writer owns the checkpoint: a lock whose holder's sequence number this writer
        // has passed was its predecessor's (a crashed writer, or an operator whose fence
        // landed before this writer opened, or could no longer land).
        (writer !== undefined && holder !== undefined && holder.seq < writer.next()),
      signal,
    );
    let released = false;
    try {
      const result = await this.#compact(fence);
      released = true;
      await this.#lock.release();
      return result;
    } catch (e) {
      if (!released) await this.#lock.release().catch(() => {});
      throw e;
    }
  }

  async #compact(fence: number | undefined): Promise<CompactionResult> {
    const mode = this.#writer ? 'writer' : 'operator';
    const current = await this.#chain();
    const before = {
      objects: current.chain.length + current.others.length,
      chain: current.chain.length,
      bytes: bytesOf(current.chain),
    };
    const lastPiece = current.chain.at(-1);
    if (fence !== undefined && lastPiece !== undefined && lastPiece.last + 1 !== fence) {
      throw compactionConflict(
        this.#where(segmentKey(this.#host.prefix, fence), 'ListObjectsV2'),
        `segments were written after ${segmentKey(this.#host.prefix, fence - 1)} while compaction started, so a writer is running. Stop it first`,
      );
    }
    // An operator's fence will follow the last piece (a writer's last segment may still get
    // a successor from that writer; an operator's is final): plan as if it were there.
    const planned =
      fence === undefined
        ? current.chain
        : [...current.chain, { ...fencePiece(this.#host.prefix, fence) }];
    const runs = planMerges(planned, this.#options.targetBytes);
    const early = deletable(current.chain, current.others, this.#options.graceMs, Date.now());
    if (runs.length === 0 && early.length === 0) {
      return this.#result(mode, before, { objects: before.objects, chain: before.chain });
    }
    if (fence !== undefined) await this.#putFence(fence);
    const merged: MergedObject[] = [];
    for (const run of runs) {
      const piece = await this.#merge(run);
      merged.push({
        key: piece.key,
        first: piece.first,
        last: piece.last,
        bytes: piece.size,
        sources: run.length,
      });
    }
    await this.#checkStillOurs(fence);
    // What to delete comes from a fresh listing, not from the plan: deleting pieces outside
    // the chain that every reader now follows can never leave a hole in it, whatever else
    // landed meanwhile (a merged object of a compaction whose lock was taken over).
    const fresh = await this.#chain();
    const doomed = deletable(fresh.chain, fresh.others, this.#options.graceMs, Date.now());
    const deleted = await this.#delete(doomed, merged.length);
    const pending = fresh.others.length - deleted;
    return this.#result(
      mode,
      before,
      { objects: fresh.chain.length + pending, chain: fresh.chain.length },
      merged,
      deleted,
      pending,
    );
  }

  /** Lists every piece and splits them into the chain and the rest. */
  async #chain(): Promise<Chain> {
    const listed: Piece[] = [];
    for await (const p of this.#host.pieces(this.#client, this.#options.signal)) listed.push(p);
    try {
      return chainOf(listed);
    } catch (e) {
      if (!(e instanceof ChainGap)) throw e;
      throw compactionGap(this.#where(this.#host.prefix, 'ListObjectsV2'), e.expected, e.found.key);
    }
  }

  #result(
    mode: 'writer' | 'operator',
    before: CompactionResult['before'],
    after: CompactionResult['after'],
    merged: readonly MergedObject[] = [],
    deleted = 0,
    pendingDeletion = 0,
  ): CompactionResult {
    return {
      mode,
      before,
      after,
      merged,
      deleted,
      pendingDeletion,
      copiedBytes: this.#copied,
      uploadedBytes: this.#uploaded,
      downloadedBytes: this.#downloaded,
      requests: this.#counter.requests,
    };
  }

  /** The operator's fence: an empty segment after the last, put as a writer's flush would be. */
  async #putFence(seq: number): Promise<void> {
    const key = segmentKey(this.#host.prefix, seq);
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#ctx.bucket,
          Key: key,
          Body: '',
          // Said outright: an empty body gets no Content-Length header of its own.
          ContentLength: 0,
          ContentType: CONTENT_TYPE,
          Metadata: { ...writerMetadata(this.#ctx), [FENCE_METADATA_KEY]: 'compaction' },
          ...writeCondition(this.#ctx, undefined),
        }),
        this.#req,
      );
    } catch (e) {
      if (isPreconditionFailed(e) || isConditionalConflict(e)) {
        if (await isOurWrite(this.#ctx, key, { size: 0, etag: putEtag(new Uint8Array(0)) })) {
          return;
        }
        throw compactionConflict(
          this.#where(key, 'PutObject'),
          `${key} was written by someone else as compaction took the writer's place, so a writer is running. Stop it first`,
          e,
        );
      }
      throw this.#error(e, key, 'PutObject');
    }
  }

  /** Before deleting: nobody wrote after the fence (or the writer's segments), and the lock is ours. */
  async #checkStillOurs(fence: number | undefined): Promise<void> {
    const seq = fence === undefined ? this.#writer?.next() : fence + 1;
    if (seq !== undefined) {
      const key = segmentKey(this.#host.prefix, seq);
      let head: { Metadata?: Record<string, string> } | undefined;
      try {
        head = await this.#client.send(
          new HeadObjectCommand({ Bucket: this.#ctx.bucket, Key: key }),
          this.#req,
        );
      } catch (e) {
        if (!isNotFound(e)) throw this.#error(e, key, 'HeadObject');
      }
      if (head !== undefined && head.Metadata?.[WRITER_METADATA_KEY] !== this.#ctx.writerToken) {
        throw compactionConflict(
          this.#where(key, 'HeadObject'),
          `another writer put ${key} during compaction, so this ${fence === undefined ? 'writer no longer owns the checkpoint' : 'compaction no longer holds the writer’s place'}; it deleted nothing`,
        );
      }
    }
    if (!(await this.#lock.held(this.#options.signal))) {
      throw compactionConflict(
        this.#where(this.#lock.key, 'HeadObject'),
        'another compaction took over its lock while it ran; it deleted nothing',
      );
    }
  }

  /** Deletes `pieces`, a few at a time. @returns how many were deleted (or already gone). */
  async #delete(pieces: readonly Piece[], merged: number): Promise<number> {
    let deleted = 0;
    try {
      await pool(pieces, DELETE_CONCURRENCY, async (p) => {
        try {
          await this.#client.send(
            new DeleteObjectCommand({ Bucket: this.#ctx.bucket, Key: p.key }),
            this.#req,
          );
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        deleted += 1;
      });
    } catch (e) {
      const mapped = this.#error(e, pieces[0]?.key ?? this.#host.prefix, 'DeleteObject');
      if (StoragePermissionError.isInstance(mapped)) {
        throw deleteDenied(this.#where(this.#host.prefix, 'DeleteObject'), merged, e);
      }
      throw mapped;
    }
    return deleted;
  }

  /** Writes the merged object of `run` and checks it. */
  async #merge(run: readonly Piece[]): Promise<Piece> {
    const first = (run[0] as Piece).first;
    const last = (run.at(-1) as Piece).last;
    const key = mergedKey(this.#host.prefix, first, last);
    const bytes = bytesOf(run);
    const parts = planParts(run, {
      minPartBytes: MIN_PART_BYTES,
      partBytes: this.#ctx.partBytes,
      copyPartBytes: this.#ctx.copyPartBytes,
      canCopy: !this.#noCopy,
    });
    const uploadId = await this.#createUpload(key);
    const completed: CompletedPart[] = [];
    try {
      for (const [i, part] of parts.entries()) {
        completed.push(await this.#part(key, uploadId, i + 1, part));
      }
      // A compaction whose lock was taken over (it was thought dead) stops before it adds an
      // object: only the lock's holder changes what readers follow.
      if (!(await this.#lock.held(this.#options.signal))) {
        throw compactionConflict(
          this.#where(this.#lock.key, 'HeadObject'),
          `another compaction took over its lock before ${key} was complete; it deleted nothing`,
        );
      }
      await this.#complete(key, uploadId, completed, bytes);
    } catch (e) {
      await this.#abort(key, uploadId);
      throw e;
    }
    let size: number | undefined;
    try {
      size = (
        await this.#client.send(
          new HeadObjectCommand({ Bucket: this.#ctx.bucket, Key: key }),
          this.#req,
        )
      ).ContentLength;
    } catch (e) {
      throw this.#error(e, key, 'HeadObject');
    }
    if (size !== bytes) {
      await this.#client
        .send(new DeleteObjectCommand({ Bucket: this.#ctx.bucket, Key: key }), this.#req)
        .catch(() => {});
      throw compactionConflict(
        this.#where(key, 'CompleteMultipartUpload'),
        `the merged object ${key} has ${size ?? '?'} bytes instead of the ${bytes} of its ${run.length} sources (removed)`,
      );
    }
    return { key, first, last, merged: true, size: bytes, lastModified: new Date() };
  }

  async #createUpload(key: string): Promise<string> {
    try {
      const res = await this.#client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.#ctx.bucket,
          Key: key,
          ContentType: CONTENT_TYPE,
          Metadata: writerMetadata(this.#ctx),
        }),
        this.#req,
      );
      if (!res.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      return res.UploadId;
    } catch (e) {
      throw this.#error(e, key, 'CreateMultipartUpload');
    }
  }

  async #abort(key: string, uploadId: string): Promise<void> {
    try {
      await this.#client.send(
        new AbortMultipartUploadCommand({ Bucket: this.#ctx.bucket, Key: key, UploadId: uploadId }),
      );
    } catch {
      // Best effort: a lifecycle rule (AbortIncompleteMultipartUpload) removes the rest.
    }
  }

  /** A source that vanished or changed during compaction: another compaction ran. */
  #sourceGone(range: PieceRange, operation: S3Operation, cause: unknown): Error {
    return compactionConflict(
      this.#where(range.piece.key, operation),
      `${range.piece.key} was deleted or replaced while it was being merged, so another compaction ran at the same time`,
      cause,
    );
  }

  async #part(key: string, uploadId: string, n: number, part: MergePart): Promise<CompletedPart> {
    if (part.kind === 'copy' && !this.#noCopy) {
      const { piece, start, end } = part.range;
      try {
        const res = await this.#client.send(
          new UploadPartCopyCommand({
            Bucket: this.#ctx.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: n,
            CopySource: `${this.#ctx.bucket}/${encodeURIComponent(piece.key).replace(/%2F/g, '/')}`,
            CopySourceRange: `bytes=${start}-${end}`,
            CopySourceIfMatch: readCondition(this.#ctx, piece.etag),
          }),
          this.#req,
        );
        this.#copied += part.bytes;
        return completedPart(n, res.CopyPartResult ?? {});
      } catch (e) {
        if (!isNotImplemented(e)) {
          if (isPreconditionFailed(e) || isNotFound(e)) {
            throw this.#sourceGone(part.range, 'UploadPartCopy', e);
          }
          throw this.#error(e, key, 'UploadPartCopy');
        }
        // No UploadPartCopy (s3rver, some compatibles): download this part and every later one.
        this.#noCopy = true;
      }
    }
    const ranges = part.kind === 'copy' ? [part.range] : part.ranges;
    const body = await this.#download(ranges);
    try {
      const res = await this.#client.send(
        new UploadPartCommand({
          Bucket: this.#ctx.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: n,
          Body: body,
        }),
        this.#req,
      );
      this.#uploaded += body.length;
      return completedPart(n, res);
    } catch (e) {
      throw this.#error(e, key, 'UploadPart');
    }
  }

  /** The bytes of `ranges`, joined in order; fetched `read.concurrency` at a time. */
  async #download(ranges: readonly PieceRange[]): Promise<Buffer> {
    const out: Buffer[] = new Array(ranges.length);
    let i = 0;
    await pool(
      ranges.map((r) => ({ r, at: i++ })),
      this.#ctx.read.concurrency,
      async ({ r, at }) => {
        const whole = r.start === 0 && r.end === r.piece.size - 1;
        let got: { Body?: unknown };
        try {
          got = await this.#client.send(
            new GetObjectCommand({
              Bucket: this.#ctx.bucket,
              Key: r.piece.key,
              ...(whole ? {} : { Range: `bytes=${r.start}-${r.end}` }),
              IfMatch: readCondition(this.#ctx, r.piece.etag),
            }),
            this.#req,
          );
        } catch (e) {
          if (isPreconditionFailed(e) || isNotFound(e)) throw this.#sourceGone(r, 'GetObject', e);
          throw this.#error(e, r.piece.key, 'GetObject');
        }
        let body: Buffer;
        try {
          body = await readAll(got.Body);
        } catch (e) {
          throw this.#error(e, r.piece.key, 'GetObject');
        }
        if (body.length !== r.end - r.start + 1) {
          throw this.#sourceGone(r, 'GetObject', new Error(`got ${body.length} bytes`));
        }
        out[at] = body;
        this.#downloaded += body.length;
      },
    );
    return Buffer.concat(out);
  }

  async #complete(key: string, uploadId: string, parts: CompletedPart[], bytes: number) {
    const expected = multipartEtag(parts.map((p) => p.ETag ?? ''));
    try {
      await this.#client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.#ctx.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          ...writeCondition(this.#ctx, undefined),
        }),
        this.#req,
      );
    } catch (e) {
      // 412 or NoSuchUpload after a lost reply: the first attempt may have completed.
      const maybeOurs = isPreconditionFailed(e) || isNotFound(e);
      if (maybeOurs && (await isOurWrite(this.#ctx, key, { size: bytes, etag: expected }))) return;
      if (isPreconditionFailed(e) || isConditionalConflict(e)) {
        throw compactionConflict(
          this.#where(key, 'CompleteMultipartUpload'),
          `${key} already exists, written by another compaction`,
          e,
        );
      }
      throw this.#error(e, key, 'CompleteMultipartUpload');
    }
  }
}

/**
 * A signal that aborts with `signal`, for this compaction's own requests: the
 * caller's signal gets one listener however many requests run at once (16
 * deletes or downloads in parallel would otherwise pass Node's warning limit
 * of 10 on a signal the caller owns).
 */
function followed(signal: AbortSignal): AbortSignal {
  const own = AbortSignal.any([signal]);
  setMaxListeners(0, own);
  return own;
}
