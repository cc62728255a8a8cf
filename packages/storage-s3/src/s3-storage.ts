import { S3Client } from '@aws-sdk/client-s3';
import {
  BufferedStorage,
  type Chunk,
  checkUri,
  InvalidOptionError,
  type OpenResult,
  type ReadOptions,
  StorageClosedError,
} from '@yoink/storage-core';
import { ClientLease } from './client-lease.js';
import type { CompactionResult, CompactOptions } from './compaction.js';
import { ObjectLayout } from './object-layout.js';
import { newWriterToken } from './own-write.js';
import type { Layout, S3Context } from './s3-context.js';
import { resolveOptions, type S3Layout, type S3StorageOptions } from './s3-options.js';
import { SegmentsLayout } from './segments-layout.js';
import { parseS3Uri } from './uri.js';

export type { CompactionResult, CompactOptions, MergedObject } from './compaction.js';
export type { S3Layout, S3StorageOptions } from './s3-options.js';

/**
 * A checkpoint in Amazon S3 or an S3-compatible store (MinIO, R2, Ceph…), at
 * `s3://bucket/key[?region=…&endpoint=…&forcePathStyle=true&layout=segments&conditionalWrites=off]`.
 * `new S3Storage(uri, options)` is what `StorageFactory.fromUri(uri, options)`
 * builds; the query parameters may also be given as options (see
 * {@link S3StorageOptions}).
 *
 * Writes are buffered (core's {@link BufferedStorage}); a flush never
 * downloads the checkpoint and never silently overwrites another writer's
 * data: conditional writes that fail become `ConcurrentWriterError`, with the
 * data kept in the buffer. On a custom endpoint the first writer checks that
 * the server enforces them (see `conditionalWrites`). `read()` and `exists()`
 * also work after `close()`, with a client of their own.
 *
 * - `layout: 'object'` (default): one plain JSONL object. Under 5 MiB a flush
 *   re-puts the writer's own copy with `If-Match` (`If-None-Match: *` when
 *   creating); from 5 MiB on it appends server-side (multipart upload:
 *   UploadPartCopy of the object + UploadPart of the new bytes, completed with
 *   `If-Match`), falling back to a streamed rewrite on servers that lack
 *   UploadPartCopy. On an endpoint that enforces `If-Match` on PutObject but
 *   not on CompleteMultipartUpload (moto, LocalStack), it re-puts the object
 *   whole with `If-Match` instead, streamed.
 * - `layout: 'segments'`: each flush is a new object `<key>/000000000042.jsonl`,
 *   put with `If-None-Match: *`. Opening finds the last segment in O(log n)
 *   requests; `read()` fetches segments ahead in parallel, in order.
 *
 * Every object a writer puts carries its random writer token
 * (`x-amz-meta-yoink-writer`), so a 412 on its own retried request is told
 * apart from another writer's identical bytes.
 *
 * Credentials come from the SDK's default chain.
 *
 * @throws {InvalidUriError} when created with a bad URI (bucket name, empty
 *   key, unknown, repeated or bad query parameter).
 * @throws {InvalidOptionError} for an unknown option (with "did you mean"), a
 *   bad value, an option that contradicts the URI, or connection settings
 *   next to an injected `client`.
 *
 * Runtime failures are typed: `ConcurrentWriterError`,
 * `ConditionalWritesUnsupportedError`, `StorageUnavailableError` (retryable),
 * `StoragePermissionError`, else `StorageError`.
 *
 * @example
 * ```ts
 * const storage = new S3Storage('s3://my-crawls/site-a.jsonl?region=eu-west-1');
 * await storage.write('{"url":"https://example.com"}\n');
 * await storage.flush();
 * for await (const line of storage.read()) console.log(line);
 * await storage.close();
 * ```
 */
export class S3Storage extends BufferedStorage {
  /** The bucket. */
  readonly bucket: string;
  /** The object key (`object`) or the segments' prefix (`segments`, without its trailing `/`). */
  readonly key: string;
  /** The layout in use. */
  readonly layout: S3Layout;
  /** The client this storage sends requests with. */
  readonly client: S3Client;
  readonly #lease: ClientLease;
  readonly #io: Layout;

  /**
   * @param uri `s3://bucket/key[?query]`.
   * @param options See {@link S3StorageOptions}.
   */
  constructor(uri: string, options?: S3StorageOptions) {
    checkUri(uri);
    const parsed = parseS3Uri(uri);
    const resolved = resolveOptions(uri, parsed, options);
    super(uri, resolved.options);
    const client = resolved.options.client;
    if (client) {
      this.client = client;
      this.#lease = new ClientLease(client, undefined);
    } else {
      // rawUri's settings (an endpoint may carry credentials) go only into the client.
      const config = resolved.clientConfig;
      this.client = new S3Client(config);
      this.#lease = new ClientLease(this.client, () => new S3Client(config));
    }
    this.bucket = parsed.bucket;
    this.layout = resolved.layout;
    this.key = resolved.key;
    const ctx: S3Context = {
      client: this.client,
      injectedClient: client !== undefined,
      bucket: this.bucket,
      uri: this.uri,
      rawUri: this.rawUri,
      conditionalWrites: resolved.conditionalWrites,
      writerToken: newWriterToken(),
      partBytes: resolved.partBytes,
      copyPartBytes: resolved.copyPartBytes,
      read: resolved.read,
    };
    this.#io =
      this.layout === 'segments'
        ? new SegmentsLayout(ctx, this.key, resolved.compaction)
        : new ObjectLayout(ctx, this.key);
  }

  /**
   * Compacts a segments checkpoint: merges runs of small segments into
   * objects of about `compactTargetBytes` (`<key>/<first>-<last>.jsonl`,
   * server-side with UploadPartCopy where the pieces are 5 MiB or more,
   * else downloaded and joined), then deletes the originals that a merged
   * object older than `compactGraceMs` covers. Reads stay exact throughout:
   * a read running meanwhile yields every line once, in order, or fails with
   * the retryable `SegmentsChangedError` (when the originals it listed were
   * deleted under it); a crash at any point loses and duplicates nothing.
   *
   * - On a storage that has written (opened for writing), it compacts as the
   *   checkpoint's writer; flushes go on meanwhile.
   * - Otherwise it compacts as an operator with the writer **stopped**: it
   *   takes the writer's place by putting an empty segment after the last
   *   with `If-None-Match: *` (a writer still running fails its next flush
   *   with `ConcurrentWriterError`, its data kept), and refuses if a writer
   *   flushed since it looked.
   *
   * Needs `s3:ListBucket`, `s3:GetObject`, `s3:PutObject`,
   * `s3:DeleteObject` (and `s3:AbortMultipartUpload` to clean up after a
   * failure). With `conditionalWrites: 'off'` a second compactor or a running
   * writer is noticed only when it shows (a lock object, a segment after the
   * fence), not refused by the server.
   *
   * @throws {ConcurrentWriterError} when another compaction runs (or a
   *   crashed one left its lock: pass `takeover`), a writer is running
   *   during an operator's compaction, or this writer was displaced.
   * @throws {StoragePermissionError} naming `s3:DeleteObject` when the
   *   originals cannot be deleted (nothing is lost).
   * @throws {InvalidOptionError} on the object layout, or for a bad option.
   * @throws {StorageClosedError} after `close()`.
   *
   * @example
   * ```ts
   * const s = new S3Storage('s3://crawls/site-a?layout=segments');
   * const r = await s.compact({ graceMs: 0 }); // the writer is stopped, no reader runs
   * console.log(`${r.before.objects} objects → ${r.after.objects}`);
   * await s.close();
   * ```
   */
  async compact(options: CompactOptions = {}): Promise<CompactionResult> {
    if (this.closed) {
      throw new StorageClosedError(
        `compact() after close() on ${this.uri}: create a new storage to compact`,
        { uri: this.rawUri },
      );
    }
    if (!(this.#io instanceof SegmentsLayout)) {
      throw new InvalidOptionError(
        `compact() applies to layout=segments; ${this.uri} uses layout=object, which is one object already`,
        { uri: this.rawUri, option: 'layout' },
      );
    }
    checkCompactOptions(this.rawUri, options);
    return this.#io.compact(options);
  }

  /**
   * `true` once this writer found that the server answers `NotImplemented` to
   * UploadPartCopy and switched to the streamed rewrite (object layout only).
   */
  get usesRewriteFallback(): boolean {
    return this.#io instanceof ObjectLayout && this.#io.usesRewriteFallback;
  }

  protected override openForAppend(): Promise<OpenResult> {
    return this.#io.open();
  }

  protected override persist(data: string): Promise<void> {
    return this.#io.persist(Buffer.from(data, 'utf8'));
  }

  protected override async *readChunks(options: ReadOptions): AsyncGenerator<Chunk> {
    const client = this.#lease.acquire();
    try {
      yield* this.#io.readChunks(client, options.signal);
    } finally {
      this.#lease.done(client);
    }
  }

  /**
   * `true` once anything has been persisted: HeadObject (object layout) or a
   * listing of `<key>/` (segments).
   *
   * @throws {StoragePermissionError} for a missing permission (a 403 on a
   *   missing object means the credentials lack `s3:ListBucket`).
   * @throws {StorageUnavailableError} when the endpoint cannot be reached.
   * @throws {StorageError} for a missing bucket.
   */
  override async exists(): Promise<boolean> {
    const client = this.#lease.acquire();
    try {
      return await this.#io.exists(client);
    } finally {
      this.#lease.done(client);
    }
  }

  protected override async release(): Promise<void> {
    if (this.#io instanceof SegmentsLayout) await this.#io.settle();
    this.#lease.release();
  }
}

/** Checks the options of one `compact()` call. @throws {InvalidOptionError} */
function checkCompactOptions(uri: string, options: CompactOptions): void {
  const bad = (name: string, why: string): InvalidOptionError =>
    new InvalidOptionError(`compact() option ${name} ${why}`, { uri, option: name });
  const known = new Set(['targetBytes', 'graceMs', 'takeover', 'signal']);
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw bad(name, `is unknown (known: ${[...known].join(', ')})`);
  }
  const { targetBytes, graceMs } = options;
  if (targetBytes !== undefined && (!Number.isSafeInteger(targetBytes) || targetBytes < 1024)) {
    throw bad('targetBytes', `must be an integer of at least 1024, got ${String(targetBytes)}`);
  }
  if (graceMs !== undefined && (!Number.isSafeInteger(graceMs) || graceMs < 0)) {
    throw bad('graceMs', `must be an integer of at least 0, got ${String(graceMs)}`);
  }
}
