import { S3Client } from '@aws-sdk/client-s3';
import {
  BufferedStorage,
  type Chunk,
  checkUri,
  type OpenResult,
  type ReadOptions,
} from '@yoink/storage-core';
import { ClientLease } from './client-lease.js';
import { ObjectLayout } from './object-layout.js';
import { newWriterToken } from './own-write.js';
import type { Layout, S3Context } from './s3-context.js';
import { resolveOptions, type S3Layout, type S3StorageOptions } from './s3-options.js';
import { SegmentsLayout } from './segments-layout.js';
import { parseS3Uri } from './uri.js';

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
        ? new SegmentsLayout(ctx, this.key)
        : new ObjectLayout(ctx, this.key);
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
    this.#lease.release();
  }
}
