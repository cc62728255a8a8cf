import { randomUUID } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Context } from './s3-context.js';
import {
  conditionsUnsupported,
  errorContext,
  isConditionalConflict,
  isNotFound,
  isNotImplemented,
  isPreconditionFailed,
  type S3Operation,
  toStorageError,
} from './s3-errors.js';

/** What an endpoint does with one conditional header. */
type Enforcement = 'enforced' | 'ignored' | 'not-implemented';

/** The conditions the layouts rely on, as the endpoint treats them. */
export interface ConditionalSupport {
  /** `If-None-Match: *` on PutObject (both layouts: creating an object). */
  readonly createIfNoneMatch: Enforcement;
  /** `If-Match` on PutObject (object layout: re-putting a small object). */
  readonly putIfMatch: Enforcement;
  /**
   * `If-Match` on CompleteMultipartUpload (object layout past 5 MiB).
   * `undefined` when not checked (segments layout).
   */
  readonly completeIfMatch: Enforcement | undefined;
}

/** The suffix of the probe's throw-away objects: `<checkpoint key>.yoink-probe-<uuid>`. */
const PROBE_SUFFIX = '.yoink-probe-';

const TRUSTED: ConditionalSupport = {
  createIfNoneMatch: 'enforced',
  putIfMatch: 'enforced',
  completeIfMatch: 'enforced',
};

// An ETag no object has: If-Match with it must fail.
const NO_SUCH_ETAG = '"00000000000000000000000000000000"';
const PROBE_BODY = 'yoink storage: a conditional-write check, safe to delete\n';

type Check = 'put' | 'complete';
type PutVerdict = Pick<ConditionalSupport, 'createIfNoneMatch' | 'putIfMatch'>;

// Verdicts for the life of the process: per endpoint and bucket for clients we
// create, per client and bucket for injected ones. A probe that fails (rather
// than giving a verdict) is removed, so the next open checks again.
const byEndpoint = new Map<string, Promise<unknown>>();
const byClient = new WeakMap<S3Client, Map<string, Promise<unknown>>>();

function cached<T>(scope: Map<string, Promise<unknown>>, key: string, run: () => Promise<T>) {
  let p = scope.get(key) as Promise<T> | undefined;
  if (!p) {
    const started = run();
    p = started;
    scope.set(key, started);
    started.catch(() => {
      if (scope.get(key) === started) scope.delete(key);
    });
  }
  return p;
}

/** `protocol://host:port/path` of a client's custom endpoint (it carries no credentials). */
async function endpointOf(client: S3Client): Promise<string> {
  const e = await client.config.endpoint?.();
  if (!e) return 'the configured endpoint';
  return `${e.protocol}//${e.hostname}${e.port ? `:${e.port}` : ''}${e.path ?? ''}`;
}

/** How the endpoint answered one conditional request. */
async function outcome(
  ctx: S3Context,
  key: string,
  operation: S3Operation,
  send: () => Promise<unknown>,
): Promise<'passed' | 'refused' | 'not-implemented'> {
  try {
    await send();
    return 'passed';
  } catch (e) {
    // 404: If-Match on a missing key, as S3 answers it: the condition was checked.
    if (isPreconditionFailed(e) || isConditionalConflict(e) || isNotFound(e)) return 'refused';
    if (isNotImplemented(e)) return 'not-implemented';
    throw toStorageError(e, errorContext(ctx, key, operation));
  }
}

function enforcement(o: 'passed' | 'refused' | 'not-implemented'): Enforcement {
  return o === 'refused' ? 'enforced' : o === 'passed' ? 'ignored' : 'not-implemented';
}

async function bestEffort(send: () => Promise<unknown>): Promise<void> {
  try {
    await send();
  } catch {
    // Without s3:DeleteObject / s3:AbortMultipartUpload the probe object (a
    // few bytes) or upload stays; documented in the README.
  }
}

/** PutObject with `If-None-Match: *` twice (create, then must fail), then `If-Match` with a wrong ETag. */
async function probePut(ctx: S3Context, key: string): Promise<PutVerdict> {
  const { client, bucket } = ctx;
  const put = (condition: { IfNoneMatch?: string; IfMatch?: string }) => () =>
    client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: PROBE_BODY,
        ContentType: 'text/plain',
        ...condition,
      }),
    );
  try {
    const create = await outcome(ctx, key, 'PutObject', put({ IfNoneMatch: '*' }));
    if (create === 'not-implemented') {
      return { createIfNoneMatch: 'not-implemented', putIfMatch: 'not-implemented' };
    }
    const again = await outcome(ctx, key, 'PutObject', put({ IfNoneMatch: '*' }));
    const match = await outcome(ctx, key, 'PutObject', put({ IfMatch: NO_SUCH_ETAG }));
    return { createIfNoneMatch: enforcement(again), putIfMatch: enforcement(match) };
  } finally {
    await bestEffort(() => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
  }
}

/** A one-part multipart upload completed with `If-Match` and a wrong ETag: it must fail. */
async function probeComplete(ctx: S3Context, key: string): Promise<Enforcement> {
  const { client, bucket } = ctx;
  let uploadId: string | undefined;
  try {
    try {
      uploadId = (await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key })))
        .UploadId;
    } catch (e) {
      throw toStorageError(e, errorContext(ctx, key, 'CreateMultipartUpload'));
    }
    let etag: string | undefined;
    try {
      etag = (
        await client.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: 1,
            Body: PROBE_BODY,
          }),
        )
      ).ETag;
    } catch (e) {
      throw toStorageError(e, errorContext(ctx, key, 'UploadPart'));
    }
    const result = await outcome(ctx, key, 'CompleteMultipartUpload', () =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etag }] },
          IfMatch: NO_SUCH_ETAG,
        }),
      ),
    );
    if (result === 'passed') uploadId = undefined;
    return enforcement(result);
  } finally {
    const id = uploadId;
    if (id !== undefined) {
      await bestEffort(() =>
        client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id })),
      );
    }
    await bestEffort(() => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
  }
}

function problem(header: string, e: Enforcement): string | undefined {
  if (e === 'enforced') return undefined;
  return e === 'ignored'
    ? `it ignores ${header} (the write went through)`
    : `it answers NotImplemented to ${header}`;
}

/**
 * Makes sure the endpoint enforces the conditional writes a layout relies on,
 * before anything of the checkpoint is written.
 *
 * - Amazon S3 itself (a client without a custom endpoint) is trusted as is.
 * - Otherwise the endpoint is probed with throw-away objects named
 *   `<key>.yoink-probe-<uuid>` (deleted afterwards, best effort): three
 *   PutObjects, plus (object layout) CreateMultipartUpload, UploadPart,
 *   CompleteMultipartUpload and AbortMultipartUpload. The verdict is cached for
 *   the process, per endpoint and bucket (per client and bucket for an
 *   injected client); concurrent opens share one probe. A probe that fails
 *   (unreachable, denied) is not cached.
 *
 * @param key the checkpoint's key (object) or prefix (segments), to name the probe objects.
 * @param completeToo also check `If-Match` on CompleteMultipartUpload (object layout).
 * @returns what the endpoint enforces; `completeIfMatch` may be `'ignored'`,
 *   which the object layout works around (see `ObjectLayout`).
 * @throws {ConditionalWritesUnsupportedError} when `If-None-Match: *` on
 *   PutObject (and, with `completeToo`, `If-Match` on PutObject) is not enforced.
 * @throws {StorageError} typed by `toStorageError` when a probe request fails.
 */
export async function verifyConditionalWrites(
  ctx: S3Context,
  key: string,
  completeToo: boolean,
): Promise<ConditionalSupport> {
  const { client } = ctx;
  if (!client.config.isCustomEndpoint) return TRUSTED;
  const endpoint = await endpointOf(client);
  let scope: Map<string, Promise<unknown>>;
  let prefix: string;
  if (ctx.injectedClient) {
    scope = byClient.get(client) ?? new Map();
    byClient.set(client, scope);
    prefix = '';
  } else {
    scope = byEndpoint;
    prefix = `${endpoint}\n`;
  }
  const probeKey = () => `${key}${PROBE_SUFFIX}${randomUUID()}`;
  const check = (what: Check) => `${prefix}${ctx.bucket}\n${what}`;
  const put = await cached(scope, check('put'), () => probePut(ctx, probeKey()));
  const problems = [
    problem('If-None-Match: * on PutObject', put.createIfNoneMatch),
    completeToo ? problem('If-Match on PutObject', put.putIfMatch) : undefined,
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0) {
    throw conditionsUnsupported(errorContext(ctx, key, 'PutObject'), endpoint, problems);
  }
  const completeIfMatch = completeToo
    ? await cached(scope, check('complete'), () => probeComplete(ctx, probeKey()))
    : undefined;
  return { ...put, completeIfMatch };
}

/**
 * A {@link ConditionalWritesUnsupportedError} for a conditional write the
 * server answered with NotImplemented during a flush (a trusted endpoint, or
 * one that changed since the probe).
 */
export async function notImplementedDuringFlush(
  ctx: S3Context,
  key: string,
  operation: S3Operation,
  cause: unknown,
): Promise<Error> {
  const endpoint = ctx.client.config.isCustomEndpoint ? await endpointOf(ctx.client) : 'Amazon S3';
  return conditionsUnsupported(
    errorContext(ctx, key, operation, true),
    endpoint,
    [`it answers NotImplemented to a conditional ${operation}`],
    cause,
  );
}

/**
 * The condition header of a write to an object whose current ETag is `etag`
 * (`undefined`: it must not exist yet), or none when conditional writes are off.
 */
export function writeCondition(
  ctx: S3Context,
  etag: string | undefined,
): { IfMatch?: string; IfNoneMatch?: string } {
  if (ctx.conditionalWrites === 'off') return {};
  return etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag };
}

/** `If-Match` for a read or a copy source, or nothing when conditional writes are off. */
export function readCondition(ctx: S3Context, etag: string | undefined): string | undefined {
  return ctx.conditionalWrites === 'off' ? undefined : etag;
}
