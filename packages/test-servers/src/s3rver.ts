import crypto from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type S3TestServer, type S3TestServerOptions, s3TestServer } from './s3-test-server.js';
import { waitUntil } from './wait-until.js';

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

/** Resolves once the file at `path` has `size` bytes (bounded: 30 s). */
function landed(what: string, path: string, size: number): Promise<true> {
  return waitUntil(what, async () => (await sizeOf(path)) === size, {
    timeoutMs: 30_000,
    intervalMs: 5,
    maxIntervalMs: 5,
  });
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
    await landed(`s3rver to write ${object.key}`, path, result.size);
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
    await landed(`s3rver to write part ${partNumber}`, path, result.size);
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
  const stop = async (): Promise<void> => {
    await server.close().catch(() => {});
    await rm(directory, { recursive: true, force: true });
  };
  return s3TestServer('s3rver', port, stop, options.buckets);
}
