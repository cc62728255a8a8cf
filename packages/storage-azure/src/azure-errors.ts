import {
  ConcurrentWriterError,
  describeCause,
  StorageError,
  StoragePermissionError,
  StorageUnavailableError,
} from '@yoink/storage-core';

/** The Blob service operations this backend calls, for messages. */
export type AzureOperation =
  | 'GetBlobProperties'
  | 'GetBlob'
  | 'PutBlob'
  | 'SetBlobMetadata'
  | 'AppendBlock';

/** What an error message needs to know about the storage that failed. */
export interface ErrorContext {
  /** The URI as given (core redacts it in every error). */
  readonly uri: string;
  /** The container. */
  readonly container: string;
  /** Secrets that are not in the URI (account key, SAS, connection string): masked in messages and causes. */
  readonly secrets: readonly string[];
}

/** Role and SAS permissions this backend needs, named in every permission error. */
const PERMISSIONS_NEEDED =
  'the Azure RBAC role "Storage Blob Data Contributor" on the container or the account (reading only: "Storage Blob Data Reader"), or a SAS with the read, add, create and write permissions (sp=racw)';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'REQUEST_SEND_ERROR',
]);

/** Error codes that mean "the service is busy or failing; later may work". */
const UNAVAILABLE_CODES = new Set(['ServerBusy', 'InternalError', 'OperationTimedOut']);

interface RestErrorShape {
  name?: string;
  code?: string;
  statusCode?: number;
  message?: string;
  details?: { errorCode?: string };
}

function shape(e: unknown): RestErrorShape {
  return typeof e === 'object' && e !== null ? (e as RestErrorShape) : {};
}

/**
 * The Blob service's error code (`BlobNotFound`, `AppendPositionConditionNotMet`,
 * …), or a network code (`ECONNREFUSED`). A HEAD request's error carries it in
 * `details.errorCode` only (its `code` is empty), hence the order.
 */
function errorCodeOf(e: unknown): string | undefined {
  const s = shape(e);
  return s.details?.errorCode ?? s.code;
}

/** The HTTP status of an SDK error, if the service answered. */
function statusOf(e: unknown): number | undefined {
  return shape(e).statusCode;
}

/** `true` for "this blob does not exist" (not for a missing container). */
export function isBlobNotFound(e: unknown): boolean {
  const code = errorCodeOf(e);
  return code === 'BlobNotFound' || (statusOf(e) === 404 && code === undefined);
}

/** `true` for a failed `x-ms-blob-condition-appendpos` (412 AppendPositionConditionNotMet). */
export function isAppendPositionConflict(e: unknown): boolean {
  return errorCodeOf(e) === 'AppendPositionConditionNotMet';
}

/**
 * `true` for a failed `If-Match` (412 ConditionNotMet): the blob's ETag is no
 * longer the one this writer last saw. Azure reports it before a failed
 * append position when both fail.
 */
export function isConditionNotMet(e: unknown): boolean {
  return errorCodeOf(e) === 'ConditionNotMet';
}

/** `true` for a create with `If-None-Match: *` on a blob that exists (409 BlobAlreadyExists). */
export function isBlobAlreadyExists(e: unknown): boolean {
  return errorCodeOf(e) === 'BlobAlreadyExists';
}

/** `true` for a range past the end (Azure answers 416 InvalidRange; Azurite 206 with 0 bytes). */
export function isInvalidRange(e: unknown): boolean {
  return statusOf(e) === 416 || errorCodeOf(e) === 'InvalidRange';
}

function mask(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s !== '' && out.includes(s)) out = out.split(s).join('***');
  return out;
}

/** Request headers that carry a credential (a SharedKey signature, a bearer token). */
const AUTH_HEADERS = ['authorization', 'x-ms-copy-source-authorization'];

interface HeadersLike {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
}

function isHeaders(x: unknown): x is HeadersLike {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as HeadersLike).get === 'function' &&
    typeof (x as HeadersLike).set === 'function'
  );
}

/**
 * Masks credentials in an SDK error and down its cause chain: `secrets`
 * (account key, SAS, connection string) in every string property, the
 * `Authorization` header of the request it carries (a bearer token or a
 * SharedKey signature) and any `sig=` in that request's URL. Core does the
 * same for the URI's own secrets.
 */
function scrubCause(cause: unknown, secrets: readonly string[]): void {
  const seen = new Set<unknown>();
  const queue: unknown[] = [cause];
  while (queue.length > 0 && seen.size < 40) {
    const c = queue.shift();
    if (typeof c !== 'object' || c === null || seen.has(c)) continue;
    seen.add(c);
    if (isHeaders(c)) {
      for (const h of AUTH_HEADERS) {
        try {
          if (c.get(h) !== undefined) c.set(h, 'REDACTED');
        } catch {
          // Read-only headers: leave them.
        }
      }
      continue;
    }
    for (const name of Object.getOwnPropertyNames(c)) {
      try {
        const value = (c as Record<string, unknown>)[name];
        if (typeof value === 'string') {
          let masked = mask(value, secrets);
          if (name === 'url') masked = masked.replace(/([?&]sig=)[^&#]*/gi, '$1***');
          if (masked !== value) (c as Record<string, unknown>)[name] = masked;
        } else if (
          name === 'cause' ||
          name === 'request' ||
          name === 'response' ||
          name === 'headers' ||
          name === 'details'
        ) {
          queue.push(value);
        }
      } catch {
        // A frozen or exotic object: leave that property.
      }
    }
  }
}

/** The first line of an SDK message (the rest is a request id and a time stamp). */
function firstLine(e: unknown): string {
  const text = describeCause(e).split('\n')[0]?.trim() ?? '';
  return text === '' ? '(no message)' : text;
}

/** "403 AuthorizationFailure", "ECONNREFUSED", … for messages. */
function describeFailure(e: unknown): string {
  const status = statusOf(e);
  const code = errorCodeOf(e);
  return [status, code].filter((x) => x !== undefined).join(' ') || firstLine(e);
}

/**
 * The one place this backend turns an SDK error into a typed storage error:
 *
 * - 403 → {@link StoragePermissionError}, naming the role and SAS permissions;
 * - unreachable endpoint, 500/503 (`ServerBusy`, `InternalError`,
 *   `OperationTimedOut`) after the SDK's retries → {@link StorageUnavailableError}
 *   (`retryable`);
 * - a missing container → {@link StorageError} naming the container and the fix;
 * - anything else → {@link StorageError} with the status and code.
 *
 * Secrets (account key, SAS, connection string) are masked in the message
 * and the cause.
 */
export function azureError(op: AzureOperation, ctx: ErrorContext, e: unknown): StorageError {
  scrubCause(e, ctx.secrets);
  const options = { uri: ctx.uri, cause: e };
  const status = statusOf(e);
  const code = errorCodeOf(e);
  // Secrets are masked in the text around the URI; core redacts the URI itself.
  const text = (template: string): string =>
    mask(template, ctx.secrets).split('{uri}').join(ctx.uri);
  if (status === 403 || code === 'AuthenticationFailed' || code?.startsWith('Authorization')) {
    return new StoragePermissionError(
      text(
        `Azure refused ${op} on {uri} (${describeFailure(e)}): the identity needs ${PERMISSIONS_NEEDED}. A wrong account key, or an expired SAS or token, is refused the same way.`,
      ),
      options,
    );
  }
  if (
    (code !== undefined && (NETWORK_CODES.has(code) || UNAVAILABLE_CODES.has(code))) ||
    status === 500 ||
    status === 503
  ) {
    const reading = op === 'GetBlob' || op === 'GetBlobProperties';
    return new StorageUnavailableError(
      text(
        `Azure Blob Storage did not complete ${op} on {uri} (${describeFailure(e)}: ${firstLine(e)}) within the SDK's retries. ${reading ? 'It changes nothing, so trying again later is safe (a flush that needed it keeps its data).' : 'Nothing is lost: the data of a failed flush is kept, and a later flush() retries it.'}`,
      ),
      options,
    );
  }
  if (code === 'ContainerNotFound') {
    return new StorageError(
      text(
        `The container "${ctx.container}" does not exist (${op} on {uri}): create it first (az storage container create --name ${ctx.container}, or ContainerClient.createIfNotExists()), or fix the container in the URI.`,
      ),
      options,
    );
  }
  return new StorageError(
    text(`Azure answered ${describeFailure(e)} to ${op} on {uri}: ${firstLine(e)}`),
    options,
  );
}

/**
 * A download's body that stopped before its end without an HTTP answer
 * saying why: the connection was reset or closed (the SDK reports an
 * `AbortError` the caller did not ask for), or a truncated body the SDK
 * could not resume. That is the network, not the checkpoint: a
 * {@link StorageUnavailableError}. An error with an HTTP status or a
 * network code goes through {@link azureError}. (The caller rethrows the
 * error of its own abort signal before calling this.)
 */
export function downloadBrokeOff(
  ctx: ErrorContext,
  name: string,
  offset: number,
  e: unknown,
): StorageError {
  const s = shape(e);
  if (s.statusCode !== undefined || (s.code !== undefined && s.name !== 'AbortError')) {
    return azureError('GetBlob', ctx, e);
  }
  scrubCause(e, ctx.secrets);
  return new StorageUnavailableError(
    mask(
      `The download of ${name} of ${ctx.uri} broke off at byte ${offset} (${firstLine(e)}): the connection was lost. The checkpoint is not affected: read it again.`,
      ctx.secrets,
    ),
    { uri: ctx.uri, cause: e },
  );
}

/** Another writer appended to, created or deleted the checkpoint: nothing was overwritten, the data is kept. */
export function concurrentWriter(ctx: ErrorContext, detail: string, cause?: unknown): StorageError {
  scrubCause(cause, ctx.secrets);
  return new ConcurrentWriterError(
    `Another writer changed ${ctx.uri}: ${detail}. Nothing was overwritten and this writer's unflushed data is kept; stop this writer (a checkpoint has one writer at a time), or open a new storage to continue after the other one.`,
    { uri: ctx.uri, cause },
  );
}

/** The blob exists but is not an append blob (uploaded by another tool). */
export function notAppendBlob(
  ctx: ErrorContext,
  name: string,
  blobType: string | undefined,
): StorageError {
  return new StorageError(
    `The blob "${name}" of ${ctx.uri} is a ${blobType ?? 'non-append'} blob, not an append blob, so it cannot be appended to: it was written by another tool. Use another blob name, or copy its content into a new checkpoint.`,
    { uri: ctx.uri },
  );
}

/** A blob of the chain disappeared while it was being read: the read throws rather than end early. */
export function deletedWhileReading(
  ctx: ErrorContext,
  name: string,
  offset: number,
  cause?: unknown,
): StorageError {
  scrubCause(cause, ctx.secrets);
  return new StorageError(
    `${name} of ${ctx.uri} was deleted while it was being read (at byte ${offset}): the lines read so far are not the whole checkpoint. Read it again.`,
    { uri: ctx.uri, cause },
  );
}
