import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { StorageError } from '@yoink/storage-core';
import { streamBody } from './body.js';
import { notImplementedDuringFlush, readCondition, writeCondition } from './conditional-writes.js';
import { multipartEtag } from './etag.js';
import { isOurWrite, writerMetadata } from './own-write.js';
import { CONTENT_TYPE, type ObjectVersion, type S3Context } from './s3-context.js';
import {
  concurrentWriter,
  errorContext,
  isConditionalConflict,
  isNotFound,
  isNotImplemented,
  isPreconditionFailed,
  type S3Operation,
  toStorageError,
} from './s3-errors.js';

/** Thrown inside a server-side append when the server lacks UploadPartCopy. */
class CopyNotImplemented extends Error {}

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

/** The CompletedPart of an uploaded or copied part: its number, ETag and any checksum the server returned. */
export function completedPart(
  partNumber: number,
  result: { ETag?: string | undefined },
): CompletedPart {
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
 * Appends to an object of 5 MiB or more with a multipart upload completed
 * with `If-Match` (the object layout's path where CompleteMultipartUpload is
 * guarded, or conditional writes are off):
 *
 * - {@link MultipartAppend.serverSide}: UploadPartCopy of the existing object
 *   plus one UploadPart of the new bytes: only the new bytes travel;
 * - {@link MultipartAppend.rewrite}: for servers without UploadPartCopy,
 *   streams the object through the upload in parts of `partBytes`.
 *
 * Every upload carries the writer token; a failure aborts the upload.
 */
export class MultipartAppend {
  readonly #ctx: S3Context;
  readonly #key: string;

  constructor(ctx: S3Context, key: string) {
    this.#ctx = ctx;
    this.#key = key;
  }

  #error(e: unknown, operation: S3Operation): StorageError {
    return toStorageError(e, errorContext(this.#ctx, this.#key, operation, true));
  }

  #conflict(e: unknown, operation: S3Operation): StorageError {
    return concurrentWriter(errorContext(this.#ctx, this.#key, operation, true), e);
  }

  /**
   * Server-side append. Returns `undefined` (after aborting) when the server
   * does not implement UploadPartCopy; throws on any other failure, after aborting.
   */
  async serverSide(from: ObjectVersion, body: Buffer): Promise<ObjectVersion | undefined> {
    const { client, bucket } = this.#ctx;
    const uploadId = await this.#createUpload();
    try {
      const parts: CompletedPart[] = [];
      const source = `${bucket}/${encodeURIComponent(this.#key).replace(/%2F/g, '/')}`;
      for (const [start, end] of copyRanges(from.size, this.#ctx.copyPartBytes)) {
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
              CopySourceIfMatch: readCondition(this.#ctx, from.etag),
            }),
          );
          parts.push(completedPart(partNumber, res.CopyPartResult ?? {}));
        } catch (e) {
          if (isNotImplemented(e)) throw new CopyNotImplemented();
          if (isPreconditionFailed(e) || isNotFound(e)) throw this.#conflict(e, 'UploadPartCopy');
          throw this.#error(e, 'UploadPartCopy');
        }
      }
      parts.push(await this.#uploadPart(uploadId, parts.length + 1, body));
      return await this.#complete(from, uploadId, parts, from.size + body.length);
    } catch (e) {
      await this.#abort(uploadId);
      if (e instanceof CopyNotImplemented) return undefined;
      throw e;
    }
  }

  /**
   * Fallback for servers without UploadPartCopy: stream the object through a
   * multipart upload (parts of `partBytes`) and add the new bytes to the last
   * part. Memory stays bounded by one part.
   */
  async rewrite(from: ObjectVersion, body: Buffer): Promise<ObjectVersion> {
    const { client, bucket, partBytes } = this.#ctx;
    const uploadId = await this.#createUpload();
    try {
      let got: { Body?: unknown };
      try {
        got = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: this.#key,
            IfMatch: readCondition(this.#ctx, from.etag),
          }),
        );
      } catch (e) {
        if (isPreconditionFailed(e) || isNotFound(e)) throw this.#conflict(e, 'GetObject');
        throw this.#error(e, 'GetObject');
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
      if (copied !== from.size) {
        throw this.#conflict(
          new Error(`the object has ${copied} bytes, this writer expected ${from.size}`),
          'GetObject',
        );
      }
      pending.push(body);
      parts.push(await this.#uploadPart(uploadId, parts.length + 1, Buffer.concat(pending)));
      return await this.#complete(from, uploadId, parts, from.size + body.length);
    } catch (e) {
      await this.#abort(uploadId);
      throw e;
    }
  }

  async #createUpload(): Promise<string> {
    try {
      const res = await this.#ctx.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.#ctx.bucket,
          Key: this.#key,
          ContentType: CONTENT_TYPE,
          Metadata: writerMetadata(this.#ctx),
        }),
      );
      if (!res.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      return res.UploadId;
    } catch (e) {
      throw this.#error(e, 'CreateMultipartUpload');
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
      throw this.#error(e, 'UploadPart');
    }
  }

  /** Completes with If-Match (unless conditional writes are off) and returns the new version. */
  async #complete(
    from: ObjectVersion,
    uploadId: string,
    parts: CompletedPart[],
    size: number,
  ): Promise<ObjectVersion> {
    const expected = multipartEtag(parts.map((p) => p.ETag ?? ''));
    try {
      const res = await this.#ctx.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.#ctx.bucket,
          Key: this.#key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          ...writeCondition(this.#ctx, from.etag),
        }),
      );
      return { etag: res.ETag ?? expected, size };
    } catch (e) {
      // 412 or NoSuchUpload after a lost reply: the first attempt may have completed.
      const maybeOurs = isPreconditionFailed(e) || isNotFound(e);
      if (maybeOurs && (await isOurWrite(this.#ctx, this.#key, { size, etag: expected }))) {
        return { etag: expected, size };
      }
      if (isPreconditionFailed(e) || isConditionalConflict(e)) {
        throw this.#conflict(e, 'CompleteMultipartUpload');
      }
      if (isNotImplemented(e) && this.#ctx.conditionalWrites === 'on') {
        throw await notImplementedDuringFlush(this.#ctx, this.#key, 'CompleteMultipartUpload', e);
      }
      throw this.#error(e, 'CompleteMultipartUpload');
    }
  }
}
