import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { streamBody } from './body.js';
import { notImplementedDuringFlush } from './conditional-writes.js';
import { writerMetadata } from './own-write.js';
import { CONTENT_TYPE, MAX_PART_BYTES, type ObjectVersion, type S3Context } from './s3-context.js';
import {
  concurrentWriter,
  errorContext,
  isConditionalConflict,
  isNotFound,
  isNotImplemented,
  isPreconditionFailed,
  objectTooLarge,
  toStorageError,
} from './s3-errors.js';

/**
 * Appends to an object of 5 MiB or more on an endpoint that enforces `If-Match`
 * on PutObject but not on CompleteMultipartUpload (moto, LocalStack): a
 * multipart append there could silently overwrite another writer's append, so
 * the object is re-put whole instead, as one PutObject with `If-Match`, its
 * body streamed from a GetObject (with `If-Match` too) followed by the new
 * bytes. Memory stays bounded by a chunk; each flush costs the object's size
 * up and down, so on such endpoints `layout: 'segments'` suits big checkpoints.
 *
 * The SDK does not retry a streamed body, so a 412 here is never this
 * writer's own retry: it is another writer. (A reply lost without a retry is
 * resolved by `ObjectLayout` before the next flush, with the writer token.)
 *
 * @throws {ConcurrentWriterError} when the object changed since `from`.
 * @throws {StorageError} typed by `toStorageError` for any other failure.
 */
export async function streamedPut(
  ctx: S3Context,
  key: string,
  from: ObjectVersion,
  body: Buffer,
): Promise<ObjectVersion> {
  const size = from.size + body.length;
  if (size > MAX_PART_BYTES) throw objectTooLarge(errorContext(ctx, key, 'PutObject', true), size);
  const { client, bucket } = ctx;
  let got: { Body?: unknown };
  try {
    got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: from.etag }));
  } catch (e) {
    if (isPreconditionFailed(e) || isNotFound(e)) {
      throw concurrentWriter(errorContext(ctx, key, 'GetObject', true), e);
    }
    throw toStorageError(e, errorContext(ctx, key, 'GetObject', true));
  }
  const md5 = createHash('md5');
  let changed = false;
  async function* content(): AsyncGenerator<Uint8Array> {
    let streamed = 0;
    for await (const chunk of streamBody(got.Body)) {
      streamed += chunk.byteLength;
      if (streamed > from.size) break;
      md5.update(chunk);
      yield chunk;
    }
    if (streamed !== from.size) {
      changed = true;
      throw new Error(`the object has ${streamed} bytes, this writer expected ${from.size}`);
    }
    md5.update(body);
    yield body;
  }
  try {
    const res = await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: Readable.from(content(), { objectMode: false }),
        ContentLength: size,
        ContentType: CONTENT_TYPE,
        Metadata: writerMetadata(ctx),
        IfMatch: from.etag,
      }),
    );
    return { etag: res.ETag ?? `"${md5.digest('hex')}"`, size };
  } catch (e) {
    if (changed || isPreconditionFailed(e) || isConditionalConflict(e)) {
      throw concurrentWriter(errorContext(ctx, key, 'PutObject', true), e);
    }
    if (isNotImplemented(e)) throw await notImplementedDuringFlush(ctx, key, 'PutObject', e);
    throw toStorageError(e, errorContext(ctx, key, 'PutObject', true));
  }
}
