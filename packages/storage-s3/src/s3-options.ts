import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import {
  BUFFERED_OPTIONS,
  type BufferedStorageOptions,
  defineOptions,
  InvalidOptionError,
  InvalidUriError,
  queryPairs,
  redactUri,
} from '@yoink/storage-core';
import { buildClientConfig } from './client-config.js';
import { MAX_PART_BYTES, MIN_PART_BYTES } from './s3-context.js';
import type { ParsedS3Uri } from './uri.js';

/** How a checkpoint is laid out in the bucket: one object, or one object per flush. */
export type S3Layout = 'object' | 'segments';

/** Whether writes carry conditional headers (and a custom endpoint is checked to enforce them). */
export type S3ConditionalWrites = 'on' | 'off';

/**
 * Options of {@link S3Storage}. `region`, `endpoint`, `forcePathStyle`,
 * `layout` and `conditionalWrites` may also be given as URI query parameters
 * (`?layout=segments`); giving one in both places with different values is an
 * `InvalidOptionError`.
 */
export interface S3StorageOptions extends BufferedStorageOptions {
  /**
   * Your own `S3Client`. It is used as is (`region`, `endpoint`,
   * `forcePathStyle`, `clientConfig`, `maxAttempts`, `requestTimeoutMs` and
   * `connectionTimeoutMs` must then be left out) and never destroyed by `close()`.
   */
  client?: S3Client;
  /**
   * Settings for the `S3Client` this storage creates. They win over the other
   * options and the defaults (with a custom endpoint, checksums default to
   * `'WHEN_REQUIRED'`; the request handler gets the timeouts below).
   */
  clientConfig?: S3ClientConfig;
  /** `'object'` (default): one plain JSONL object. `'segments'`: one object per flush under `<key>/`. */
  layout?: S3Layout;
  /** AWS region. Default: the SDK's chain; `us-east-1` with a custom endpoint. */
  region?: string;
  /** Custom endpoint (MinIO, R2, Ceph…): `http(s)://host[:port]`. */
  endpoint?: string;
  /** Path-style addressing (MinIO, IP endpoints). Default `false`. */
  forcePathStyle?: boolean;
  /** Attempts per S3 request, retries included (the SDK retries throttling, 5xx and timeouts). SDK default: 3. */
  maxAttempts?: number;
  /**
   * A request that sends and receives nothing for this long fails with
   * `StorageUnavailableError` (after the SDK's retries, see `maxAttempts`),
   * so an endpoint that stops answering without closing the connection
   * cannot make a flush or a read wait forever. An idle timeout: a big
   * upload or download that keeps moving is never cut short. Default 30,000.
   */
  requestTimeoutMs?: number;
  /** Connecting to the endpoint may take this long, per attempt. Default 5,000. */
  connectionTimeoutMs?: number;
  /** Part size of the streamed rewrite used when the server lacks UploadPartCopy. Default 8 MiB; 5 MiB to 5 GiB. */
  partSizeBytes?: number;
  /**
   * Largest range one UploadPartCopy copies. Default 5 GiB (S3's limit); at
   * least 10 MiB, so balanced ranges stay above the 5 MiB part minimum.
   */
  copyPartSizeBytes?: number;
  /**
   * `'on'` (default): every write carries `If-None-Match: *` / `If-Match`, so a
   * second writer gets `ConcurrentWriterError` instead of silently overwriting;
   * on a custom endpoint, a first writer checks once per process (per endpoint
   * and bucket) that the server enforces them, and refuses with
   * `ConditionalWritesUnsupportedError` if not. `'off'`: no conditional header
   * is sent and nothing is checked (for servers such as Backblaze B2 or
   * s3rver); making sure one process writes a checkpoint is then up to you.
   */
  conditionalWrites?: S3ConditionalWrites;
  /**
   * Segments (`layout: 'segments'`) or ranges of a big object a `read()`
   * fetches ahead of the one it yields, in flight or waiting their turn.
   * Default 16; 1 to 256 (1: one GET at a time).
   */
  readConcurrency?: number;
  /**
   * Bytes a `read()` may fetch ahead of the line it is yielding (segments or
   * ranges in flight or waiting their turn). Default 64 MiB. A segment larger
   * than this is streamed alone.
   */
  readAheadBytes?: number;
  /**
   * An object (`layout: 'object'`) of at least this many bytes is read with
   * parallel ranged GETs, each conditional on the ETag seen first. Default 64 MiB.
   */
  parallelReadThresholdBytes?: number;
  /**
   * Size of each ranged GET of such an object, and of a merged segments
   * object (`layout: 'segments'`, after compaction). Default 8 MiB; at least 64 KiB.
   */
  readRangeBytes?: number;
  /**
   * `layout: 'segments'` only. Once this writer has put this many segments
   * (since it opened or last compacted), it compacts in the background (see
   * `S3Storage.compact()`): the checkpoint then stays at about its size /
   * `compactTargetBytes` objects plus the recent flushes. A failed
   * background compaction is reported once as a process warning
   * (`YOINK_S3_COMPACTION`) and never fails a flush. Default: never; at least 2.
   */
  compactAfterSegments?: number;
  /** Size merged objects aim for. Default 64 MiB; 1 KiB to 5 GiB. */
  compactTargetBytes?: number;
  /**
   * Originals a merged object replaces are deleted by a compaction once the
   * merged object is this old, so a read that listed them before can finish.
   * Default 600,000 (10 minutes); `0` deletes them in the same compaction.
   */
  compactGraceMs?: number;
}

const MiB = 1024 * 1024;

/**
 * Defaults of the read options. Exported for the benchmark runner
 * (`bench/src/implementation-constants.ts`), which states them in the report.
 *
 * @benchmarked
 */
export const READ_DEFAULTS = {
  concurrency: 16,
  aheadBytes: 64 * MiB,
  parallelThresholdBytes: 64 * MiB,
  rangeBytes: 8 * MiB,
} as const;

/**
 * Defaults of the compaction options. Exported for the benchmark runner
 * (`bench/src/implementation-constants.ts`), which states them in the report.
 *
 * @benchmarked
 */
export const COMPACTION_DEFAULTS = {
  targetBytes: 64 * MiB,
  graceMs: 10 * 60 * 1000,
} as const;

/** Default part size of the streamed rewrite: 8 MiB. */
const DEFAULT_PART_BYTES = 8 * MiB;

const size = (min: number, max?: number) =>
  ({ type: 'number', integer: true, min, ...(max === undefined ? {} : { max }) }) as const;

/** The option schema of S3Storage: for the constructor, `fromUri` and the CLI's `-o`. */
const S3_OPTIONS = defineOptions<S3StorageOptions>({
  ...BUFFERED_OPTIONS,
  client: { type: 'object' },
  clientConfig: { type: 'object' },
  layout: { type: 'enum', values: ['object', 'segments'], uri: true },
  region: { type: 'string', uri: true },
  endpoint: { type: 'string', uri: true },
  forcePathStyle: { type: 'boolean', uri: true },
  conditionalWrites: { type: 'enum', values: ['on', 'off'], uri: true },
  maxAttempts: size(1),
  requestTimeoutMs: size(1),
  connectionTimeoutMs: size(1),
  partSizeBytes: size(MIN_PART_BYTES, MAX_PART_BYTES),
  copyPartSizeBytes: size(2 * MIN_PART_BYTES, MAX_PART_BYTES),
  readConcurrency: size(1, 256),
  readAheadBytes: size(1),
  parallelReadThresholdBytes: size(1),
  readRangeBytes: size(64 * 1024, MAX_PART_BYTES),
  compactAfterSegments: { ...size(2), uri: true },
  compactTargetBytes: { ...size(1024, MAX_PART_BYTES), uri: true },
  compactGraceMs: { ...size(0), uri: true },
});

/** The options of one storage, checked and combined with its URI. */
export interface ResolvedOptions {
  readonly layout: S3Layout;
  /** The object key, or the segments' prefix without its trailing `/`. */
  readonly key: string;
  readonly conditionalWrites: S3ConditionalWrites;
  readonly partBytes: number;
  readonly copyPartBytes: number;
  readonly read: {
    readonly concurrency: number;
    readonly aheadBytes: number;
    readonly parallelThresholdBytes: number;
    readonly rangeBytes: number;
  };
  readonly compaction: {
    readonly afterSegments: number | undefined;
    readonly targetBytes: number;
    readonly graceMs: number;
  };
  /** The config of the client to create (unused with an injected client). */
  readonly clientConfig: S3ClientConfig;
  /** The options as given and checked (URI parameters merged in). */
  readonly options: S3StorageOptions;
}

/**
 * A value that S3 would refuse: an {@link InvalidOptionError} when it came
 * from the options, an {@link InvalidUriError} when it came from the URI.
 */
function badValue(
  uri: string,
  given: S3StorageOptions | undefined,
  name: keyof S3StorageOptions,
  why: string,
): Error {
  const safe = redactUri(uri);
  if (given?.[name] !== undefined) {
    return new InvalidOptionError(`Option ${name} of S3Storage ${why} (for ${safe}).`, {
      uri,
      option: name,
    });
  }
  return new InvalidUriError(`The query parameter ${name} in ${safe} ${why}.`, { uri });
}

/**
 * Checks `new S3Storage(uri, options)`'s options and URI query against the
 * schema, then S3's own rules, and applies the defaults.
 *
 * @throws {InvalidOptionError} for an unknown option (with "did you mean"), a
 *   value of the wrong type or out of range, an option that contradicts the
 *   URI, or connection settings next to an injected client.
 * @throws {InvalidUriError} for an unknown, repeated or bad query parameter,
 *   or an object key ending in `/`.
 */
export function resolveOptions(
  uri: string,
  parsed: ParsedS3Uri,
  given: S3StorageOptions | undefined,
): ResolvedOptions {
  const options = S3_OPTIONS.parse({
    uri,
    options: given,
    query: queryPairs(uri),
    backend: 'S3Storage',
  });
  const safe = redactUri(uri);
  if (options.region !== undefined && !/^[a-z0-9-]+$/.test(options.region)) {
    throw badValue(uri, given, 'region', `"${options.region}" is not a region name`);
  }
  if (options.endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(options.endpoint);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw badValue(uri, given, 'endpoint', 'must be an http:// or https:// URL');
    }
  }
  const layout = options.layout ?? 'object';
  if (layout === 'object' && parsed.key.endsWith('/')) {
    throw new InvalidUriError(
      `The key of ${safe} ends with "/": name an object (as in …/site-a.jsonl), or use layout=segments for a prefix`,
      { uri },
    );
  }
  if (layout === 'object') {
    const segmentsOnly = (
      ['compactAfterSegments', 'compactTargetBytes', 'compactGraceMs'] as const
    ).find((name) => options[name] !== undefined);
    if (segmentsOnly !== undefined) {
      throw new InvalidOptionError(
        `${segmentsOnly} applies to layout=segments only (for ${safe}): compaction merges segments. Add layout=segments, or leave ${segmentsOnly} out`,
        { uri, option: segmentsOnly },
      );
    }
  }
  if (options.client) {
    const conflicting = (
      [
        'region',
        'endpoint',
        'forcePathStyle',
        'clientConfig',
        'maxAttempts',
        'requestTimeoutMs',
        'connectionTimeoutMs',
      ] as const
    ).filter((name) => options[name] !== undefined);
    if (conflicting.length > 0) {
      throw new InvalidOptionError(
        `${conflicting.join(', ')} cannot apply to a client you pass in (for ${safe}): configure your S3Client instead, or leave out client`,
        { uri, option: 'client' },
      );
    }
  }
  return {
    layout,
    key: layout === 'segments' ? parsed.key.replace(/\/+$/, '') : parsed.key,
    conditionalWrites: options.conditionalWrites ?? 'on',
    partBytes: options.partSizeBytes ?? DEFAULT_PART_BYTES,
    copyPartBytes: options.copyPartSizeBytes ?? MAX_PART_BYTES,
    read: {
      concurrency: options.readConcurrency ?? READ_DEFAULTS.concurrency,
      aheadBytes: options.readAheadBytes ?? READ_DEFAULTS.aheadBytes,
      parallelThresholdBytes:
        options.parallelReadThresholdBytes ?? READ_DEFAULTS.parallelThresholdBytes,
      rangeBytes: options.readRangeBytes ?? READ_DEFAULTS.rangeBytes,
    },
    compaction: {
      afterSegments: options.compactAfterSegments,
      targetBytes: options.compactTargetBytes ?? COMPACTION_DEFAULTS.targetBytes,
      graceMs: options.compactGraceMs ?? COMPACTION_DEFAULTS.graceMs,
    },
    clientConfig: buildClientConfig(
      {
        region: options.region,
        endpoint: options.endpoint,
        forcePathStyle: options.forcePathStyle,
        maxAttempts: options.maxAttempts,
        requestTimeoutMs: options.requestTimeoutMs,
        connectionTimeoutMs: options.connectionTimeoutMs,
      },
      options.clientConfig,
    ),
    options,
  };
}
