import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { type OpenResult, StorageError } from '@yoink/storage-core';
import {
  CONTENT_TYPE,
  errorContext,
  isOurWrite,
  type Layout,
  MIN_PART_BYTES,
  multipartEtag,
  putEtag,
  readAll,
  type S3Context,
  streamBody,
} from './layout.js';
import {
  codeOf,
  concurrentWriter,
  isConditionalConflict,
  isNotFound,
  isNotImplemented,
  isPreconditionFailed,
  missingBucket,
  type S3Operation,
  statusOf,
  toStorageError,
} from './s3-errors.js';

/** Thrown inside a server-side append when the server lacks UploadPartCopy. */
class CopyNotImplemented extends Error {}

const NEWLINE = 0x0a;

/**
 * Splits `[0, size)` into the fewest ranges of at most `maxBytes`, balanced so
 * each is at least `maxBytes / 2` (at least 5 MiB, since `maxBytes` ≥ 10 MiB)
 * when there are several. Inclusive `[start, end]` pairs.
 */
export function copyRanges(size: number, maxBytes: number): Array<[number, number]> {
  const count = Math.max(1, Math.ceil(size / maxBytes));
  const base = Math.floor(size / count);
  const extra = size % count;
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const length = base + (i < extra ? 1 : 0);
    out.push([start, start + length - 1]);
    start += length;
  }
  return out;
}

/** The parts of a CompletedPart: its number, ETag and any checksum the server returned. */
function completedPart(partNumber: number, result: { ETag?: string | undefined }): CompletedPart {
  const part: CompletedPart = { PartNumber: partNumber, ETag: result.ETag };
  const fields = result as Record<string, unknown>;
  for (const name of [
    'ChecksumCRC32',
    'ChecksumCRC32C',
    'ChecksumCRC64NVME',
    'ChecksumSHA1',
    'ChecksumSHA256',
  ] as const) {
    const v = fields[name];
    if (typeof v === 'string') part[name] = v;
  }
  return part;
}

/**
 * `layout: 'object'`: the checkpoint is one plain JSONL object.
 *
 * The writer learns the object's ETag and size once, when it opens. Below
 * 5 MiB it keeps its own copy and re-puts it with each flush (`If-Match`, or
 * `If-None-Match: *` when creating). From 5 MiB on, a flush appends
 * server-side with a multipart upload (UploadPartCopy of the existing object,
 * UploadPart of the new bytes, CompleteMultipartUpload with `If-Match`). When
 * the server lacks UploadPartCopy it falls back, for good, to a streamed
 * rewrite in multipart parts.
 */
export class ObjectLayout implements Layout {
  readonly #ctx: S3Context;
  readonly #key: string;
  /** The ETag of the object as this writer last left it; undefined: it does not exist. */
  #etag: string | undefined;
  #size = 0;
  /** The object's content while it is below 5 MiB (the writer's own copy). */
  #copy: Buffer | undefined;
  #serverCopyUnsupported = false;

  constructor(ctx: S3Context, key: string) {
    this.#ctx = ctx;
    this.#key = key;
  }

  /** `true` once a server answered NotImplemented to UploadPartCopy (for tests and stats). */
  get usesRewriteFallback(): boolean {
    return this.#serverCopyUnsupported;
  }

  #error(e: unknown, operation: S3Operation, flushing = false): StorageError {
    return toStorageError(e, errorContext(this.#ctx, this.#key, operation, flushing));
  }

  #conflict(e: unknown, operation: S3Operation): StorageError {
    return concurrentWriter(errorContext(this.#ctx, this.#key, operation, true), e);
  }

  async open(): Promise<OpenResult> {
    const { client, bucket } = this.#ctx;
    let head: { ETag?: string | undefined; ContentLength?: number | undefined };
    try {
      head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: this.#key }));
    } catch (e) {
      if (isNotFound(e)) {
        this.#etag = undefined;
        this.#size = 0;
        this.#copy = Buffer.alloc(0);
        return { tornTail: false };
      }
      throw this.#headError(e);
    }
    const size = head.ContentLength ?? 0;
    if (size < MIN_PART_BYTES) {
      // Small: one GET gives the writer its own copy, so flushes never download.
      let body: Buffer;
      let etag: string | undefined;
      try {
        const got = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: this.#key, IfMatch: head.ETag }),
        );
        body = await readAll(got.Body);
        etag = got.ETag ?? head.ETag;
      } catch (e) {
        if (isPreconditionFailed(e) || isNotFound(e)) throw this.#conflict(e, 'GetObject');
        throw this.#error(e, 'GetObject');
      }
      this.#etag = etag;
      this.#size = body.length;
      this.#copy = body;
      return { tornTail: body.length > 0 && body[body.length - 1] !== NEWLINE };
    }
    // Big: only the last byte, to know whether the tail is torn.
    let last: Buffer;
    try {
      const got = await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: this.#key,
          Range: `bytes=${size - 1}-${size - 1}`,
          IfMatch: head.ETag,
        }),
      );
      last = await readAll(got.Body);
    } catch (e) {
      if (isPreconditionFailed(e) || isNotFound(e)) throw this.#conflict(e, 'GetObject');
      throw this.#error(e, 'GetObject');
    }
    this.#etag = head.ETag;
    this.#size = size;
    this.#copy = undefined;
    return { tornTail: last[last.length - 1] !== NEWLINE };
  }

  async persist(body: Buffer): Promise<void> {
    if (this.#copy !== undefined) return this.#putWhole(this.#copy, body);
    if (!this.#serverCopyUnsupported) {
      const done = await this.#appendServerSide(body);
      if (done) return;
      this.#serverCopyUnsupported = true;
    }
    await this.#rewrite(body);
  }

  /** Small object: PUT the writer's copy plus the new bytes, conditionally. */
  async #putWhole(copy: Buffer, body: Buffer): Promise<void> {
    const full = copy.length === 0 ? body : Buffer.concat([copy, body]);
    const expected = putEtag(full);
    let etag: string | undefined;
    try {
      const res = await this.#ctx.client.send(
        new PutObjectCommand({
          Bucket: this.#ctx.bucket,
          Key: this.#key,
          Body: full,
          ContentType: CONTENT_TYPE,
          ...(this.#etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: this.#etag }),
        }),
      );
      etag = res.ETag ?? expected;
    } catch (e) {
      if (isPreconditionFailed(e)) {
        if (!(await isOurWrite(this.#ctx, this.#key, full.length, expected))) {
          throw this.#conflict(e, 'PutObject');
        }
        etag = expected;
      } else if (isConditionalConflict(e)) {
        throw this.#conflict(e, 'PutObject');
      } else {
        throw this.#error(e, 'PutObject', true);
      }
    }
    this.#etag = etag;
    this.#size = full.length;
    this.#copy = full.length < MIN_PART_BYTES ? full : undefined;
  }

  async #createUpload(): Promise<string> {
    try {
      const res = await this.#ctx.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.#ctx.bucket,
          Key: this.#key,
          ContentType: CONTENT_TYPE,
        }),
      );
      if (!res.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      return res.UploadId;
    } catch (e) {
      throw this.#error(e, 'CreateMultipartUpload', true);
    }
  }

  async #abort(uploadId: string): Promise<void> {
    try {
      await this.#ctx.client.send(
        new AbortMultipartUploadCommand({
          Bucket: this.#ctx.bucket,
          Key: this.#key,
          UploadId: uploadId,
        }),
      );
    } catch {
      // Best effort: the flush's own error is the one to report. A bucket
      // lifecycle rule (AbortIncompleteMultipartUpload) cleans up the rest.
    }
  }

  async #uploadPart(uploadId: string, partNumber: number, body: Buffer): Promise<CompletedPart> {
    try {
      const res = await this.#ctx.client.send(
        new UploadPartCommand({
          Bucket: this.#ctx.bucket,
          Key: this.#key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
        }),
      );
      return completedPart(partNumber, res);
    } catch (e) {
      throw this.#error(e, 'UploadPart', true);
    }
  }

  /** Completes with If-Match and records the new ETag and size. */
  async #complete(uploadId: string, parts: CompletedPart[], newSize: number): Promise<void> {
    const expected = multipartEtag(parts.map((p) => p.ETag ?? ''));
    let etag: string | undefined;
    try {
      const res = await this.#ctx.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.#ctx.bucket,
          Key: this.#key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          ...(this.#etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: this.#etag }),
        }),
      );
      etag = res.ETag ?? expected;
    } catch (e) {
      // 412 or NoSuchUpload after a lost reply: the first attempt may have completed.
      const maybeOurs = isPreconditionFailed(e) || isNotFound(e);
      if (maybeOurs && (await isOurWrite(this.#ctx, this.#key, newSize, expected))) {
        etag = expected;
      } else if (isPreconditionFailed(e) || isConditionalConflict(e)) {
        throw this.#conflict(e, 'CompleteMultipartUpload');
      } else {
        throw this.#error(e, 'CompleteMultipartUpload', true);
      }
    }
    this.#etag = etag;
    this.#size = newSize;
    this.#copy = undefined;
  }

  /**
   * Appends server-side. Returns `false` (after aborting) when the server does
   * not implement UploadPartCopy; throws on any other failure, after aborting.
   */
  async #appendServerSide(body: Buffer): Promise<boolean> {
    const { client, bucket } = this.#ctx;
    const uploadId = await this.#createUpload();
    try {
      const parts: CompletedPart[] = [];
      const source = `${bucket}/${encodeURIComponent(this.#key).replace(/%2F/g, '/')}`;
      for (const [start, end] of copyRanges(this.#size, this.#ctx.copyPartBytes)) {
        const partNumber = parts.length + 1;
        try {
          const res = await client.send(
            new UploadPartCopyCommand({
              Bucket: bucket,
              Key: this.#key,
              UploadId: uploadId,
              PartNumber: partNumber,
              CopySource: source,
              CopySourceRange: `bytes=${start}-${end}`,
              CopySourceIfMatch: this.#etag,
            }),
          );
          parts.push(completedPart(partNumber, res.CopyPartResult ?? {}));
        } catch (e) {
          if (isNotImplemented(e)) throw new CopyNotImplemented();
          if (isPreconditionFailed(e) || isNotFound(e)) throw this.#conflict(e, 'UploadPartCopy');
          throw this.#error(e, 'UploadPartCopy', true);
        }
      }
      parts.push(await this.#uploadPart(uploadId, parts.length + 1, body));
      await this.#complete(uploadId, parts, this.#size + body.length);
      return true;
    } catch (e) {
      await this.#abort(uploadId);
      if (e instanceof CopyNotImplemented) return false;
      throw e;
    }
  }

  /**
   * Fallback for servers without UploadPartCopy: stream the object through a
   * multipart upload (parts of `partBytes`) and add the new bytes to the last
   * part. Memory stays bounded by one part.
   */
  async #rewrite(body: Buffer): Promise<void> {
    const { client, bucket, partBytes } = this.#ctx;
    const uploadId = await this.#createUpload();
    try {
      let got: { Body?: unknown };
      try {
        got = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: this.#key, IfMatch: this.#etag }),
        );
      } catch (e) {
        if (isPreconditionFailed(e) || isNotFound(e)) throw this.#conflict(e, 'GetObject');
        throw this.#error(e, 'GetObject', true);
      }
      const parts: CompletedPart[] = [];
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let copied = 0;
      for await (const chunk of streamBody(got.Body)) {
        pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        pendingBytes += chunk.byteLength;
        copied += chunk.byteLength;
        if (pendingBytes >= partBytes) {
          parts.push(await this.#uploadPart(uploadId, parts.length + 1, Buffer.concat(pending)));
          pending = [];
          pendingBytes = 0;
        }
      }
      if (copied !== this.#size) {
        throw this.#conflict(
          new Error(`the object has ${copied} bytes, this writer expected ${this.#size}`),
          'GetObject',
        );
      }
      pending.push(body);
      parts.push(await this.#uploadPart(uploadId, parts.length + 1, Buffer.concat(pending)));
      await this.#complete(uploadId, parts, this.#size + body.length);
    } catch (e) {
      await this.#abort(uploadId);
      throw e;
    }
  }

  async *readChunks(): AsyncGenerator<Uint8Array> {
    let got: { Body?: unknown };
    try {
      got = await this.#ctx.client.send(
        new GetObjectCommand({ Bucket: this.#ctx.bucket, Key: this.#key }),
      );
    } catch (e) {
      if (isNotFound(e)) return;
      throw this.#error(e, 'GetObject');
    }
    yield* streamBody(got.Body);
  }

  async exists(): Promise<boolean> {
    try {
      await this.#ctx.client.send(
        new HeadObjectCommand({ Bucket: this.#ctx.bucket, Key: this.#key }),
      );
      return true;
    } catch (e) {
      if (!isNotFound(e)) throw this.#headError(e);
    }
    // A HEAD reply has no body, so a missing bucket looks like a missing object.
    try {
      await this.#ctx.client.send(new HeadBucketCommand({ Bucket: this.#ctx.bucket }));
    } catch (e) {
      if (statusOf(e) === 404) {
        throw missingBucket(errorContext(this.#ctx, this.#key, 'HeadObject'), e);
      }
      // No s3:ListBucket (403) or anything else: the object is simply missing.
    }
    return false;
  }

  /** HeadObject errors: a 403 there often means "missing, and no s3:ListBucket". */
  #headError(e: unknown): StorageError {
    if (statusOf(e) === 403 || codeOf(e) === 'AccessDenied') {
      return new StorageError(
        `Access denied: HeadObject on s3://${this.#ctx.bucket}/${this.#key} answered 403 (for ${this.#ctx.uri}). ` +
          'S3 answers 403 instead of 404 for a missing object when the credentials lack s3:ListBucket ' +
          `on arn:aws:s3:::${this.#ctx.bucket}; grant s3:ListBucket (and s3:GetObject on the object).`,
        { uri: this.#ctx.uri, cause: e },
      );
    }
    return this.#error(e, 'HeadObject');
  }
}
