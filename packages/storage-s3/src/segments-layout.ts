import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ConcurrentWriterError, type OpenResult, StorageError } from '@yoink/storage-core';
import { readAll, readChunksOf, streamBody } from './body.js';
import {
  notImplementedDuringFlush,
  verifyConditionalWrites,
  writeCondition,
} from './conditional-writes.js';
import { putEtag } from './etag.js';
import { isOurWrite, WRITER_METADATA_KEY, writerMetadata } from './own-write.js';
import { type ReadPart, readAhead } from './read-ahead.js';
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
/** The largest sequence number a segment can have. */
const MAX_SEQ = 10 ** SEGMENT_DIGITS - 1;
/** The factor by which the search's first phase widens its step. */
const SEARCH_GROWTH = 16;
/** Keys in a full ListObjectsV2 page (S3's most): a range this narrow is listed, not searched. */
const LISTING_PAGE = 1000;

/** The key of segment `seq` under `prefix` (which ends in `/`): `<prefix>000000000042.jsonl`. */
export function segmentKey(prefix: string, seq: number): string {
  return `${prefix}${seq.toString().padStart(SEGMENT_DIGITS, '0')}.jsonl`;
}

/** The server answered a listing with `StartAfter` as if it had none. */
class StartAfterIgnored extends Error {}

interface Segment {
  key: string;
  seq: number;
  size: number;
}

/**
 * `layout: 'segments'`: each flush writes one new object
 * `<key>/<12-digit sequence>.jsonl` with `If-None-Match: *`.
 *
 * - Opening finds the last segment in O(log n) listing requests (see
 *   `#last`), not by listing the whole prefix (unless the server ignores
 *   `StartAfter`).
 * - `read()` lists the prefix one page at a time and fetches segments ahead in
 *   parallel ({@link readAhead}), yielding them in order.
 *
 * Objects under the prefix with other names are ignored.
 */
export class SegmentsLayout implements Layout {
  readonly #ctx: S3Context;
  readonly #key: string;
  readonly #prefix: string;
  /** Keys past every segment name: a listing that reaches one has no segment left. */
  readonly #pastSegments: string;
  #next = 0;
  /** Bytes of a failed flush that may have landed all the same (its reply was lost). */
  #unconfirmed: number | undefined;

  /** @param key the checkpoint's key; segments live under `<key>/`. */
  constructor(ctx: S3Context, key: string) {
    this.#ctx = ctx;
    this.#key = key;
    this.#prefix = key.endsWith('/') ? key : `${key}/`;
    this.#pastSegments = segmentKey(this.#prefix, MAX_SEQ);
  }

  #error(e: unknown, operation: S3Operation, key = this.#prefix, flushing = false): StorageError {
    return toStorageError(e, errorContext(this.#ctx, key, operation, flushing));
  }

  async #list(
    client: S3Client,
    input: { StartAfter?: string; ContinuationToken?: string; MaxKeys?: number },
    signal: AbortSignal | undefined,
  ): Promise<ListObjectsV2CommandOutput> {
    try {
      return await client.send(
        new ListObjectsV2Command({
          Bucket: this.#ctx.bucket,
          Prefix: this.#prefix,
          Delimiter: '/',
          ...input,
        }),
        { abortSignal: signal },
      );
    } catch (e) {
      // An abort is the caller's doing: let it through as it is.
      if (signal?.aborted) throw e;
      throw this.#error(e, 'ListObjectsV2');
    }
  }

  /** The segment of a listed key, if its name is a segment's. */
  #segmentOf(key: string | undefined, size: number | undefined): Segment | undefined {
    if (key === undefined || !key.startsWith(this.#prefix)) return undefined;
    const m = SEGMENT_NAME.exec(key.slice(this.#prefix.length));
    return m ? { key, seq: Number(m[1]), size: size ?? 0 } : undefined;
  }

  /**
   * The segments in order, listed one page at a time: the next page is
   * requested when this one starts being consumed, never the whole prefix up front.
   */
  async *#segments(client: S3Client, signal: AbortSignal | undefined): AsyncGenerator<Segment> {
    let page: Promise<ListObjectsV2CommandOutput> | undefined = this.#list(client, {}, signal);
    try {
      while (page !== undefined) {
        const current: ListObjectsV2CommandOutput = await page;
        const token: string | undefined = current.IsTruncated
          ? current.NextContinuationToken
          : undefined;
        page =
          token === undefined
            ? undefined
            : this.#list(client, { ContinuationToken: token }, signal);
        page?.catch(() => {});
        for (const o of current.Contents ?? []) {
          const segment = this.#segmentOf(o.Key, o.Size);
          if (segment) yield segment;
        }
      }
    } finally {
      // A page requested ahead and never consumed: settle it quietly.
      page?.catch(() => {});
    }
  }

  /**
   * The first segment after segment `after` (the first of all when
   * `undefined`), or `undefined`: one ListObjectsV2 with `StartAfter` and
   * `MaxKeys: 1`. Other names under the prefix are stepped over (names past
   * every segment name end the search at once; a folder is skipped whole).
   */
  async #firstAfter(
    client: S3Client,
    after: number | undefined,
    signal?: AbortSignal,
  ): Promise<Segment | undefined> {
    if (after !== undefined && after >= MAX_SEQ) return undefined;
    let startAfter = after === undefined ? undefined : segmentKey(this.#prefix, after);
    for (;;) {
      const page = await this.#list(client, { StartAfter: startAfter, MaxKeys: 1 }, signal);
      const object = page.Contents?.[0];
      const folder = page.CommonPrefixes?.[0]?.Prefix;
      // With a delimiter, MaxKeys counts keys and folders alike: take the first in key order.
      const objectFirst =
        object?.Key !== undefined && (folder === undefined || object.Key < folder);
      const first = objectFirst ? object?.Key : folder;
      if (first !== undefined && startAfter !== undefined && first <= startAfter) {
        throw new StartAfterIgnored();
      }
      if (objectFirst) {
        const segment = this.#segmentOf(object.Key, object.Size);
        if (segment) return segment;
        if (object.Key === undefined || object.Key > this.#pastSegments) return undefined;
        startAfter = object.Key;
      } else if (folder !== undefined) {
        if (folder > this.#pastSegments) return undefined;
        // Past every key in the folder: its trailing "/" becomes "0" (the next character).
        startAfter = `${folder.slice(0, -1)}0`;
      } else {
        return undefined;
      }
    }
  }

  /**
   * The last segment, in O(log n) requests. One listing page holds up to
   * 1,000 segments: when it is the only page, its last segment is the answer
   * (one request). Past it, each probe asks S3 for the first segment after a
   * sequence number ({@link SegmentsLayout.#firstAfter}): steps that grow
   * 16-fold from the page's last segment find an upper bound, a binary
   * search narrows the range to one page, and one listing of that page
   * gives the last segment: 17 listing requests for 100,000 segments,
   * against 100 pages for a full listing.
   *
   * The invariant is "segment `lo` exists and none is numbered above `hi`",
   * and each probe answers exactly whether a segment exists above a number,
   * so the search finds the largest sequence number even if there were gaps.
   * There are none: a writer puts segment n+1 only after segment n's PUT
   * succeeded (or was found to have landed), and a PUT is atomic, so a writer
   * that crashed mid-flush left either the whole segment or nothing. A
   * segment that lands after this search (a second writer, or a crashed
   * writer's delayed request) makes this writer's `If-None-Match: *` PUT of
   * the same number fail: the fence stays with the PUT.
   *
   * A server that ignores `StartAfter` (its answer starts at or before the
   * name asked for) gets the whole listing instead, so the search cannot loop.
   */
  async #last(client: S3Client): Promise<Segment | undefined> {
    try {
      return await this.#search(client);
    } catch (e) {
      if (!(e instanceof StartAfterIgnored)) throw e;
    }
    // A server that ignores StartAfter: list every page, as the only way left.
    let last: Segment | undefined;
    for await (const segment of this.#segments(client, undefined)) last = segment;
    return last;
  }

  async #search(client: S3Client): Promise<Segment | undefined> {
    // The first listing page: up to 1,000 segments, the whole checkpoint in one request.
    const page = await this.#list(client, {}, undefined);
    let lo: Segment | undefined;
    for (const o of page.Contents ?? []) lo = this.#segmentOf(o.Key, o.Size) ?? lo;
    if (!page.IsTruncated) return lo;
    lo ??= await this.#firstAfter(client, undefined);
    if (lo === undefined) return undefined;
    let hi: number | undefined;
    for (let step = SEARCH_GROWTH; hi === undefined; step *= SEARCH_GROWTH) {
      const probe = Math.min(lo.seq + step, MAX_SEQ);
      const found = await this.#firstAfter(client, probe);
      if (found === undefined) hi = probe;
      else lo = found;
    }
    while (hi - lo.seq > LISTING_PAGE) {
      const mid = Math.floor((lo.seq + hi) / 2);
      const found = await this.#firstAfter(client, mid);
      if (found === undefined) hi = mid;
      else lo = found;
    }
    return this.#lastFrom(client, lo);
  }

  /**
   * The last segment at or after `from`, by listing what follows it: when at
   * most a page of segments remains, one request.
   */
  async #lastFrom(client: S3Client, from: Segment): Promise<Segment> {
    let last = from;
    let token: string | undefined;
    do {
      const page = await this.#list(
        client,
        token === undefined ? { StartAfter: from.key } : { ContinuationToken: token },
        undefined,
      );
      const first = page.Contents?.[0]?.Key;
      if (token === undefined && first !== undefined && first <= from.key) {
        throw new StartAfterIgnored();
      }
      for (const o of page.Contents ?? []) last = this.#segmentOf(o.Key, o.Size) ?? last;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return last;
  }

  async open(): Promise<OpenResult> {
    if (this.#ctx.conditionalWrites === 'on') {
      await verifyConditionalWrites(this.#ctx, this.#key, false);
    }
    const last = await this.#last(this.#ctx.client);
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
        { uri: this.#ctx.rawUri },
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

  async #get(client: S3Client, segment: Segment, signal: AbortSignal): Promise<unknown> {
    try {
      const got = await client.send(
        new GetObjectCommand({ Bucket: this.#ctx.bucket, Key: segment.key }),
        { abortSignal: signal },
      );
      return got.Body;
    } catch (e) {
      if (signal.aborted) throw e;
      if (isNotFound(e)) {
        throw segmentVanished(errorContext(this.#ctx, segment.key, 'GetObject'), e);
      }
      throw this.#error(e, 'GetObject', segment.key);
    }
  }

  /** One segment as a part of a parallel read. */
  #part(client: S3Client, segment: Segment): ReadPart {
    const where = errorContext(this.#ctx, segment.key, 'GetObject');
    return {
      bytes: segment.size,
      fetch: async (signal) => {
        const body = await this.#get(client, segment, signal);
        try {
          return await readChunksOf(body);
        } catch (e) {
          throw toStorageError(e, where);
        }
      },
      stream: (signal) => this.#stream(client, segment, signal),
    };
  }

  async *#stream(
    client: S3Client,
    segment: Segment,
    signal: AbortSignal,
  ): AsyncGenerator<Uint8Array> {
    const body = await this.#get(client, segment, signal);
    try {
      yield* streamBody(body);
    } catch (e) {
      throw toStorageError(e, errorContext(this.#ctx, segment.key, 'GetObject'));
    }
  }

  async *#parts(client: S3Client, signal: AbortSignal | undefined): AsyncGenerator<ReadPart> {
    for await (const segment of this.#segments(client, signal)) yield this.#part(client, segment);
  }

  /**
   * The segments' bytes in order, `ctx.read.concurrency` segments fetched
   * ahead within `ctx.read.aheadBytes` (see {@link readAhead}).
   */
  readChunks(client: S3Client, signal: AbortSignal | undefined): AsyncIterable<Uint8Array> {
    return readAhead(
      this.#parts(client, signal),
      { concurrency: this.#ctx.read.concurrency, aheadBytes: this.#ctx.read.aheadBytes },
      signal,
    );
  }

  /** `true` once a segment exists: one listing request (non-segment names are stepped over). */
  async exists(client: S3Client): Promise<boolean> {
    try {
      return (await this.#firstAfter(client, undefined)) !== undefined;
    } catch (e) {
      if (!(e instanceof StartAfterIgnored)) throw e;
    }
    for await (const _ of this.#segments(client, undefined)) return true;
    return false;
  }
}
