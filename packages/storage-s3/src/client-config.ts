import type { S3ClientConfig } from '@aws-sdk/client-s3';

/** The connection settings an `s3://` URI or the options can carry. */
export interface ConnectionSettings {
  region?: string | undefined;
  endpoint?: string | undefined;
  forcePathStyle?: boolean | undefined;
  maxAttempts?: number | undefined;
  /** A request that sends and receives nothing for this long fails (socket idle timeout). */
  requestTimeoutMs?: number | undefined;
  /** Connecting to the endpoint may take this long. */
  connectionTimeoutMs?: number | undefined;
}

/** Default of `requestTimeoutMs`: 30 s without a byte either way. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Default of `connectionTimeoutMs`: 5 s to connect. */
const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;

/**
 * Builds the `S3ClientConfig` for a client this backend creates itself.
 *
 * - `region`, `endpoint`, `forcePathStyle` and `maxAttempts` come from the URI
 *   and options; credentials from the SDK's default chain.
 * - The request handler gets timeouts (the SDK sets none, so a server that
 *   stops answering without closing the connection would make a request wait
 *   forever): `connectionTimeout` from `connectionTimeoutMs`, and
 *   `socketTimeout` from `requestTimeoutMs`, an idle timeout, so that a large
 *   upload or download that keeps moving is never cut short. A timed-out
 *   request is retried by the SDK up to `maxAttempts`. Passed as handler
 *   options, not a handler instance, so every client gets its own handler.
 * - With a custom `endpoint` (MinIO, R2, Ceph, s3rver, moto…), the region
 *   defaults to `us-east-1` and both `requestChecksumCalculation` and
 *   `responseChecksumValidation` default to `'WHEN_REQUIRED'`: recent SDKs
 *   otherwise send aws-chunked bodies with CRC trailers on every upload, which
 *   many S3-compatible servers reject or store wrongly.
 * - Anything in `clientConfig` wins over these defaults.
 *
 * @example
 * ```ts
 * buildClientConfig({ endpoint: 'http://localhost:9000', forcePathStyle: true });
 * // { region: 'us-east-1', endpoint: …, forcePathStyle: true,
 * //   requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
 * ```
 */
export function buildClientConfig(
  settings: ConnectionSettings,
  clientConfig: S3ClientConfig = {},
): S3ClientConfig {
  const config: S3ClientConfig = {};
  if (settings.region !== undefined) config.region = settings.region;
  if (settings.endpoint !== undefined) {
    config.endpoint = settings.endpoint;
    config.region ??= 'us-east-1';
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  if (settings.forcePathStyle !== undefined) config.forcePathStyle = settings.forcePathStyle;
  if (settings.maxAttempts !== undefined) config.maxAttempts = settings.maxAttempts;
  config.requestHandler = {
    connectionTimeout: settings.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    socketTimeout: settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
  const merged: S3ClientConfig = { ...config, ...clientConfig };
  // An endpoint given only in clientConfig is a custom endpoint too.
  if (settings.endpoint === undefined && clientConfig.endpoint !== undefined) {
    merged.requestChecksumCalculation ??= 'WHEN_REQUIRED';
    merged.responseChecksumValidation ??= 'WHEN_REQUIRED';
    merged.region ??= 'us-east-1';
  }
  return merged;
}
