import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ConcurrentWriterError, type OpenResult, StorageError } from '@yoink/storage-core';
import { readAll, streamBody } from './body.js';
import {
  notImplementedDuringFlush,
  verifyConditionalWrites,
  writeCondition,
} from './conditional-writes.js';
import { putEtag } from './etag.js';
import { isOurWrite, WRITER_METADATA_KEY, writerMetadata } from './own-write.js';
import { CONTENT_TYPE, type Layout, type S3Context } from './s3-context.js';
import {
  concurrentWriter,
  errorContext,
  isConditionalConflict,
  isNotFound,
  isNotImplemented,
  isPreconditionFailed,
  type S3Operation,
  segmentVanished,
  toStorageError,
} from './s3-errors.js';

/** Digits of a segment's sequence number: lexical order equals write order up to 10^12 flushes. */
export const SEGMENT_DIGITS = 12;
const SEGMENT_NAME = /^(\d{12})\.jsonl$/;

/** The key of segment `seq` under `prefix` (which ends in `/`): `<prefix>000000000042.jsonl`. */
export function segmentKey(prefix: string, seq: number): string {
  return `${prefix}${seq.toString().padStart(SEGMENT_DIGITS, '0')}.jsonl`;
}

interface Segment {
  key: string;
  seq: number;
  size: number;
}

/**
 * `layout: 'segments'`: each flush writes one new object
 * `<key>/<12-digit sequence>.jsonl` with `If-None-Match: *`. `read()` lists
 * the prefix (paginated) and streams the segments in order. Objects under
 * the prefix with other names are ignored.
 */
export class SegmentsLayout implements Layout {
  readonly #ctx: S3Context;
  readonly #key: string;
  readonly #prefix: string;
  #next = 0;
  /** Bytes of a failed flush that may have landed all the same (its reply was lost). */
  #unconfirmed: number | undefined;

  /** @param key the checkpoint's key; segments live under `<key>/`. */
  constructor(ctx: S3Context, key: string) {
    this.#ctx = ctx;
    this.#key = key;
    this.#prefix = key.endsWith('/') ? key : `${key}/`;
  }

  #error(e: unknown, operation: S3Operation, key = this.#prefix, flushing = false): StorageError {
    return toStorageError(e, errorContext(this.#ctx, key, operation, flushing));
  }

  /** The segments in order, one listing page at a time. */
  async *#segments(client: S3Client): AsyncGenerator<Segment> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await client.send(
          new ListObjectsV2Command({
            Bucket: this.#ctx.bucket,
            Prefix: this.#prefix,
            Delimiter: '/',
            ContinuationToken: token,
          }),
        );
      } catch (e) {
        throw this.#error(e, 'ListObjectsV2');
      }
      for (const o of page.Contents ?? []) {
        const name = o.Key?.slice(this.#prefix.length) ?? '';
        const m = SEGMENT_NAME.exec(name);
        if (!m || !o.Key?.startsWith(this.#prefix)) continue;
        yield { key: o.Key, seq: Number(m[1]), size: o.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async open(): Promise<OpenResult> {
    if (this.#ctx.conditionalWrites === 'on') {
      await verifyConditionalWrites(this.#ctx, this.#key, false);
    }
    let last: Segment | undefined;
    for await (const s of this.#segments(this.#ctx.client)) last = s;
    this.#next = last === undefined ? 0 : last.seq + 1;
    if (last === undefined || last.size === 0) return { tornTail: false };
    let tail: Buffer;
    try {
      const got = await this.#ctx.client.send(
        new GetObjectCommand({
          Bucket: this.#ctx.bucket,
          Key: last.key,
          Range: `bytes=${last.size - 1}-${last.size - 1}`,
        }),
      );
      tail = await readAll(got.Body);
    } catch (e) {
      throw this.#error(e, 'GetObject', last.key);
    }
    return { tornTail: tail[tail.length - 1] !== 0x0a };
  }

  async persist(body: Buffer): Promise<void> {
    let data = body;
    if (this.#unconfirmed !== undefined) {
      const landed = await this.#landed(this.#unconfirmed);
      this.#unconfirmed = undefined;
      data = body.subarray(landed);
      if (data.length === 0) return;
    }
    try {
      await this.#put(data);
    } catch (e) {
      // A conflict is definite; anything else may have landed without its reply.
      if (!ConcurrentWriterError.isInstance(e)) this.#unconfirmed = data.length;
      throw e;
    }
    this.#next += 1;
  }

  /** After a flush failed without a verdict: whether its segment landed all the same. */
  async #landed(bytes: number): Promise<number> {
    const key = segmentKey(this.#prefix, this.#next);
    let head: { ContentLength?: number; Metadata?: Record<string, string> };
    try {
      head = await this.#ctx.client.send(
        new HeadObjectCommand({ Bucket: this.#ctx.bucket, Key: key }),
      );
    } catch (e) {
      if (isNotFound(e)) return 0;
      this.#unconfirmed = bytes;
      throw this.#error(e, 'HeadObject', key, true);
    }
    // Only this instance writes its token; a segment of ours here is the lost one.
    if (head.Metadata?.[WRITER_METADATA_KEY] !== this.#ctx.writerToken) return 0;
    if (head.ContentLength !== bytes) return 0;
    this.#next += 1;
    return bytes;
  }

  async #put(body: Buffer): Promise<void> {
    if (this.#next >= 10 ** SEGMENT_DIGITS) {
      throw new StorageError(
        `${this.#ctx.uri} has 10^${SEGMENT_DIGITS} segments, the most this layout can name. Start a new checkpoint.`,
        { uri: this.#ctx.uri },
      );
    }
    const key = segmentKey(this.#prefix, this.#next);
    try {
      await this.#ctx.client.send(
        new PutObjectCommand({
          Bucket: this.#ctx.bucket,
          Key: key,
          Body: body,
          ContentType: CONTENT_TYPE,
          Metadata: writerMetadata(this.#ctx),
          ...writeCondition(this.#ctx, undefined),
        }),
      );
    } catch (e) {
      const ctx = errorContext(this.#ctx, key, 'PutObject', true);
      if (isPreconditionFailed(e)) {
        // After a lost reply the SDK's retry finds our own segment: not a conflict.
        if (await isOurWrite(this.#ctx, key, { size: body.length, etag: putEtag(body) })) return;
        throw concurrentWriter(ctx, e);
      }
      if (isConditionalConflict(e)) throw concurrentWriter(ctx, e);
      if (isNotImplemented(e) && this.#ctx.conditionalWrites === 'on') {
        throw await notImplementedDuringFlush(this.#ctx, key, 'PutObject', e);
      }
      throw toStorageError(e, ctx);
    }
  }

  async *readChunks(client: S3Client): AsyncGenerator<Uint8Array> {
    for await (const segment of this.#segments(client)) {
      let got: { Body?: unknown };
      try {
        got = await client.send(
          new GetObjectCommand({ Bucket: this.#ctx.bucket, Key: segment.key }),
        );
      } catch (e) {
        if (isNotFound(e)) {
          throw segmentVanished(errorContext(this.#ctx, segment.key, 'GetObject'), e);
        }
        throw this.#error(e, 'GetObject', segment.key);
      }
      yield* streamBody(got.Body);
    }
  }

  async exists(client: S3Client): Promise<boolean> {
    for await (const _ of this.#segments(client)) return true;
    return false;
  }
}
