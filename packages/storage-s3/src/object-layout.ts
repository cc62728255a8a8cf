import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ConcurrentWriterError, type OpenResult, type StorageError } from '@yoink/storage-core';
import { readAll, readChunksOf, streamBody } from './body.js';
import {
  notImplementedDuringFlush,
  readCondition,
  verifyConditionalWrites,
  writeCondition,
} from './conditional-writes.js';
import { normalizeEtag, putEtag } from './etag.js';
import { MultipartAppend } from './multipart-append.js';
import { isOurWrite, WRITER_METADATA_KEY, writerMetadata } from './own-write.js';
import { type ReadPart, readAhead } from './read-ahead.js';
import {
  CONTENT_TYPE,
  type Layout,
  MIN_PART_BYTES,
  type ObjectVersion,
  type S3Context,
} from './s3-context.js';
import {
  codeOf,
  concurrentWriter,
  errorContext,
  headForbidden,
  isConditionalConflict,
  isNotFound,
  isNotImplemented,
  isPreconditionFailed,
  missingBucket,
  objectChanged,
  type S3Operation,
  statusOf,
  toStorageError,
} from './s3-errors.js';
import { streamedPut } from './streamed-put.js';

const NEWLINE = 0x0a;

/** The object's size from a `Content-Range: bytes a-b/size` reply header. */
function totalOf(contentRange: string | undefined): number | undefined {
  const m = /\/(\d+)\s*$/.exec(contentRange ?? '');
  return m ? Number(m[1]) : undefined;
}

/** The object after a flush, and its content when this writer has it (below 5 MiB). */
interface NewVersion extends ObjectVersion {
  readonly content?: Buffer | undefined;
}

/** How a flush appends to an object of 5 MiB or more. */
type BigAppend = 'server-side' | 'rewrite' | 'streamed-put';

/**
 * `layout: 'object'`: the checkpoint is one plain JSONL object.
 *
 * The writer learns the object's ETag and size once, when it opens. Below
 * 5 MiB it keeps its own copy and re-puts it with each flush (`If-Match`, or
 * `If-None-Match: *` when creating). From 5 MiB on, a flush appends
 * server-side with a multipart upload completed with `If-Match`
 * ({@link MultipartAppend}), falling back, for good, to a streamed rewrite
 * when the server lacks UploadPartCopy. On an endpoint that ignores `If-Match`
 * on CompleteMultipartUpload it re-puts the object whole with `If-Match`
 * instead ({@link streamedPut}).
 */
export class ObjectLayout implements Layout {
  readonly #ctx: S3Context;
  readonly #key: string;
  readonly #multipart: MultipartAppend;
  /** The ETag of the object as this writer last left it; undefined: it does not exist. */
  #etag: string | undefined;
  #size = 0;
  /** The object's content while it is below 5 MiB (the writer's own copy). */
  #copy: Buffer | undefined;
  #bigAppend: BigAppend = 'server-side';
  /** Bytes of a failed flush that may have landed all the same (its reply was lost). */
  #unconfirmed: number | undefined;

  constructor(ctx: S3Context, key: string) {
    this.#ctx = ctx;
    this.#key = key;
    this.#multipart = new MultipartAppend(ctx, key);
  }

  /** `true` once a server answered NotImplemented to UploadPartCopy (for tests and stats). */
  get usesRewriteFallback(): boolean {
    return this.#bigAppend === 'rewrite';
  }

  #error(e: unknown, operation: S3Operation, flushing = false): StorageError {
    return toStorageError(e, errorContext(this.#ctx, this.#key, operation, flushing));
  }

  #conflict(e: unknown, operation: S3Operation): StorageError {
    return concurrentWriter(errorContext(this.#ctx, this.#key, operation, true), e);
  }

  #headError(e: unknown, flushing = false): StorageError {
    if (statusOf(e) === 403 || codeOf(e) === 'AccessDenied') {
      return headForbidden(errorContext(this.#ctx, this.#key, 'HeadObject', flushing), e);
    }
    return this.#error(e, 'HeadObject', flushing);
  }

  #head(client: S3Client = this.#ctx.client) {
    return client.send(new HeadObjectCommand({ Bucket: this.#ctx.bucket, Key: this.#key }));
  }

  async open(): Promise<OpenResult> {
    if (this.#ctx.conditionalWrites === 'on') {
      const support = await verifyConditionalWrites(this.#ctx, this.#key, true);
      if (support.completeIfMatch !== 'enforced') this.#bigAppend = 'streamed-put';
    }
    let head: { ETag?: string | undefined; ContentLength?: number | undefined };
    try {
      head = await this.#head();
    } catch (e) {
      if (!isNotFound(e)) throw this.#headError(e);
      this.#etag = undefined;
      this.#size = 0;
      this.#copy = Buffer.alloc(0);
      return { tornTail: false };
    }
    const size = head.ContentLength ?? 0;
    // Small: one GET gives the writer its own copy, so flushes never download.
    // Big: only the last byte, to know whether the tail is torn.
    const range = size < MIN_PART_BYTES ? undefined : `bytes=${size - 1}-${size - 1}`;
    let body: Buffer;
    let etag: string | undefined;
    try {
      const got = await this.#ctx.client.send(
        new GetObjectCommand({
          Bucket: this.#ctx.bucket,
          Key: this.#key,
          Range: range,
          IfMatch: readCondition(this.#ctx, head.ETag),
        }),
      );
      body = await readAll(got.Body);
      etag = range ? head.ETag : (got.ETag ?? head.ETag);
    } catch (e) {
      if (isPreconditionFailed(e) || isNotFound(e)) throw this.#conflict(e, 'GetObject');
      throw this.#error(e, 'GetObject');
    }
    this.#etag = etag;
    this.#size = range ? size : body.length;
    this.#copy = range ? undefined : body;
    return { tornTail: body.length > 0 && body[body.length - 1] !== NEWLINE };
  }

  async persist(body: Buffer): Promise<void> {
    let data = body;
    if (this.#unconfirmed !== undefined) {
      const landed = await this.#landed(body.subarray(0, this.#unconfirmed));
      this.#unconfirmed = undefined;
      data = body.subarray(landed);
      if (data.length === 0) return;
    }
    try {
      this.#advance(await this.#append(data));
    } catch (e) {
      // A conflict is definite; anything else may have landed without its reply.
      if (!ConcurrentWriterError.isInstance(e)) this.#unconfirmed = data.length;
      throw e;
    }
  }

  async #append(data: Buffer): Promise<NewVersion> {
    const from: ObjectVersion = { etag: this.#etag, size: this.#size };
    if (this.#copy !== undefined) return this.#putWhole(this.#copy, data);
    if (this.#bigAppend === 'streamed-put') return streamedPut(this.#ctx, this.#key, from, data);
    if (this.#bigAppend === 'server-side') {
      const done = await this.#multipart.serverSide(from, data);
      if (done) return done;
      this.#bigAppend = 'rewrite';
    }
    return this.#multipart.rewrite(from, data);
  }

  /** Records the object as a flush left it. */
  #advance(version: NewVersion): void {
    this.#etag = version.etag;
    this.#size = version.size;
    this.#copy = version.size < MIN_PART_BYTES ? version.content : undefined;
  }

  /**
   * After a flush failed without a verdict: whether its `previous` bytes
   * landed all the same. Only this instance writes its token, and only a
   * write after the last one it confirmed changes the ETag.
   */
  async #landed(previous: Buffer): Promise<number> {
    let head: { ETag?: string; ContentLength?: number; Metadata?: Record<string, string> };
    try {
      head = await this.#head();
    } catch (e) {
      if (isNotFound(e)) return 0;
      this.#unconfirmed = previous.length;
      throw this.#headError(e, true);
    }
    const ours = head.Metadata?.[WRITER_METADATA_KEY] === this.#ctx.writerToken;
    const changed = normalizeEtag(head.ETag) !== normalizeEtag(this.#etag);
    if (!ours || !changed || head.ContentLength !== this.#size + previous.length) return 0;
    const content = this.#copy && Buffer.concat([this.#copy, previous]);
    this.#advance({ etag: head.ETag, size: head.ContentLength, content });
    return previous.length;
  }

  /** Small object: PUT the writer's copy plus the new bytes, conditionally. */
  async #putWhole(copy: Buffer, body: Buffer): Promise<NewVersion> {
    const full = copy.length === 0 ? body : Buffer.concat([copy, body]);
    const expected = { size: full.length, etag: putEtag(full) };
    try {
      const res = await this.#ctx.client.send(
        new PutObjectCommand({
          Bucket: this.#ctx.bucket,
          Key: this.#key,
          Body: full,
          ContentType: CONTENT_TYPE,
          Metadata: writerMetadata(this.#ctx),
          ...writeCondition(this.#ctx, this.#etag),
        }),
      );
      return { etag: res.ETag ?? expected.etag, size: full.length, content: full };
    } catch (e) {
      if (isPreconditionFailed(e)) {
        if (await isOurWrite(this.#ctx, this.#key, expected)) return { ...expected, content: full };
        throw this.#conflict(e, 'PutObject');
      }
      if (isConditionalConflict(e)) throw this.#conflict(e, 'PutObject');
      if (isNotImplemented(e) && this.#ctx.conditionalWrites === 'on') {
        throw await notImplementedDuringFlush(this.#ctx, this.#key, 'PutObject', e);
      }
      throw this.#error(e, 'PutObject', true);
    }
  }

  /**
   * The object's bytes in order. The first GET asks for the first
   * `readRangeBytes`; its reply gives the object's size and ETag:
   *
   * - the whole object fits: that reply is streamed (one request, as before);
   * - below `parallelReadThresholdBytes`: the rest follows in one more
   *   streamed GET;
   * - from the threshold on: the rest is fetched in ranges,
   *   `readConcurrency` at a time within `readAheadBytes` ({@link readAhead}).
   *
   * Every GET after the first carries `If-Match` with the first reply's ETag,
   * and its reply's ETag is checked too (for servers that ignore `If-Match`):
   * a flush by the writer in the middle of the read fails the read loudly
   * instead of mixing two versions of the object.
   */
  async *readChunks(client: S3Client, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
    const { rangeBytes, parallelThresholdBytes, concurrency, aheadBytes } = this.#ctx.read;
    let first: GetObjectCommandOutput;
    try {
      first = await this.#getRange(client, 0, rangeBytes - 1, undefined, signal);
    } catch (e) {
      if (signal?.aborted) throw e;
      if (isNotFound(e)) return;
      // An empty object has no byte 0: read it whole.
      if (statusOf(e) === 416 || codeOf(e) === 'InvalidRange') {
        yield* this.#whole(client, signal);
        return;
      }
      throw this.#error(e, 'GetObject');
    }
    const total = totalOf(first.ContentRange);
    // No Content-Range: the server ignored the range and sent the whole object.
    if (total === undefined || total <= rangeBytes) {
      yield* this.#streamed(first.Body);
      return;
    }
    const etag = first.ETag;
    if (total < parallelThresholdBytes) {
      yield* this.#streamed(first.Body);
      const rest = await this.#checkedRange(client, rangeBytes, total - 1, etag, signal);
      yield* this.#streamed(rest.Body);
      return;
    }
    const head = readChunksOf(first.Body);
    head.catch(() => {});
    const destroyHead = (): void =>
      (first.Body as { destroy?: () => void } | undefined)?.destroy?.();
    yield* readAhead(
      this.#ranges(client, total, etag, head, destroyHead),
      { concurrency, aheadBytes: Math.max(aheadBytes, rangeBytes) },
      signal,
    );
  }

  /** The parts of a parallel read: the first range (already requested), then the others. */
  async *#ranges(
    client: S3Client,
    total: number,
    etag: string | undefined,
    head: Promise<Uint8Array[]>,
    destroyHead: () => void,
  ): AsyncGenerator<ReadPart> {
    const { rangeBytes } = this.#ctx.read;
    yield {
      bytes: rangeBytes,
      // Already requested: an abort (or the reader stopping) ends its body.
      fetch: (signal) => {
        signal.addEventListener('abort', destroyHead, { once: true });
        return head.then(
          (chunks) => {
            signal.removeEventListener('abort', destroyHead);
            return chunks;
          },
          (e: unknown) => {
            signal.removeEventListener('abort', destroyHead);
            throw this.#error(e, 'GetObject');
          },
        );
      },
      stream: () => {
        throw new Error('unreachable: the first range fits the budget');
      },
    };
    for (let start = rangeBytes; start < total; start += rangeBytes) {
      const end = Math.min(start + rangeBytes, total) - 1;
      const fetchRange = async (signal: AbortSignal) => {
        const got = await this.#checkedRange(client, start, end, etag, signal);
        try {
          return await readChunksOf(got.Body);
        } catch (e) {
          throw this.#error(e, 'GetObject');
        }
      };
      yield {
        bytes: end - start + 1,
        fetch: fetchRange,
        stream: async function* (signal) {
          for (const chunk of await fetchRange(signal)) yield chunk;
        },
      };
    }
  }

  #getRange(
    client: S3Client,
    start: number,
    end: number,
    etag: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<GetObjectCommandOutput> {
    return client.send(
      new GetObjectCommand({
        Bucket: this.#ctx.bucket,
        Key: this.#key,
        Range: `bytes=${start}-${end}`,
        IfMatch: etag,
      }),
      { abortSignal: signal },
    );
  }

  /** A range after the first: conditional on the first reply's ETag, and checked against it. */
  async #checkedRange(
    client: S3Client,
    start: number,
    end: number,
    etag: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<GetObjectCommandOutput> {
    let got: GetObjectCommandOutput;
    try {
      got = await this.#getRange(client, start, end, etag, signal);
    } catch (e) {
      if (signal?.aborted) throw e;
      if (isPreconditionFailed(e) || isNotFound(e)) {
        throw objectChanged(errorContext(this.#ctx, this.#key, 'GetObject'), e);
      }
      throw this.#error(e, 'GetObject');
    }
    if (normalizeEtag(got.ETag) !== normalizeEtag(etag)) {
      (got.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw objectChanged(errorContext(this.#ctx, this.#key, 'GetObject'), undefined);
    }
    return got;
  }

  async *#whole(client: S3Client, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
    let got: GetObjectCommandOutput;
    try {
      got = await client.send(new GetObjectCommand({ Bucket: this.#ctx.bucket, Key: this.#key }), {
        abortSignal: signal,
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      if (isNotFound(e)) return;
      throw this.#error(e, 'GetObject');
    }
    yield* this.#streamed(got.Body);
  }

  async *#streamed(body: unknown): AsyncGenerator<Uint8Array> {
    try {
      yield* streamBody(body);
    } catch (e) {
      throw this.#error(e, 'GetObject');
    }
  }

  async exists(client: S3Client): Promise<boolean> {
    try {
      await this.#head(client);
      return true;
    } catch (e) {
      if (!isNotFound(e)) throw this.#headError(e);
    }
    // A HEAD reply has no body, so a missing bucket looks like a missing object.
    try {
      await client.send(new HeadBucketCommand({ Bucket: this.#ctx.bucket }));
    } catch (e) {
      if (statusOf(e) === 404) {
        throw missingBucket(errorContext(this.#ctx, this.#key, 'HeadObject'), e);
      }
      // No s3:ListBucket (403) or anything else: the object is simply missing.
    }
    return false;
  }
}
