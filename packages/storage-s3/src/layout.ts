import { createHash } from 'node:crypto';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { OpenResult } from '@yoink/storage-core';
import { type ErrorContext, isNotFound, type S3Operation } from './s3-errors.js';

/** What a layout needs to talk to S3. */
export interface S3Context {
  readonly client: S3Client;
  readonly bucket: string;
  /** The checkpoint URI, for errors. */
  readonly uri: string;
  /** Size of the parts of a streamed rewrite (≥ 5 MiB). */
  readonly partBytes: number;
  /** Largest range one UploadPartCopy copies (5 MiB – 5 GiB). */
  readonly copyPartBytes: number;
}

/** The I/O of one layout; {@link S3Storage} delegates to it. */
export interface Layout {
  open(): Promise<OpenResult>;
  persist(body: Buffer): Promise<void>;
  readChunks(): AsyncIterable<Uint8Array>;
  exists(): Promise<boolean>;
}

/** S3's minimum size of every multipart part but the last: 5 MiB. */
export const MIN_PART_BYTES: number = 5 * 1024 * 1024;
/** S3's maximum size of one part (and of one UploadPartCopy range): 5 GiB. */
export const MAX_PART_BYTES: number = 5 * 1024 * 1024 * 1024;

/** Content type of checkpoint objects. */
export const CONTENT_TYPE = 'application/x-ndjson';

/** An ETag without quotes or a weak marker, for comparisons. */
export function normalizeEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/^W\//, '').replace(/"/g, '');
}

/** The ETag S3 gives a single PUT of `body` (without SSE-KMS): its MD5, quoted. */
export function putEtag(body: Uint8Array): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

/** The ETag S3 gives a completed multipart upload: MD5 of the parts' MD5s, `-<parts>`. */
export function multipartEtag(partEtags: readonly string[]): string {
  const hash = createHash('md5');
  for (const e of partEtags) hash.update(Buffer.from(normalizeEtag(e) ?? '', 'hex'));
  return `"${hash.digest('hex')}-${partEtags.length}"`;
}

/** An {@link ErrorContext} for `operation` on `key`. */
export function errorContext(
  ctx: S3Context,
  key: string,
  operation: S3Operation,
  flushing = false,
): ErrorContext {
  return { uri: ctx.uri, bucket: ctx.bucket, key, operation, flushing };
}

/**
 * After a 412 on a conditional write, checks whether the object is exactly
 * what our own write would have produced (same size and ETag): then the
 * write succeeded and only its reply was lost (the SDK retried it and the
 * retry failed its own precondition).
 */
export async function isOurWrite(
  ctx: S3Context,
  key: string,
  size: number,
  etag: string,
): Promise<boolean> {
  try {
    const head = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }));
    return head.ContentLength === size && normalizeEtag(head.ETag) === normalizeEtag(etag);
  } catch (e) {
    if (isNotFound(e)) return false;
    return false;
  }
}

/** Reads a GetObject body to one Buffer (used only for small objects). */
export async function readAll(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** A GetObject body as an async iterable of bytes, destroyed if the reader stops early. */
export async function* streamBody(body: unknown): AsyncGenerator<Uint8Array> {
  const iterable = body as AsyncIterable<Uint8Array> & { destroy?: () => void };
  try {
    for await (const chunk of iterable) yield chunk;
  } finally {
    iterable.destroy?.();
  }
}
