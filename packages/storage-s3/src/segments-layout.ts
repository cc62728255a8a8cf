import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  ConcurrentWriterError,
  debugLog,
  type OpenResult,
  StorageError,
} from '@yoink/storage-core';
import { readAll, readChunksOf, streamBody } from './body.js';
import { Compaction, type CompactionResult, type CompactOptions } from './compaction.js';
import {
  notImplementedDuringFlush,
  readCondition,
  verifyConditionalWrites,
  writeCondition,
} from './conditional-writes.js';
import { putEtag } from './etag.js';
import { isOurWrite, WRITER_METADATA_KEY, writerMetadata } from './own-write.js';
import { ChainGap, ChainWalker, MAX_SEQ, type Piece, pieceOf, segmentKey } from './pieces.js';
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
  segmentsGap,
  segmentVanished,
  toStorageError,
} from './s3-errors.js';

export { segmentKey } from './pieces.js';

/** The factor by which the search's first phase widens its step. */
const SEARCH_GROWTH = 16;
/** Keys in a full ListObjectsV2 page (S3's most): a range this narrow is listed, not searched. */
const LISTING_PAGE = 1000;

/** The server answered a listing with `StartAfter` as if it had none. */
class StartAfterIgnored extends Error {}

/** The piece of the two that ends later (`a` when `b` is undefined). */
function later(a: Piece | undefined, b: Piece | undefined): Piece | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b.last > a.last ? b : a;
}

/** Compaction settings of a writer (see the `compact*` options of `S3StorageOptions`). */
export interface CompactionSettings {
  /** Compact in the background once the writer has put this many segments; `undefined`: never. */
  readonly afterSegments: number | undefined;
  readonly targetBytes: number;
  readonly graceMs: number;
}

/**
 * `layout: 'segments'`: each flush writes one new object
 * `<key>/<12-digit sequence>.jsonl` with `If-None-Match: *`; compaction
 * merges runs of them into `<key>/<first>-<last>.jsonl` (see `pieces.ts` and
 * `compaction.ts`).
 *
 * - Opening finds the last piece in O(log n) listing requests (see
 *   `#last`), not by listing the whole prefix (unless the server ignores
 *   `StartAfter`).
 * - `read()` lists the prefix one page at a time, follows the chain of
 *   pieces (a merged object in place of the segments it covers) and fetches
 *   pieces ahead in parallel ({@link readAhead}), yielding them in order.
 *
 * Objects under the prefix with other names are ignored.
 */
export class SegmentsLayout implements Layout {
  readonly #ctx: S3Context;
  readonly #key: string;
  readonly #prefix: string;
  readonly #compaction: CompactionSettings;
  /** Keys past every piece name: a listing that reaches one has no piece left. */
  readonly #pastSegments: string;
  #next = 0;
  /** `true` once this instance opened for writing: it compacts as the writer. */
  #writing = false;
  /** Bytes of a failed flush that may have landed all the same (its reply was lost). */
  #unconfirmed: number | undefined;
  /** Segments this writer put since it opened or last started a compaction. */
  #sinceCompaction = 0;
  /** The compaction running on this instance, if any. */
  #compacting: Promise<CompactionResult> | undefined;
  /** The background compaction's failure was reported (once per instance). */
  #warned = false;
  /** The server answered NotImplemented to UploadPartCopy once: compactions download. */
  #noCopy = false;

  /** @param key the checkpoint's key; segments live under `<key>/`. */
  constructor(ctx: S3Context, key: string, compaction: CompactionSettings) {
    this.#ctx = ctx;
    this.#key = key;
    this.#prefix = key.endsWith('/') ? key : `${key}/`;
    this.#compaction = compaction;
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

  /**
   * Every piece in listing order, listed one page at a time: the next page is
   * requested when this one starts being consumed, never the whole prefix up front.
   */
  async *pieces(client: S3Client, signal?: AbortSignal): AsyncGenerator<Piece> {
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
          const piece = pieceOf(this.#prefix, o);
          if (piece) yield piece;
        }
      }
    } finally {
      // A page requested ahead and never consumed: settle it quietly.
      page?.catch(() => {});
    }
  }

  /**
   * The first piece whose name sorts after segment `after` (the first of all
   * when `undefined`), or `undefined`: one ListObjectsV2 with `StartAfter`
   * and `MaxKeys: 1`. Such a piece starts after `after` (a merged object
   * that starts at `after` sorts before its segment). Other names under the
   * prefix are stepped over (names past every piece name end the search at
   * once; a folder is skipped whole).
   */
  async #firstAfter(
    client: S3Client,
    after: number | undefined,
    signal?: AbortSignal,
  ): Promise<Piece | undefined> {
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
        const piece = pieceOf(this.#prefix, object);
        if (piece) return piece;
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
   * The piece with the highest sequence number, in O(log n) requests. One
   * listing page holds up to 1,000 pieces: when it is the only page, the
   * answer is on it (one request). Past it, each probe asks S3 for the first
   * piece whose name sorts after a sequence number's segment
   * ({@link SegmentsLayout.#firstAfter}): steps that grow 16-fold from the
   * page's last piece find an upper bound, a binary search narrows the range
   * to one page, and one listing of that page gives the last piece: 17
   * listing requests for 100,000 segments, against 100 pages for a full
   * listing.
   *
   * The invariant is "a piece ends at `lo.last` or later, and none starts
   * above `hi`". A probe at `x` finds a piece exactly when the highest
   * sequence number is above `x`, because that number is always a segment's
   * own: compaction never merges the chain's last piece, so every merged
   * object ends below it. Gaps do not matter (there are none: a writer puts
   * segment n+1 only after segment n's PUT succeeded or was found to have
   * landed, and a PUT is atomic, so a writer that crashed mid-flush left the
   * whole segment or nothing). A segment that lands after this search (a
   * second writer, or a crashed writer's delayed request) makes this
   * writer's `If-None-Match: *` PUT of the same number fail: the fence stays
   * with the PUT.
   *
   * A server that ignores `StartAfter` (its answer starts at or before the
   * name asked for) gets the whole listing instead, so the search cannot loop.
   */
  async last(client: S3Client): Promise<Piece | undefined> {
    try {
      return await this.#search(client);
    } catch (e) {
      if (!(e instanceof StartAfterIgnored)) throw e;
    }
    // A server that ignores StartAfter: list every page, as the only way left.
    let last: Piece | undefined;
    for await (const piece of this.pieces(client)) last = later(last, piece);
    return last;
  }

  async #search(client: S3Client): Promise<Piece | undefined> {
    // The first listing page: up to 1,000 pieces, the whole checkpoint in one request.
    const page = await this.#list(client, {}, undefined);
    let lo: Piece | undefined;
    for (const o of page.Contents ?? []) lo = later(lo, pieceOf(this.#prefix, o));
    if (!page.IsTruncated) return lo;
    lo ??= await this.#firstAfter(client, undefined);
    if (lo === undefined) return undefined;
    let hi: number | undefined;
    for (let step = SEARCH_GROWTH; hi === undefined; step *= SEARCH_GROWTH) {
      const probe = Math.min(lo.last + step, MAX_SEQ);
      const found = await this.#firstAfter(client, probe);
      if (found === undefined) hi = probe;
      else lo = found;
    }
    while (hi - lo.last > LISTING_PAGE) {
      const mid = Math.floor((lo.last + hi) / 2);
      const found = await this.#firstAfter(client, mid);
      if (found === undefined) hi = mid;
      else lo = found;
    }
    return this.#lastFrom(client, lo);
  }

  /**
   * The last piece at or after `from`, by listing what sorts after its last
   * segment's name: when at most a page of pieces remains, one request.
   */
  async #lastFrom(client: S3Client, from: Piece): Promise<Piece> {
    let last = from;
    let token: string | undefined;
    const startAfter = segmentKey(this.#prefix, from.last);
    do {
      const page = await this.#list(
        client,
        token === undefined ? { StartAfter: startAfter } : { ContinuationToken: token },
        undefined,
      );
      const first = page.Contents?.[0]?.Key;
      if (token === undefined && first !== undefined && first <= startAfter) {
        throw new StartAfterIgnored();
      }
      for (const o of page.Contents ?? []) last = later(last, pieceOf(this.#prefix, o)) ?? last;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return last;
  }

  async open(): Promise<OpenResult> {
    if (this.#ctx.conditionalWrites === 'on') {
      await verifyConditionalWrites(this.#ctx, this.#key, false);
    }
    const last = await this.last(this.#ctx.client);
    this.#next = last === undefined ? 0 : last.last + 1;
    this.#writing = true;
    if (last === undefined) return { tornTail: false };
    const tail = last.size > 0 ? last : await this.#lastNonEmpty();
    if (tail === undefined) return { tornTail: false };
    // Pieces missing under the writer: assume a torn tail, so the next append starts a line.
    if (tail === 'unknown') return { tornTail: true };
    return { tornTail: (await this.#lastByte(tail)) !== 0x0a };
  }

  async #lastByte(piece: Piece): Promise<number | undefined> {
    try {
      const got = await this.#ctx.client.send(
        new GetObjectCommand({
          Bucket: this.#ctx.bucket,
          Key: piece.key,
          Range: `bytes=${piece.size - 1}-${piece.size - 1}`,
        }),
      );
      const tail = await readAll(got.Body);
      return tail[tail.length - 1];
    } catch (e) {
      throw this.#error(e, 'GetObject', piece.key);
    }
  }

  /**
   * The last chain piece that holds bytes, when the last piece is empty (a
   * compaction's fence): by walking the chain from the start. Compaction
   * keeps that chain short, and an empty last piece is rare otherwise.
   */
  async #lastNonEmpty(): Promise<Piece | 'unknown' | undefined> {
    const walker = new ChainWalker();
    let found: Piece | undefined;
    try {
      for await (const piece of this.pieces(this.#ctx.client)) {
        const decided = walker.push(piece);
        if (decided && decided.size > 0) found = decided;
      }
      const decided = walker.end();
      if (decided && decided.size > 0) found = decided;
    } catch (e) {
      if (!(e instanceof ChainGap)) throw e;
      return 'unknown';
    }
    return found;
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
    this.#sinceCompaction += 1;
    this.#maybeCompact();
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
    this.#sinceCompaction += 1;
    return bytes;
  }

  async #put(body: Buffer): Promise<void> {
    if (this.#next >= 10 ** 12) {
      throw new StorageError(
        `${this.#ctx.uri} has 10^12 segments, the most this layout can name. Start a new checkpoint.`,
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

  // ---- compaction ---------------------------------------------------------

  /**
   * Compacts the checkpoint (see {@link Compaction}): as its writer once this
   * instance has opened for writing, else as an operator who takes the
   * writer's place. One at a time per instance.
   *
   * @throws {ConcurrentWriterError} when another compaction runs (or left its
   *   lock: see `takeover`), a writer is running during an operator's
   *   compaction, or this writer was displaced.
   * @throws {StoragePermissionError} naming `s3:DeleteObject` when the
   *   originals cannot be deleted (nothing is lost).
   * @throws {ConditionalWritesUnsupportedError} when the endpoint ignores
   *   `If-None-Match: *` and `conditionalWrites` is not `'off'`.
   */
  compact(options: CompactOptions = {}): Promise<CompactionResult> {
    if (this.#compacting !== undefined) {
      return Promise.reject(
        new ConcurrentWriterError(
          `A compaction of ${this.#ctx.uri} is already running in this storage: wait for it to finish.`,
          { uri: this.#ctx.rawUri },
        ),
      );
    }
    const compaction = new Compaction(
      this,
      this.#writing ? { next: () => this.#next } : undefined,
      {
        ...options,
        targetBytes: options.targetBytes ?? this.#compaction.targetBytes,
        graceMs: options.graceMs ?? this.#compaction.graceMs,
      },
      this.#noCopy,
    );
    this.#sinceCompaction = 0;
    const running = (async () => {
      // The lock and the operator's fence rely on If-None-Match: * as a writer's flush does:
      // on an endpoint that ignores it, refuse (as opening a writer does) unless it is off.
      if (this.#ctx.conditionalWrites === 'on') {
        await verifyConditionalWrites(this.#ctx, this.#key, false);
      }
      return compaction.run();
    })().finally(() => {
      if (compaction.copyUnsupported) this.#noCopy = true;
      if (this.#compacting === running) this.#compacting = undefined;
    });
    this.#compacting = running;
    return running;
  }

  /** After a flush: starts a background compaction once `compactAfterSegments` segments were put. */
  #maybeCompact(): void {
    const after = this.#compaction.afterSegments;
    if (after === undefined || this.#sinceCompaction < after || this.#compacting) return;
    this.compact().then(
      (r) => {
        debugLog(
          '%s: compacted in the background: %d merged object(s), %d deleted, %d requests',
          this.#ctx.uri,
          r.merged.length,
          r.deleted,
          r.requests,
        );
      },
      (e: unknown) => {
        debugLog('%s: background compaction failed: %s', this.#ctx.uri, String(e));
        if (this.#warned) return;
        this.#warned = true;
        process.emitWarning(
          `yoink: background compaction of ${this.#ctx.uri} failed (the checkpoint is intact; ` +
            `writes go on): ${e instanceof Error ? e.message : String(e)}`,
          { code: 'YOINK_S3_COMPACTION' },
        );
      },
    );
  }

  /** Waits for a background compaction to end (its failure was reported already). */
  async settle(): Promise<void> {
    await this.#compacting?.catch(() => {});
  }

  // ---- reading ------------------------------------------------------------

  async #get(
    client: S3Client,
    piece: Piece,
    range: { start: number; end: number } | undefined,
    signal: AbortSignal,
  ): Promise<unknown> {
    try {
      const got = await client.send(
        new GetObjectCommand({
          Bucket: this.#ctx.bucket,
          Key: piece.key,
          ...(range === undefined
            ? {}
            : {
                Range: `bytes=${range.start}-${range.end}`,
                IfMatch: readCondition(this.#ctx, piece.etag),
              }),
        }),
        { abortSignal: signal },
      );
      return got.Body;
    } catch (e) {
      if (signal.aborted) throw e;
      if (isNotFound(e) || isPreconditionFailed(e)) {
        throw segmentVanished(errorContext(this.#ctx, piece.key, 'GetObject'), e);
      }
      throw this.#error(e, 'GetObject', piece.key);
    }
  }

  /** One piece, or one range of a large piece, as a part of a parallel read. */
  #part(client: S3Client, piece: Piece, range?: { start: number; end: number }): ReadPart {
    const where = errorContext(this.#ctx, piece.key, 'GetObject');
    const fetch = async (signal: AbortSignal): Promise<Uint8Array[]> => {
      const body = await this.#get(client, piece, range, signal);
      try {
        return await readChunksOf(body);
      } catch (e) {
        throw toStorageError(e, where);
      }
    };
    return {
      bytes: range === undefined ? piece.size : range.end - range.start + 1,
      fetch,
      stream:
        range === undefined ? (signal) => this.#stream(client, piece, signal) : fetchAll(fetch),
    };
  }

  async *#stream(client: S3Client, piece: Piece, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    const body = await this.#get(client, piece, undefined, signal);
    try {
      yield* streamBody(body);
    } catch (e) {
      throw toStorageError(e, errorContext(this.#ctx, piece.key, 'GetObject'));
    }
  }

  /** The parts of one chain piece: whole, or in ranges of `read.rangeBytes` when larger. */
  *#partsOf(client: S3Client, piece: Piece): Generator<ReadPart> {
    const rangeBytes = this.#ctx.read.rangeBytes;
    if (piece.size <= rangeBytes) {
      yield this.#part(client, piece);
      return;
    }
    for (let start = 0; start < piece.size; start += rangeBytes) {
      yield this.#part(client, piece, {
        start,
        end: Math.min(start + rangeBytes, piece.size) - 1,
      });
    }
  }

  /**
   * The chain's parts in order. A hole in the listing (a compaction deleted
   * what this read listed earlier) becomes a part that fails with the
   * retryable `SegmentsChangedError` when its turn comes, after everything
   * before it was yielded.
   */
  async *#parts(client: S3Client, signal: AbortSignal | undefined): AsyncGenerator<ReadPart> {
    const walker = new ChainWalker();
    try {
      for await (const piece of this.pieces(client, signal)) {
        const next = walker.push(piece);
        if (next) yield* this.#partsOf(client, next);
      }
      const next = walker.end();
      if (next) yield* this.#partsOf(client, next);
    } catch (e) {
      if (!(e instanceof ChainGap)) throw e;
      const error = segmentsGap(
        errorContext(this.#ctx, this.#prefix, 'ListObjectsV2'),
        e.expected,
        e.found.key,
      );
      yield failing(error);
    }
  }

  /**
   * The checkpoint's bytes in order, `ctx.read.concurrency` pieces (or
   * ranges of large ones) fetched ahead within `ctx.read.aheadBytes` (see
   * {@link readAhead}).
   */
  readChunks(client: S3Client, signal: AbortSignal | undefined): AsyncIterable<Uint8Array> {
    return readAhead(
      this.#parts(client, signal),
      { concurrency: this.#ctx.read.concurrency, aheadBytes: this.#ctx.read.aheadBytes },
      signal,
    );
  }

  /** `true` once a piece exists: one listing request (other names are stepped over). */
  async exists(client: S3Client): Promise<boolean> {
    try {
      return (await this.#firstAfter(client, undefined)) !== undefined;
    } catch (e) {
      if (!(e instanceof StartAfterIgnored)) throw e;
    }
    for await (const _ of this.pieces(client)) return true;
    return false;
  }

  /** The prefix the pieces live under (ends in `/`). */
  get prefix(): string {
    return this.#prefix;
  }

  /** The context this layout sends requests with. */
  get ctx(): S3Context {
    return this.#ctx;
  }
}

/** A part that streams by fetching itself whole (a range is never larger than the budget's unit). */
function fetchAll(
  fetch: (signal: AbortSignal) => Promise<Uint8Array[]>,
): (signal: AbortSignal) => AsyncIterable<Uint8Array> {
  return async function* (signal) {
    for (const chunk of await fetch(signal)) yield chunk;
  };
}

/** A part that fails with `error` when its turn comes. */
function failing(error: Error): ReadPart {
  return {
    bytes: 0,
    fetch: () => Promise.reject(error),
    stream: () => ({
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
    }),
  };
}
