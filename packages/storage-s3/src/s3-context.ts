import type { S3Client } from '@aws-sdk/client-s3';
import type { OpenResult } from '@yoink/storage-core';
import type { S3ConditionalWrites } from './s3-options.js';

/** What a layout needs to talk to S3: one per storage instance. */
export interface S3Context {
  readonly client: S3Client;
  /** `true` when the client was passed in by the user (the probe's cache is then per client). */
  readonly injectedClient: boolean;
  readonly bucket: string;
  /** The checkpoint URI, credentials redacted: for messages. */
  readonly uri: string;
  /** The checkpoint URI as given: only for `{ uri }` of errors (which scrub it from their message and cause). */
  readonly rawUri: string;
  /** Size of the parts of a streamed rewrite (≥ 5 MiB). */
  readonly partBytes: number;
  /** Largest range one UploadPartCopy copies (5 MiB – 5 GiB). */
  readonly copyPartBytes: number;
  /** `'off'`: no conditional header is sent and nothing is probed. */
  readonly conditionalWrites: S3ConditionalWrites;
  /** This instance's writer token, stored in the metadata of every object it writes. */
  readonly writerToken: string;
  /** How `read()` fetches ahead. */
  readonly read: ReadSettings;
}

/** How `read()` fetches ahead (see the read options of `S3StorageOptions`). */
interface ReadSettings {
  /** GETs in flight at most. */
  readonly concurrency: number;
  /** Bytes fetched ahead of the consumer at most. */
  readonly aheadBytes: number;
  /** An object of this size or more is read in parallel ranges. */
  readonly parallelThresholdBytes: number;
  /** The size of one range. */
  readonly rangeBytes: number;
}

/** The I/O of one layout; `S3Storage` delegates to it. */
export interface Layout {
  /** Verifies conditional writes (unless off), then learns the checkpoint's state. */
  open(): Promise<OpenResult>;
  persist(body: Buffer): Promise<void>;
  /**
   * The checkpoint's bytes in order, read with `client` (which may outlive or
   * replace `ctx.client`). `signal` aborts every request in flight.
   */
  readChunks(client: S3Client, signal: AbortSignal | undefined): AsyncIterable<Uint8Array>;
  exists(client: S3Client): Promise<boolean>;
}

/** The object as this writer last left it: its ETag (`undefined`: it does not exist) and size. */
export interface ObjectVersion {
  readonly etag: string | undefined;
  readonly size: number;
}

/** S3's minimum size of every multipart part but the last: 5 MiB. */
export const MIN_PART_BYTES: number = 5 * 1024 * 1024;
/** S3's maximum size of one part (and of one UploadPartCopy range, and of one PutObject): 5 GiB. */
export const MAX_PART_BYTES: number = 5 * 1024 * 1024 * 1024;

/** Content type of checkpoint objects. */
export const CONTENT_TYPE = 'application/x-ndjson';
