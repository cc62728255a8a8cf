import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './free-port.js';

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

/** Options of {@link startS3rver} and {@link startMoto}. */
export interface S3TestServerOptions {
  /** Buckets to create once the server is up. */
  buckets?: readonly string[];
  /** How long to wait for the server to start, in ms. Default 30,000. */
  startTimeoutMs?: number;
}

const TEST_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

function clientConfigFor(endpoint: string): S3TestClientConfig {
  return {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { ...TEST_CREDENTIALS },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

async function createBucketOn(config: S3TestClientConfig, name: string): Promise<void> {
  const client = new S3Client(config);
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
}

/** Polls `check` until it returns true, or throws after `timeoutMs`. */
async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 5,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ---- s3rver -----------------------------------------------------------------

interface S3rverStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putObject(object: { bucket: string; key: string }): Promise<{ size: number; md5: string }>;
  putPart(
    bucket: string,
    uploadId: string,
    partNumber: string | number,
    content: unknown,
  ): Promise<{ size: number; md5: string }>;
}

interface S3rverInstance {
  store: S3rverStore;
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}

type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return -1;
  }
}

/**
 * s3rver answers PutObject/UploadPart once the body has been hashed, before the
 * file stream has finished writing it, so a read right after can see a short
 * file. Make its store wait until the file on disk has its full size.
 */
function waitForWritesToLand(store: S3rverStore): void {
  const putObject = store.putObject.bind(store);
  store.putObject = async (object) => {
    const result = await putObject(object);
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await waitUntil(
      `s3rver to write ${object.key}`,
      async () => (await sizeOf(path)) === result.size,
      30_000,
    );
    return result;
  };
  const putPart = store.putPart.bind(store);
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const result = await putPart(bucket, uploadId, partNumber, content);
    const path = join(
      store.getResourcePath(bucket, undefined, 'uploads'),
      uploadId,
      String(partNumber),
    );
    await waitUntil(
      `s3rver to write part ${partNumber}`,
      async () => (await sizeOf(path)) === result.size,
      30_000,
    );
    return result;
  };
}

let desShimmed = false;

/**
 * s3rver encrypts the continuation token of every truncated listing with
 * single DES, which OpenSSL 3 (Node 17 and later) only offers in its legacy
 * provider: without this, any ListObjectsV2 that does not return everything
 * (more than 1,000 keys, or `MaxKeys` smaller than the result) fails with
 * 500 InternalError. Triple DES with three equal keys is single DES, byte for
 * byte, and the default provider has it, so the fixture maps s3rver's 'des'
 * onto 'des-ede-cbc' with the key repeated. Only a call that would throw
 * `unsupported` is changed.
 */
function allowSingleDes(): void {
  if (desShimmed) return;
  desShimmed = true;
  const module = crypto as unknown as {
    createCipheriv: (...args: unknown[]) => unknown;
    createDecipheriv: (...args: unknown[]) => unknown;
  };
  for (const name of ['createCipheriv', 'createDecipheriv'] as const) {
    const original = module[name];
    module[name] = (algorithm: unknown, key: unknown, ...rest: unknown[]) => {
      if (algorithm === 'des' && Buffer.isBuffer(key) && key.length === 8) {
        return original.call(crypto, 'des-ede-cbc', Buffer.concat([key, key]), ...rest);
      }
      return original.call(crypto, algorithm, key, ...rest);
    };
  }
}

/**
 * Starts s3rver in this process on a free port of 127.0.0.1, storing objects in
 * a fresh temporary folder (removed by `stop()`).
 *
 * s3rver ignores `If-Match`/`If-None-Match` on writes and answers
 * `NotImplemented` to `UploadPartCopy`, so clients exercise their fallbacks
 * against it. The fixture makes its writes visible before it answers (s3rver
 * alone answers a little early), and lets its paginated listings work on
 * OpenSSL 3 (see {@link allowSingleDes}).
 *
 * @throws when s3rver cannot listen.
 *
 * @example
 * ```ts
 * const server = await startS3rver({ buckets: ['test-bucket'] });
 * const client = new S3Client(server.clientConfig);
 * // …
 * await server.stop();
 * ```
 */
export async function startS3rver(options: S3TestServerOptions = {}): Promise<S3TestServer> {
  const require = createRequire(import.meta.url);
  const S3rver = require('s3rver') as S3rverConstructor;
  allowSingleDes();
  const directory = await mkdtemp(join(tmpdir(), 'yoink-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    resetOnClose: false,
    vhostBuckets: false,
  });
  waitForWritesToLand(server.store);
  let port: number;
  try {
    ({ port } = await server.run());
  } catch (e) {
    await rm(directory, { recursive: true, force: true });
    throw new Error(`s3rver could not start: ${(e as Error).message}`, { cause: e });
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const clientConfig = clientConfigFor(endpoint);
  let stopped: Promise<void> | undefined;
  const handle: S3TestServer = {
    kind: 's3rver',
    endpoint,
    port,
    clientConfig,
    createBucket: (name) => createBucketOn(clientConfig, name),
    stop() {
      stopped ??= (async () => {
        await server.close().catch(() => {});
        await rm(directory, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  for (const b of options.buckets ?? []) await handle.createBucket(b);
  return handle;
}

// ---- moto -------------------------------------------------------------------

const MOTO_INSTALL_HINT =
  "Install it with: pip install 'moto[server]' (it provides the moto_server command), " +
  'or set MOTO_SERVER to its path.';

async function answersHttp(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts moto's S3 server (`moto_server -H 127.0.0.1 -p <port>`) as a child
 * process on a free port, and waits until it answers HTTP. The command is
 * `$MOTO_SERVER` when set, else `moto_server` from `PATH`. State lives in
 * the process and is gone after `stop()`.
 *
 * moto enforces `If-Match`/`If-None-Match` on PutObject and `If-None-Match` on
 * CompleteMultipartUpload, and implements UploadPartCopy (with the 5 MiB
 * minimum part size); it does not check `If-Match` on CompleteMultipartUpload.
 *
 * @throws an Error that names the install command when moto_server is missing
 *   or does not answer within `startTimeoutMs`.
 *
 * @example
 * ```ts
 * const moto = await startMoto({ buckets: ['test-bucket'] });
 * const client = new S3Client(moto.clientConfig);
 * // …
 * await moto.stop();
 * ```
 */
export async function startMoto(options: S3TestServerOptions = {}): Promise<S3TestServer> {
  const command = process.env.MOTO_SERVER || 'moto_server';
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    if (stderr.length < 8_000) stderr += s;
  });
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  try {
    await waitUntil(
      `moto_server on ${endpoint}`,
      async () => {
        if (spawnError) throw spawnError;
        if (child.exitCode !== null) {
          throw new Error(`moto_server exited with code ${child.exitCode}: ${stderr.trim()}`);
        }
        return answersHttp(endpoint);
      },
      timeoutMs,
      100,
    );
  } catch (e) {
    await stopChild(child);
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? `moto_server is not installed (could not run "${command}"). ${MOTO_INSTALL_HINT}`
        : `moto_server did not start on ${endpoint}: ${(e as Error).message}. ${MOTO_INSTALL_HINT}`,
      { cause: e },
    );
  }
  const clientConfig = clientConfigFor(endpoint);
  let stopped: Promise<void> | undefined;
  const handle: S3TestServer = {
    kind: 'moto',
    endpoint,
    port,
    clientConfig,
    createBucket: (name) => createBucketOn(clientConfig, name),
    stop() {
      stopped ??= stopChild(child);
      return stopped;
    },
  };
  for (const b of options.buckets ?? []) await handle.createBucket(b);
  return handle;
}
