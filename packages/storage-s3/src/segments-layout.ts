import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { type OpenResult, StorageError } from '@yoink/storage-core';
import {
  CONTENT_TYPE,
  errorContext,
  isOurWrite,
  type Layout,
  putEtag,
  readAll,
  type S3Context,
  streamBody,
} from './layout.js';
import {
  concurrentWriter,
  isConditionalConflict,
  isNotFound,
  isPreconditionFailed,
  type S3Operation,
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
  readonly #prefix: string;
  #next = 0;

  /** @param key the checkpoint's key; segments live under `<key>/`. */
  constructor(ctx: S3Context, key: string) {
    this.#ctx = ctx;
    this.#prefix = key.endsWith('/') ? key : `${key}/`;
  }

  #error(e: unknown, operation: S3Operation, key = this.#prefix, flushing = false): StorageError {
    return toStorageError(e, errorContext(this.#ctx, key, operation, flushing));
  }

  /** The segments in order, one listing page at a time. */
  async *#segments(): AsyncGenerator<Segment> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.#listPage(token);
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

  #listPage(token: string | undefined): Promise<ListObjectsV2CommandOutput> {
    return this.#ctx.client.send(
      new ListObjectsV2Command({
        Bucket: this.#ctx.bucket,
        Prefix: this.#prefix,
        Delimiter: '/',
        ContinuationToken: token,
      }),
    );
  }

  async open(): Promise<OpenResult> {
    let last: Segment | undefined;
    for await (const s of this.#segments()) last = s;
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
          IfNoneMatch: '*',
        }),
      );
    } catch (e) {
      if (isPreconditionFailed(e)) {
        // After a lost reply the SDK's retry finds our own segment: not a conflict.
        if (!(await isOurWrite(this.#ctx, key, body.length, putEtag(body)))) {
          throw concurrentWriter(errorContext(this.#ctx, key, 'PutObject', true), e);
        }
      } else if (isConditionalConflict(e)) {
        throw concurrentWriter(errorContext(this.#ctx, key, 'PutObject', true), e);
      } else {
        throw this.#error(e, 'PutObject', key, true);
      }
    }
    this.#next += 1;
  }

  async *readChunks(): AsyncGenerator<Uint8Array> {
    for await (const segment of this.#segments()) {
      let got: { Body?: unknown };
      try {
        got = await this.#ctx.client.send(
          new GetObjectCommand({ Bucket: this.#ctx.bucket, Key: segment.key }),
        );
      } catch (e) {
        if (isNotFound(e)) {
          throw new StorageError(
            `Segment ${segment.key} of ${this.#ctx.uri} disappeared while reading: something deletes segments. ` +
              'Read again once the checkpoint is complete.',
            { uri: this.#ctx.uri, cause: e },
          );
        }
        throw this.#error(e, 'GetObject', segment.key);
      }
      yield* streamBody(got.Body);
    }
  }

  async exists(): Promise<boolean> {
    for await (const _ of this.#segments()) return true;
    return false;
  }
}
