import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import {
  type BufferedStorageOptions,
  InvalidOptionError,
  InvalidUriError,
} from '@yoink/storage-core';
import { buildClientConfig } from './client-config.js';
import { MAX_PART_BYTES, MIN_PART_BYTES } from './s3-context.js';
import type { ParsedS3Uri, S3ConditionalWrites, S3Layout } from './uri.js';

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
  /** Part size of the streamed rewrite used when the server lacks UploadPartCopy. Default 8 MiB; at least 5 MiB. */
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
   * Same as `?conditionalWrites=off` in the URI.
   */
  conditionalWrites?: S3ConditionalWrites;
}

/** Default part size of the streamed rewrite: 8 MiB. */
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

function conditionalWritesOf(
  uri: string,
  parsed: ParsedS3Uri,
  option: S3ConditionalWrites | undefined,
): S3ConditionalWrites {
  if (option !== undefined && option !== 'on' && option !== 'off') {
    throw new InvalidOptionError(
      `conditionalWrites must be 'on' or 'off', got ${JSON.stringify(option)} (for ${uri})`,
      { uri },
    );
  }
  if (
    option !== undefined &&
    parsed.conditionalWrites !== undefined &&
    option !== parsed.conditionalWrites
  ) {
    throw new InvalidOptionError(
      `conditionalWrites is '${option}' in the options but '${parsed.conditionalWrites}' in ${uri}: give it once`,
      { uri },
    );
  }
  return option ?? parsed.conditionalWrites ?? 'on';
}

/** The options of one storage, checked and combined with its URI. */
export interface ResolvedOptions {
  readonly layout: S3Layout;
  /** The object key, or the segments' prefix without its trailing `/`. */
  readonly key: string;
  readonly conditionalWrites: S3ConditionalWrites;
  readonly partBytes: number;
  readonly copyPartBytes: number;
  /** The config of the client to create (unused with an injected client). */
  readonly clientConfig: S3ClientConfig;
}

/**
 * Checks the options of `new S3Storage(uri, options)` against each other and
 * the URI, and applies the defaults.
 *
 * @throws {InvalidUriError} for a bad layout, an object key ending in `/`, a
 *   bad `maxAttempts` or part size, or connection settings next to a client.
 * @throws {InvalidOptionError} for a bad `conditionalWrites`, or one that
 *   contradicts the URI's.
 */
export function resolveOptions(
  uri: string,
  parsed: ParsedS3Uri,
  options: S3StorageOptions,
): ResolvedOptions {
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
      options.requestTimeoutMs !== undefined && 'requestTimeoutMs',
      options.connectionTimeoutMs !== undefined && 'connectionTimeoutMs',
    ].filter((x): x is string => typeof x === 'string');
    if (conflicting.length > 0) {
      throw new InvalidUriError(
        `${conflicting.join(', ')} cannot apply to a client you pass in (for ${uri}): configure your S3Client instead, or leave out client`,
        { uri },
      );
    }
  }
  return {
    layout,
    key: layout === 'segments' ? parsed.key.replace(/\/+$/, '') : parsed.key,
    conditionalWrites: conditionalWritesOf(uri, parsed, options.conditionalWrites),
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
    clientConfig: buildClientConfig(
      {
        region: parsed.region,
        endpoint: parsed.endpoint,
        forcePathStyle: parsed.forcePathStyle,
        maxAttempts: options.maxAttempts,
        requestTimeoutMs: options.requestTimeoutMs,
        connectionTimeoutMs: options.connectionTimeoutMs,
      },
      options.clientConfig,
    ),
  };
}
