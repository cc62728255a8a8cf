import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import {
  BufferedStorage,
  type BufferedStorageOptions,
  type Chunk,
  InvalidUriError,
  type OpenResult,
} from '@yoink/storage-core';
import { buildClientConfig } from './client-config.js';
import { type Layout, MAX_PART_BYTES, MIN_PART_BYTES, type S3Context } from './layout.js';
import { ObjectLayout } from './object-layout.js';
import { SegmentsLayout } from './segments-layout.js';
import { parseS3Uri, type S3Layout } from './uri.js';

/** Options of {@link S3Storage}. */
export interface S3StorageOptions extends BufferedStorageOptions {
  /**
   * Your own `S3Client`. It is used as is (URI `region`/`endpoint`/
   * `forcePathStyle`, `clientConfig` and `maxAttempts` must then be left out)
   * and never destroyed by `close()`.
   */
  client?: S3Client;
  /**
   * Settings for the `S3Client` this storage creates. They win over the URI's
   * and over the defaults (see `buildClientConfig`: with a custom endpoint,
   * checksums default to `'WHEN_REQUIRED'`).
   */
  clientConfig?: S3ClientConfig;
  /** `'object'` (default): one plain JSONL object. `'segments'`: one object per flush under `<key>/`. Wins over the URI's `layout`. */
  layout?: S3Layout;
  /** Attempts per S3 request, retries included (the SDK retries throttling, 5xx and timeouts). SDK default: 3. */
  maxAttempts?: number;
  /** Part size of the streamed rewrite used when the server lacks UploadPartCopy. Default 8 MiB; at least 5 MiB. */
  partSizeBytes?: number;
  /**
   * Largest range one UploadPartCopy copies. Default 5 GiB (S3's limit); at
   * least 10 MiB, so balanced ranges stay above the 5 MiB part minimum.
   */
  copyPartSizeBytes?: number;
}

const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

function checkSize(
  uri: string,
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > MAX_PART_BYTES) {
    throw new InvalidUriError(
      `${name} must be an integer from ${min / 1024 / 1024} MiB to 5 GiB (S3's part limits), got ${String(value)}`,
      { uri },
    );
  }
  return value;
}

/**
 * A checkpoint in Amazon S3 or an S3-compatible store (MinIO, R2, Ceph…), at
 * `s3://bucket/key[?region=…&endpoint=…&forcePathStyle=true&layout=segments]`.
 *
 * Writes are buffered (core's {@link BufferedStorage}); a flush never
 * downloads the checkpoint and never silently overwrites another writer's
 * data: conditional writes that fail become `ConcurrentWriterError`, with the
 * data kept in the buffer.
 *
 * - `layout: 'object'` (default): one plain JSONL object. Under 5 MiB a flush
 *   re-puts the writer's own copy with `If-Match` (`If-None-Match: *` when
 *   creating); from 5 MiB on it appends server-side (multipart upload:
 *   UploadPartCopy of the object + UploadPart of the new bytes, completed with
 *   `If-Match`), falling back to a streamed rewrite on servers that lack
 *   UploadPartCopy.
 * - `layout: 'segments'`: each flush is a new object `<key>/000000000042.jsonl`,
 *   put with `If-None-Match: *`.
 *
 * Credentials come from the SDK's default chain.
 *
 * @throws {InvalidUriError} when created with a bad URI (bucket name, empty
 *   key, unknown query parameter) or conflicting options.
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
  readonly #ownsClient: boolean;
  readonly #io: Layout;

  constructor(uri: string, options: S3StorageOptions = {}) {
    const parsed = parseS3Uri(uri);
    super(uri, options);
    const layout = options.layout ?? parsed.layout ?? 'object';
    if (layout !== 'object' && layout !== 'segments') {
      throw new InvalidUriError(`layout must be "object" or "segments", got "${String(layout)}"`, {
        uri,
      });
    }
    if (layout === 'object' && parsed.key.endsWith('/')) {
      throw new InvalidUriError(
        `The key of ${uri} ends with "/": name an object (as in …/site-a.jsonl), or use layout=segments for a prefix`,
        { uri },
      );
    }
    if (
      options.maxAttempts !== undefined &&
      (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1)
    ) {
      throw new InvalidUriError(
        `maxAttempts must be a positive integer, got ${String(options.maxAttempts)}`,
        { uri },
      );
    }
    if (options.client) {
      const conflicting = [
        parsed.region !== undefined && 'region (URI)',
        parsed.endpoint !== undefined && 'endpoint (URI)',
        parsed.forcePathStyle !== undefined && 'forcePathStyle (URI)',
        options.clientConfig !== undefined && 'clientConfig',
        options.maxAttempts !== undefined && 'maxAttempts',
      ].filter((x): x is string => typeof x === 'string');
      if (conflicting.length > 0) {
        throw new InvalidUriError(
          `${conflicting.join(', ')} cannot apply to a client you pass in (for ${uri}): configure your S3Client instead, or leave out client`,
          { uri },
        );
      }
      this.client = options.client;
      this.#ownsClient = false;
    } else {
      this.client = new S3Client(
        buildClientConfig(
          {
            region: parsed.region,
            endpoint: parsed.endpoint,
            forcePathStyle: parsed.forcePathStyle,
            maxAttempts: options.maxAttempts,
          },
          options.clientConfig,
        ),
      );
      this.#ownsClient = true;
    }
    this.bucket = parsed.bucket;
    this.layout = layout;
    this.key = layout === 'segments' ? parsed.key.replace(/\/+$/, '') : parsed.key;
    const ctx: S3Context = {
      client: this.client,
      bucket: this.bucket,
      uri,
      partBytes: checkSize(
        uri,
        'partSizeBytes',
        options.partSizeBytes,
        DEFAULT_PART_BYTES,
        MIN_PART_BYTES,
      ),
      copyPartBytes: checkSize(
        uri,
        'copyPartSizeBytes',
        options.copyPartSizeBytes,
        MAX_PART_BYTES,
        2 * MIN_PART_BYTES,
      ),
    };
    this.#io =
      layout === 'segments' ? new SegmentsLayout(ctx, this.key) : new ObjectLayout(ctx, this.key);
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

  protected override readChunks(): AsyncIterable<Chunk> {
    return this.#io.readChunks();
  }

  /**
   * `true` once anything has been persisted: HeadObject (object layout) or a
   * listing of `<key>/` (segments).
   *
   * @throws {StorageError} for a missing bucket or a missing permission (a 403
   *   on a missing object means the credentials lack `s3:ListBucket`).
   */
  override exists(): Promise<boolean> {
    return this.#io.exists();
  }

  protected override async release(): Promise<void> {
    if (this.#ownsClient) this.client.destroy();
  }
}
