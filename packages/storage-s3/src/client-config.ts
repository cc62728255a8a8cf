import type { S3ClientConfig } from '@aws-sdk/client-s3';

/** The connection settings an `s3://` URI or the options can carry. */
export interface ConnectionSettings {
  region?: string | undefined;
  endpoint?: string | undefined;
  forcePathStyle?: boolean | undefined;
  maxAttempts?: number | undefined;
}

/**
 * Builds the `S3ClientConfig` for a client this backend creates itself.
 *
 * - `region`, `endpoint`, `forcePathStyle` and `maxAttempts` come from the URI
 *   and options; credentials from the SDK's default chain.
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
  const merged: S3ClientConfig = { ...config, ...clientConfig };
  // An endpoint given only in clientConfig is a custom endpoint too.
  if (settings.endpoint === undefined && clientConfig.endpoint !== undefined) {
    merged.requestChecksumCalculation ??= 'WHEN_REQUIRED';
    merged.responseChecksumValidation ??= 'WHEN_REQUIRED';
    merged.region ??= 'us-east-1';
  }
  return merged;
}
