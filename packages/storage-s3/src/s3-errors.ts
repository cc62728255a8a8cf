import {
  ConcurrentWriterError,
  ConditionalWritesUnsupportedError,
  describeCause,
  StorageError,
  StoragePermissionError,
  StorageUnavailableError,
} from '@yoink/storage-core';

/** The S3 operations this backend calls, for messages and permissions. */
export type S3Operation =
  | 'HeadObject'
  | 'GetObject'
  | 'PutObject'
  | 'DeleteObject'
  | 'ListObjectsV2'
  | 'CreateMultipartUpload'
  | 'UploadPartCopy'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload';

/** The IAM permission each operation needs. */
const PERMISSION_OF: Readonly<Record<S3Operation, string>> = {
  HeadObject: 's3:GetObject',
  GetObject: 's3:GetObject',
  PutObject: 's3:PutObject',
  DeleteObject: 's3:DeleteObject',
  ListObjectsV2: 's3:ListBucket',
  CreateMultipartUpload: 's3:PutObject',
  UploadPartCopy: 's3:GetObject and s3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
};

interface SdkErrorShape {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
  cause?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

function shape(e: unknown): SdkErrorShape {
  return typeof e === 'object' && e !== null ? (e as SdkErrorShape) : {};
}

/** The HTTP status of an SDK error, if it has one. */
export function statusOf(e: unknown): number | undefined {
  return shape(e).$metadata?.httpStatusCode;
}

/** The S3 error code (`NoSuchKey`, `PreconditionFailed`, …) of an SDK error. */
export function codeOf(e: unknown): string | undefined {
  const s = shape(e);
  return s.Code ?? s.name;
}

/** `true` for "this object does not exist" (not for a missing bucket). */
export function isNotFound(e: unknown): boolean {
  const code = codeOf(e);
  if (code === 'NoSuchBucket') return false;
  return code === 'NoSuchKey' || code === 'NotFound' || statusOf(e) === 404;
}

/** `true` for a failed `If-Match`/`If-None-Match` (412 PreconditionFailed). */
export function isPreconditionFailed(e: unknown): boolean {
  return codeOf(e) === 'PreconditionFailed' || statusOf(e) === 412;
}

/** `true` for 409 ConditionalRequestConflict (a concurrent conditional write). */
export function isConditionalConflict(e: unknown): boolean {
  return codeOf(e) === 'ConditionalRequestConflict' || statusOf(e) === 409;
}

/** `true` when the server does not implement the operation or a header of it (501). */
export function isNotImplemented(e: unknown): boolean {
  return codeOf(e) === 'NotImplemented' || statusOf(e) === 501;
}

// Socket-level failures: the request never got an answer.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
]);

/** The network error code (`ECONNREFUSED`, …) of `e`, its cause or an AggregateError's members. */
function networkCode(e: unknown, depth = 0): string | undefined {
  const s = shape(e);
  if (typeof s.code === 'string' && NETWORK_CODES.has(s.code)) return s.code;
  if (s.name === 'TimeoutError') return 'timeout';
  if (depth > 3) return undefined;
  for (const inner of [...(Array.isArray(s.errors) ? s.errors : []), s.cause]) {
    const code = inner === undefined ? undefined : networkCode(inner, depth + 1);
    if (code) return code;
  }
  return undefined;
}

/** Where an error happened, for its message. */
export interface ErrorContext {
  /** The checkpoint URI, credentials redacted: for messages. */
  uri: string;
  /** The checkpoint URI as given: for `{ uri }` (errors scrub it from their message and cause). */
  rawUri: string;
  bucket: string;
  /** The object key the operation touched (or the prefix it listed). */
  key: string;
  operation: S3Operation;
  /** Set when a `flush()` failed: the message then says the data is kept. */
  flushing?: boolean;
}

/** An {@link ErrorContext} for `operation` on `key` of the checkpoint at `where`. */
export function errorContext(
  where: { readonly uri: string; readonly rawUri: string; readonly bucket: string },
  key: string,
  operation: S3Operation,
  flushing = false,
): ErrorContext {
  return { uri: where.uri, rawUri: where.rawUri, bucket: where.bucket, key, operation, flushing };
}

function kept(ctx: ErrorContext): string {
  return ctx.flushing ? ' The data is kept in the buffer: flush() again to retry it.' : '';
}

/**
 * A {@link ConcurrentWriterError} for a failed precondition: another writer
 * changed the checkpoint since this instance last saw it.
 */
export function concurrentWriter(ctx: ErrorContext, cause: unknown): ConcurrentWriterError {
  return new ConcurrentWriterError(
    `Another writer changed s3://${ctx.bucket}/${ctx.key} since this writer opened it ` +
      `(${ctx.operation}: ${codeOf(cause) ?? 'conflict'}), for ${ctx.uri}. Nothing was overwritten; ` +
      'the data stays in this instance. Make sure one process writes this checkpoint, then open a new storage to continue.',
    { uri: ctx.rawUri, cause },
  );
}

/** The bucket does not exist: a {@link StorageError} that names it and says what to check. */
export function missingBucket(ctx: ErrorContext, cause: unknown): StorageError {
  return new StorageError(
    `The bucket "${ctx.bucket}" does not exist (${ctx.operation} on ${ctx.uri}). ` +
      `Create it, or check the bucket name, the region and the endpoint.${kept(ctx)}`,
    { uri: ctx.rawUri, cause },
  );
}

/** HeadObject answered 403: S3 does that for a missing object when s3:ListBucket is missing. */
export function headForbidden(ctx: ErrorContext, cause: unknown): StoragePermissionError {
  return new StoragePermissionError(
    `Access denied: HeadObject on s3://${ctx.bucket}/${ctx.key} answered 403 (for ${ctx.uri}). ` +
      'S3 answers 403 instead of 404 for a missing object when the credentials lack s3:ListBucket ' +
      `on arn:aws:s3:::${ctx.bucket}; grant s3:ListBucket (and s3:GetObject on the object).${kept(ctx)}`,
    { uri: ctx.rawUri, cause },
  );
}

/**
 * The endpoint does not enforce the conditional writes the layout relies on:
 * a {@link ConditionalWritesUnsupportedError} naming the endpoint, what it
 * does not enforce, and the opt-out.
 */
export function conditionsUnsupported(
  ctx: ErrorContext,
  endpoint: string,
  problems: readonly string[],
  cause?: unknown,
): ConditionalWritesUnsupportedError {
  return new ConditionalWritesUnsupportedError(
    `The S3 endpoint ${endpoint} does not enforce the conditional writes that keep a second writer ` +
      `from silently overwriting ${ctx.uri} (bucket "${ctx.bucket}"): ${problems.join('; ')}. ` +
      'Nothing of the checkpoint was written. Use a server that enforces If-None-Match and If-Match ' +
      '(Amazon S3, MinIO, Cloudflare R2, moto), or, if you make sure that only one process ever writes ' +
      "this checkpoint, opt out with ?conditionalWrites=off in the URI or { conditionalWrites: 'off' } in the options." +
      kept(ctx),
    { uri: ctx.rawUri, cause },
  );
}

/**
 * A segments checkpoint changed under a read: a compaction replaced objects
 * the read had listed (and deleted them after its grace period), so the read
 * cannot go on without a fresh listing. What it yielded so far is correct
 * and in order; `retryable` is `true`: read again (from the start).
 *
 * Branch on it with `SegmentsChangedError.isInstance(e)`, its code
 * `ERR_YOINK_SEGMENTS_CHANGED`, or `e.retryable`.
 */
export class SegmentsChangedError extends StorageError {
  static override readonly code: string = 'ERR_YOINK_SEGMENTS_CHANGED';
  override readonly retryable: boolean = true;
}

/** A piece listed a moment ago is gone: a compaction deleted it under the reader. */
export function segmentVanished(ctx: ErrorContext, cause: unknown): SegmentsChangedError {
  return new SegmentsChangedError(
    `${ctx.key} of ${ctx.uri} disappeared while reading: a compaction merged it into a larger object ` +
      'and deleted it (or something else deletes segments). Nothing wrong was yielded; read again from the start.',
    { uri: ctx.rawUri, cause },
  );
}

/** The listing has a hole where the read expected sequence `expected`. */
export function segmentsGap(
  ctx: ErrorContext,
  expected: number,
  next: string,
): SegmentsChangedError {
  return new SegmentsChangedError(
    `The segments of ${ctx.uri} have no object for sequence ${expected} (the next one is ${next}): ` +
      'a compaction replaced the segments this read had listed, or something deleted segments. ' +
      'Nothing wrong was yielded; read again from the start.',
    { uri: ctx.rawUri },
  );
}

/**
 * Compaction found the checkpoint's pieces with a hole that no read could
 * cross: something other than compaction deleted objects. Nothing was changed.
 */
export function compactionGap(ctx: ErrorContext, expected: number, next: string): StorageError {
  return new StorageError(
    `Cannot compact ${ctx.uri}: no object covers sequence ${expected} (the next one is ${next}), ` +
      'so something deleted objects of the checkpoint. Compaction changed nothing; check the bucket ' +
      '(versioning, lifecycle rules) before compacting again.',
    { uri: ctx.rawUri },
  );
}

/**
 * Another writer or compactor holds or changed the checkpoint during a
 * compaction: a {@link ConcurrentWriterError} that says what was found and
 * that nothing is lost.
 */
export function compactionConflict(
  ctx: ErrorContext,
  what: string,
  cause?: unknown,
): ConcurrentWriterError {
  return new ConcurrentWriterError(
    `Compaction of ${ctx.uri} stopped: ${what}. Nothing is lost: every object compaction wrote is a ` +
      'complete copy, and it deletes nothing another process may need. Compact with the writer stopped ' +
      '(or let the writer compact with compactAfterSegments), one compaction at a time.',
    { uri: ctx.rawUri, cause },
  );
}

/** DeleteObject was denied: compaction needs s3:DeleteObject to remove the merged originals. */
export function deleteDenied(
  ctx: ErrorContext,
  merged: number,
  cause: unknown,
): StoragePermissionError {
  return new StoragePermissionError(
    `Access denied: compaction of ${ctx.uri} needs the s3:DeleteObject permission to remove the objects ` +
      `it merged (DeleteObject on s3://${ctx.bucket}/${ctx.key} answered ${codeOf(cause) ?? '403'}). ` +
      `Nothing is lost: the checkpoint reads the same${merged > 0 ? `, and the ${merged} merged object(s) written are complete` : ''}; ` +
      "grant s3:DeleteObject on the checkpoint's prefix and compact again to remove the originals.",
    { uri: ctx.rawUri, cause },
  );
}

/**
 * The object changed between two ranged GETs of one read (its writer flushed,
 * or another process replaced it): nothing of the new version was yielded.
 */
export function objectChanged(ctx: ErrorContext, cause: unknown): StorageError {
  return new StorageError(
    `s3://${ctx.bucket}/${ctx.key} changed while it was being read in ranges (a flush by its writer, ` +
      `or another process), for ${ctx.uri}. What was yielded so far is from one version; read again ` +
      'to get the new one, or raise parallelReadThresholdBytes to read it as one stream.',
    { uri: ctx.rawUri, cause },
  );
}

/** The object layout cannot grow a single object past S3's 5 GiB PutObject limit without multipart. */
export function objectTooLarge(ctx: ErrorContext, bytes: number): StorageError {
  return new StorageError(
    `${ctx.uri} would grow to ${bytes} bytes, past the 5 GiB a single PutObject can write, and this ` +
      'endpoint does not enforce If-Match on CompleteMultipartUpload, so it cannot be appended to safely. ' +
      `Continue in a new checkpoint, or use layout=segments.${kept(ctx)}`,
    { uri: ctx.rawUri },
  );
}

/**
 * Turns an SDK error into the {@link StorageError} a program can branch on,
 * with a message that says what happened, to which URI, and what to do:
 *
 * - access denied (403) → {@link StoragePermissionError} naming the IAM
 *   permission; rejected credentials (InvalidAccessKeyId,
 *   SignatureDoesNotMatch, ExpiredToken…) → {@link StoragePermissionError};
 * - unreachable (ECONNREFUSED, ENOTFOUND, timeouts…), throttling and 5xx after
 *   the SDK's retries → {@link StorageUnavailableError} (`retryable: true`);
 * - a missing bucket, a missing region, anything else → {@link StorageError}
 *   with the S3 error code.
 */
export function toStorageError(e: unknown, ctx: ErrorContext): StorageError {
  if (StorageError.isInstance(e)) return e;
  const code = codeOf(e);
  const status = statusOf(e);
  const where = `s3://${ctx.bucket}/${ctx.key}`;
  const attempts = shape(e).$metadata?.attempts;
  const after = attempts ? ` after ${attempts} attempts` : '';
  if (code === 'NoSuchBucket') return missingBucket(ctx, e);
  if (
    code === 'InvalidAccessKeyId' ||
    code === 'SignatureDoesNotMatch' ||
    code === 'ExpiredToken' ||
    code === 'InvalidToken' ||
    code === 'TokenRefreshRequired'
  ) {
    return new StoragePermissionError(
      `S3 rejected the credentials (${code}) for ${ctx.operation} on ${ctx.uri}. ` +
        `Check the SDK's credential chain (environment, profile, role).${kept(ctx)}`,
      { uri: ctx.rawUri, cause: e },
    );
  }
  if (code === 'AccessDenied' || code === 'Forbidden' || status === 403) {
    return new StoragePermissionError(
      `Access denied: ${ctx.operation} on ${where} needs the ${PERMISSION_OF[ctx.operation]} permission ` +
        `(for ${ctx.uri}). Grant it to the credentials in use.${kept(ctx)}`,
      { uri: ctx.rawUri, cause: e },
    );
  }
  const network = networkCode(e);
  if (network === 'timeout') {
    return new StorageUnavailableError(
      `The S3 endpoint stopped answering ${ctx.operation} on ${where}${after} ` +
        `(timeout: ${describeCause(e)}), for ${ctx.uri}. Check that the endpoint is up and reachable, ` +
        `then try again (requestTimeoutMs and connectionTimeoutMs set how long a request may wait).${kept(ctx)}`,
      { uri: ctx.rawUri, cause: e },
    );
  }
  if (network) {
    return new StorageUnavailableError(
      `Could not reach the S3 endpoint for ${ctx.operation} on ${where}${after} ` +
        `(${network}: ${describeCause(e)}), for ${ctx.uri}. Check that the endpoint is up and reachable, ` +
        `then try again.${kept(ctx)}`,
      { uri: ctx.rawUri, cause: e },
    );
  }
  const transient =
    (status !== undefined && status >= 500 && status !== 501) ||
    status === 429 ||
    /throttl|slowdown|toomanyrequests|requesttimeout|serviceunavailable/i.test(code ?? '');
  if (transient) {
    return new StorageUnavailableError(
      `S3 ${ctx.operation} on ${where} failed${after} ` +
        `(${status ?? '?'} ${code ?? ''}: ${describeCause(e)}), for ${ctx.uri}. ` +
        `The server is throttling or failing; try again later, or raise maxAttempts.${kept(ctx)}`,
      { uri: ctx.rawUri, cause: e },
    );
  }
  if (/region is missing/i.test(describeCause(e))) {
    return new StorageError(
      `No AWS region is configured for ${ctx.uri}. Add ?region=… to the URI, set AWS_REGION, ` +
        'or pass clientConfig.region.',
      { uri: ctx.rawUri, cause: e },
    );
  }
  return new StorageError(
    `S3 ${ctx.operation} on ${where} failed (${status ?? 'no status'} ${code ?? ''}: ${describeCause(e)}), ` +
      `for ${ctx.uri}.${kept(ctx)}`,
    { uri: ctx.rawUri, cause: e },
  );
}
