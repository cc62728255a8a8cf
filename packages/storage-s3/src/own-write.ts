import { randomUUID } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { normalizeEtag } from './etag.js';
import type { S3Context } from './s3-context.js';
import { errorContext, isNotFound, toStorageError } from './s3-errors.js';

/**
 * The user-metadata name of the writer token (sent as `x-amz-meta-yoink-writer`
 * on every PutObject and CreateMultipartUpload of a writer).
 */
export const WRITER_METADATA_KEY = 'yoink-writer';

/** A new random writer token: one per storage instance. */
export function newWriterToken(): string {
  return randomUUID();
}

/** The object metadata that marks an object as written by this instance. */
export function writerMetadata(ctx: S3Context): Record<string, string> {
  return { [WRITER_METADATA_KEY]: ctx.writerToken };
}

/** What this writer's own write would have left at the key. */
export interface ExpectedObject {
  size: number;
  etag: string;
}

/**
 * After a 412 on a conditional write (or a NoSuchUpload on a completed
 * upload), checks whether the object is exactly what this instance's own
 * write produced: then the write succeeded and only its reply was lost (the
 * SDK retried it and the retry failed its own precondition).
 *
 * Size and ETag alone cannot tell two writers with identical bytes apart, so
 * the object must also carry this instance's writer token.
 *
 * @returns `false` when the object is someone else's or missing.
 * @throws {StorageError} (typed by `toStorageError`) when the HeadObject
 *   fails for any other reason: an auth failure is not "someone else's".
 */
export async function isOurWrite(
  ctx: S3Context,
  key: string,
  expected: ExpectedObject,
): Promise<boolean> {
  let head: { ContentLength?: number; ETag?: string; Metadata?: Record<string, string> };
  try {
    head = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }));
  } catch (e) {
    if (isNotFound(e)) return false;
    throw toStorageError(e, errorContext(ctx, key, 'HeadObject', true));
  }
  return (
    head.ContentLength === expected.size &&
    normalizeEtag(head.ETag) === normalizeEtag(expected.etag) &&
    head.Metadata?.[WRITER_METADATA_KEY] === ctx.writerToken
  );
}
