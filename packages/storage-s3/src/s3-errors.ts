import { ConcurrentWriterError, describeCause, StorageError } from '@yoink/storage-core';

/** The S3 operations this backend calls, for messages and permissions. */
export type S3Operation =
  | 'HeadObject'
  | 'GetObject'
  | 'PutObject'
  | 'ListObjectsV2'
  | 'CreateMultipartUpload'
  | 'UploadPartCopy'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload';

/** The IAM permission each operation needs. */
export const PERMISSION_OF: Readonly<Record<S3Operation, string>> = {
  HeadObject: 's3:GetObject',
  GetObject: 's3:GetObject',
  PutObject: 's3:PutObject',
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
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $retryable?: unknown;
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

/** `true` when the server does not implement the operation (501). */
export function isNotImplemented(e: unknown): boolean {
  return codeOf(e) === 'NotImplemented' || statusOf(e) === 501;
}

/** Where an error happened, for its message. */
export interface ErrorContext {
  /** The checkpoint URI. */
  uri: string;
  bucket: string;
  /** The object key the operation touched (or the prefix it listed). */
  key: string;
  operation: S3Operation;
  /** Set when a `flush()` failed: the message then says the data is kept. */
  flushing?: boolean;
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
    { uri: ctx.uri, cause },
  );
}

/** The bucket does not exist: a {@link StorageError} that names it and says what to check. */
export function missingBucket(ctx: ErrorContext, cause: unknown): StorageError {
  return new StorageError(
    `The bucket "${ctx.bucket}" does not exist (${ctx.operation} on ${ctx.uri}). ` +
      `Create it, or check the bucket name, the region and the endpoint.${kept(ctx)}`,
    { uri: ctx.uri, cause },
  );
}

/**
 * Turns an SDK error into a {@link StorageError} whose message says what
 * happened, to which URI, and what to do: a missing bucket, a missing
 * permission (naming it), throttling or a 5xx after the SDK's retries, or
 * anything else with the S3 error code.
 */
export function toStorageError(e: unknown, ctx: ErrorContext): StorageError {
  if (StorageError.isInstance(e)) return e;
  const code = codeOf(e);
  const status = statusOf(e);
  const where = `s3://${ctx.bucket}/${ctx.key}`;
  if (code === 'NoSuchBucket') return missingBucket(ctx, e);
  if (code === 'AccessDenied' || code === 'Forbidden' || status === 403) {
    return new StorageError(
      `Access denied: ${ctx.operation} on ${where} needs the ${PERMISSION_OF[ctx.operation]} permission ` +
        `(for ${ctx.uri}). Grant it to the credentials in use.${kept(ctx)}`,
      { uri: ctx.uri, cause: e },
    );
  }
  if (
    code === 'InvalidAccessKeyId' ||
    code === 'SignatureDoesNotMatch' ||
    code === 'ExpiredToken'
  ) {
    return new StorageError(
      `S3 rejected the credentials (${code}) for ${ctx.operation} on ${ctx.uri}. ` +
        `Check the SDK's credential chain (environment, profile, role).${kept(ctx)}`,
      { uri: ctx.uri, cause: e },
    );
  }
  const attempts = shape(e).$metadata?.attempts;
  const transient =
    (status !== undefined && status >= 500) ||
    status === 429 ||
    /throttl|slowdown|toomanyrequests|requesttimeout/i.test(code ?? '');
  if (transient) {
    return new StorageError(
      `S3 ${ctx.operation} on ${where} failed${attempts ? ` after ${attempts} attempts` : ''} ` +
        `(${status ?? '?'} ${code ?? ''}: ${describeCause(e)}), for ${ctx.uri}. ` +
        `The server is throttling or failing; raise maxAttempts or try later.${kept(ctx)}`,
      { uri: ctx.uri, cause: e },
    );
  }
  if (/region is missing/i.test(describeCause(e))) {
    return new StorageError(
      `No AWS region is configured for ${ctx.uri}. Add ?region=… to the URI, set AWS_REGION, ` +
        'or pass clientConfig.region.',
      { uri: ctx.uri, cause: e },
    );
  }
  return new StorageError(
    `S3 ${ctx.operation} on ${where} failed (${status ?? 'no status'} ${code ?? ''}: ${describeCause(e)}), ` +
      `for ${ctx.uri}.${kept(ctx)}`,
    { uri: ctx.uri, cause: e },
  );
}
