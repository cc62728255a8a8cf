import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/**
 * Client settings that reach a test server: pass them to `new S3Client()`
 * (or as `clientConfig` to `S3Storage`). Path-style addressing, region
 * `us-east-1`, static test credentials (s3rver's `S3RVER`/`S3RVER` pair, which
 * moto accepts too) and checksums only where required, since third-party
 * servers mishandle the SDK's default aws-chunked checksum trailers.
 */
export interface S3TestClientConfig {
  endpoint: string;
  region: string;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string };
  requestChecksumCalculation: 'WHEN_REQUIRED';
  responseChecksumValidation: 'WHEN_REQUIRED';
}

/** A running S3-compatible server for tests and benchmarks. */
export interface S3TestServer {
  /** Which server this is. */
  readonly kind: 's3rver' | 'moto';
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The TCP port it listens on. */
  readonly port: number;
  /** Settings for an `S3Client` that talks to it. */
  readonly clientConfig: S3TestClientConfig;
  /** Creates a bucket (names need 3+ characters). */
  createBucket(name: string): Promise<void>;
  /** Stops the server and removes its files. Safe to call twice. */
  stop(): Promise<void>;
}

/** Options of `startS3rver` and `startMoto`. */
export interface S3TestServerOptions {
  /** Buckets to create once the server is up. */
  buckets?: readonly string[];
  /** How long to wait for the server to start, in ms. Default 30,000. */
  startTimeoutMs?: number;
}

const TEST_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** The handle of a server listening at `http://127.0.0.1:<port>`, with `buckets` created. */
export async function s3TestServer(
  kind: S3TestServer['kind'],
  port: number,
  stop: () => Promise<void>,
  buckets: readonly string[] = [],
): Promise<S3TestServer> {
  const endpoint = `http://127.0.0.1:${port}`;
  const clientConfig: S3TestClientConfig = {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { ...TEST_CREDENTIALS },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  let stopped: Promise<void> | undefined;
  const handle: S3TestServer = {
    kind,
    endpoint,
    port,
    clientConfig,
    async createBucket(name) {
      const client = new S3Client(clientConfig);
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
    },
    stop() {
      stopped ??= stop();
      return stopped;
    },
  };
  for (const b of buckets) await handle.createBucket(b);
  return handle;
}
