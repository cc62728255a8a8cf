import { describeCause, scrubSecrets } from '@yoink/storage-core';

/** Reply prefixes that mean "try again soon": the server is busy, loading or failing over. */
const TRANSIENT_REPLIES = ['LOADING', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'READONLY', 'MASTERDOWN'];

/** Reply prefixes of refused credentials or permissions. */
const AUTH_REPLIES = ['WRONGPASS', 'NOAUTH', 'NOPERM', 'ERR invalid password', 'ERR AUTH'];

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

function messageOf(e: unknown): string {
  return describeCause(e);
}

/** `true` when `e` is a Redis error reply (as opposed to a connection or client error). */
export function isReplyError(e: unknown): boolean {
  return e instanceof Error && e.name === 'ReplyError';
}

/** The last node error ioredis's Cluster wraps in "ClusterAllFailedError", else `e`. */
function innermost(e: unknown): unknown {
  if (typeof e === 'object' && e !== null && 'lastNodeError' in e) {
    const inner = (e as { lastNodeError: unknown }).lastNodeError;
    if (inner) return inner;
  }
  return e;
}

/** `true` for refused credentials or a missing ACL permission. */
export function isAuthError(e: unknown): boolean {
  const m = messageOf(innermost(e));
  return AUTH_REPLIES.some((p) => m.startsWith(p));
}

/** `true` for `WRONGTYPE` replies. */
export function isWrongTypeError(e: unknown): boolean {
  return messageOf(innermost(e)).startsWith('WRONGTYPE');
}

/**
 * `true` when retrying the same command later may succeed: a connection that
 * is down, refused, reset or timing out, and replies such as `LOADING`,
 * `CLUSTERDOWN` or `READONLY` (failover). Everything the fence guards is safe
 * to retry; these are the errors worth waiting out.
 */
export function isTransient(e: unknown): boolean {
  const inner = innermost(e);
  if (isAuthError(inner)) return false;
  const m = messageOf(inner);
  if (isReplyError(inner)) return TRANSIENT_REPLIES.some((p) => m.startsWith(p));
  const code = (inner as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  const name = inner instanceof Error ? inner.name : '';
  return (
    name === 'MaxRetriesPerRequestError' ||
    name === 'ClusterAllFailedError' ||
    name === 'AbortError' ||
    TRANSIENT_REPLIES.some((p) => m.startsWith(p)) ||
    /Connection is closed|Stream isn't writeable|Command timed out|connect ETIMEDOUT|Cluster isn't ready|None of startup nodes is available|Failed to refresh slots cache|socket|TLS|ECONNRESET|ECONNREFUSED/i.test(
      m,
    )
  );
}

/**
 * A copy of `e` fit to be an error's `cause`: name, message and code only.
 * ioredis attaches the failed command with its arguments to its errors
 * (`AUTH user password`, or megabytes of checkpoint data), which must not end
 * up in logs. Secrets of `uri` are scrubbed from the message.
 */
export function cleanCause(e: unknown, uri?: string): Error {
  const inner = innermost(e);
  const out = new Error(scrubSecrets(messageOf(inner), uri));
  out.name = inner instanceof Error ? inner.name : 'Error';
  const code = (inner as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') (out as Error & { code?: string }).code = code;
  return out;
}

/**
 * `true` for connection errors that retrying cannot fix: a TLS certificate
 * that does not verify, refused credentials.
 */
export function isPermanentConnectionError(e: unknown): boolean {
  if (e === undefined) return false;
  if (isAuthError(e)) return true;
  const code = (innermost(e) as { code?: unknown } | undefined)?.code;
  return (
    typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/.test(code)
  );
}
