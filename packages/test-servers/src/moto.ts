import { freePort } from '@yoink/storage-testkit';
import { answersHttp } from './answers-http.js';
import { spawnServer, stopChild } from './children.js';
import { type S3TestServer, type S3TestServerOptions, s3TestServer } from './s3-test-server.js';
import { waitUntil } from './wait-until.js';

const MOTO_INSTALL_HINT =
  "Install it with: pip install 'moto[server]' (it provides the moto_server command), " +
  'or set MOTO_SERVER to its path.';

/**
 * Starts moto's S3 server (`moto_server -H 127.0.0.1 -p <port>`) as a child
 * process on a free port, and waits until it answers HTTP. The command is
 * `$MOTO_SERVER` when set, else `moto_server` from `PATH`. State lives in
 * the process and is gone after `stop()`; the child is killed when this
 * process exits.
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
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server = spawnServer(command, ['-H', '127.0.0.1', '-p', String(port)], {
    name: 'moto_server',
    installHint: MOTO_INSTALL_HINT,
  });
  try {
    await waitUntil(`moto_server on ${endpoint}`, () => answersHttp(`${endpoint}/`), {
      timeoutMs: options.startTimeoutMs ?? 30_000,
      failed: server.failure,
    });
  } catch (e) {
    await stopChild(server.child);
    throw new Error(
      server.spawnError()?.code === 'ENOENT'
        ? (server.failure() ?? (e as Error).message)
        : `${(e as Error).message}. ${MOTO_INSTALL_HINT}`,
      { cause: e },
    );
  }
  return s3TestServer('moto', port, () => stopChild(server.child), options.buckets);
}
