import type { S3Client } from '@aws-sdk/client-s3';
import type { S3TestServer } from '@yoink/test-servers/s3';
import { S3Storage, type S3StorageOptions } from '../src/index.js';

/** One request as seen by {@link recordCommands}. */
export interface RecordedCommand {
  name: string;
  input: Record<string, unknown>;
  /** Body bytes sent (PutObject, UploadPart). */
  bytesUp: number;
  /** Body bytes announced by the reply (GetObject's ContentLength). */
  bytesDown: number;
}

function bodyLength(body: unknown): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return 0;
}

/** Records every command `client` sends (name, input, body sizes), in order. */
export function recordCommands(client: S3Client): RecordedCommand[] {
  const log: RecordedCommand[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const entry: RecordedCommand = {
        name: String(context.commandName).replace(/Command$/, ''),
        input,
        bytesUp: bodyLength(input.Body),
        bytesDown: 0,
      };
      log.push(entry);
      const out = await next(args);
      if (entry.name === 'GetObject') {
        entry.bytesDown = Number((out.output as { ContentLength?: number }).ContentLength ?? 0);
      }
      return out;
    },
    { step: 'initialize', name: 'yoinkRecordCommands' },
  );
  return log;
}

/** Makes the next command that would write something fail once, before it is sent. */
export function failNextWrite(client: S3Client): void {
  const name = 'yoinkFailNextWrite';
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (/^(PutObject|CreateMultipartUpload)Command$/.test(String(context.commandName))) {
        client.middlewareStack.remove(name);
        throw new Error('injected failure (test)');
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
}

/** The URI of `key` on `server`, with `params` added to its query. */
export function uriOn(
  server: S3TestServer,
  bucket: string,
  key: string,
  params: Record<string, string> = {},
): string {
  const query = new URLSearchParams({
    endpoint: server.endpoint,
    forcePathStyle: 'true',
    ...params,
  });
  return `s3://${bucket}/${key}?${query.toString()}`;
}

/** An S3Storage on `server`, configured through the URI as a user would. */
export function storageOn(
  server: S3TestServer,
  bucket: string,
  key: string,
  options: S3StorageOptions = {},
  params: Record<string, string> = {},
): S3Storage {
  return new S3Storage(uriOn(server, bucket, key, params), {
    ...options,
    clientConfig: { credentials: server.clientConfig.credentials, ...options.clientConfig },
  });
}

/** The rejection of `p`, or `undefined` when it resolves. */
export async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}
