import {
  ConcurrentWriterError,
  describeCause,
  StorageError,
  StoragePermissionError,
  StorageUnavailableError,
  scrubSecrets,
} from '@yoink/storage-core';
import type { CheckpointKeys } from './keys.js';

/** Reply prefixes that mean "try again soon": the server is busy, loading or failing over. */
const TRANSIENT_REPLIES = ['LOADING', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'READONLY', 'MASTERDOWN'];

/** Reply prefixes of refused credentials. */
const CREDENTIAL_REPLIES = ['WRONGPASS', 'NOAUTH', 'ERR invalid password', 'ERR AUTH'];

/** Reply prefixes of refused credentials or permissions. */
const AUTH_REPLIES = [...CREDENTIAL_REPLIES, 'NOPERM'];

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

/** `true` for refused credentials (a wrong password or user, none given), not a missing permission. */
export function isCredentialError(e: unknown): boolean {
  const m = messageOf(innermost(e));
  return CREDENTIAL_REPLIES.some((p) => m.startsWith(p));
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

// ---- Error construction: every message this package shows ------------------

/** What every Redis error message names: the checkpoint's URI and keys. */
export interface RedisErrorContext {
  /** The checkpoint's URI (its credentials are redacted when an error is built). */
  readonly uri: string;
  /** The checkpoint's data, meta and lease keys. */
  readonly keys: CheckpointKeys;
}

/** A call RedisStorage makes, as named in messages. */
export type RedisOperation = 'open' | 'flush' | 'read' | 'exists';

/** The commands an ACL user needs, for messages and the README. */
export const REQUIRED_COMMANDS: readonly string[] = [
  'EVAL',
  'EVALSHA',
  'MULTI',
  'EXEC',
  'XADD',
  'XDEL',
  'XSETID',
  'XINFO',
  'XRANGE',
  'XREVRANGE',
  'HSET',
  'HGET',
  'TYPE',
  'EXISTS',
  'GET',
  'SET',
  'PEXPIRE',
  'PTTL',
  'DEL',
];

function keyList(ctx: RedisErrorContext): string {
  const { data, meta, lease } = ctx.keys;
  return `"${data}", "${meta}" and "${lease}"`;
}

/** The first writer's lease is live: the message names it and says when it expires. */
export function leaseHeldError(
  ctx: RedisErrorContext,
  holder: string,
  pttl: number,
): ConcurrentWriterError {
  const expiry =
    pttl >= 0
      ? `its lease (key "${ctx.keys.lease}") expires in ${pttl} ms unless that writer renews it`
      : `its lease is key "${ctx.keys.lease}"`;
  return new ConcurrentWriterError(
    `The Redis checkpoint ${ctx.uri} is being written by another writer: ${holder}; ${expiry}. Nothing was written by this instance. If that writer is alive, stop it or use another key. If it crashed, write again once its lease has expired (within ${Math.max(pttl, 0)} ms; a live writer renews it every leaseMs/3), or open this storage with takeover: true (URI: &takeover=true) to take the lease at once — the old writer, if still running, is then refused at its next flush.`,
    { uri: ctx.uri },
  );
}

/** What a writer that lost its lease knows about who has it now. */
export interface LeaseLoss {
  /** The description of the writer that holds the lease now, if one does. */
  holder: string | undefined;
  /** The meta `owner` token, when no lease is held. */
  owner: string;
  /** This writer's lease TTL, in ms. */
  leaseMs: number;
}

/** This writer was fenced out by another writer: nothing was appended, the data is kept. */
export function leaseLostError(ctx: RedisErrorContext, loss: LeaseLoss): ConcurrentWriterError {
  const who =
    loss.holder !== undefined
      ? `${loss.holder} holds its writer lease (key "${ctx.keys.lease}") now: it took the lease after this writer's lease expired (no renewal for ${loss.leaseMs} ms), or with takeover: true`
      : `another writer (token ${loss.owner || '?'}) wrote to it after this writer's lease (key "${ctx.keys.lease}") expired`;
  return new ConcurrentWriterError(
    `This writer (pid ${process.pid}) lost the Redis checkpoint ${ctx.uri}: ${who}. This flush was refused and nothing was appended; its data stays buffered in this instance. Stop this writer, or read the checkpoint and resume from it with one writer.`,
    { uri: ctx.uri },
  );
}

/** The fence refused the flush, yet some elements landed: someone edited the keys by hand. */
export function fenceBreachedError(ctx: RedisErrorContext, appended: number): StorageError {
  return new StorageError(
    `The flush fence of the Redis checkpoint ${ctx.uri} refused this writer, yet ${appended} of its elements were appended: the stream's last ID or the meta key "${ctx.keys.meta}" was changed by hand. Check the checkpoint with XRANGE before writing again.`,
    { uri: ctx.uri },
  );
}

/** A flush sequence position, as the fence records it. */
export interface FencePosition {
  seq: string | number;
  part: string | number;
}

/** The meta key's flush sequence does not follow this writer's: it was changed by someone else. */
export function fenceMovedError(
  ctx: RedisErrorContext,
  found: FencePosition,
  sent: FencePosition,
): StorageError {
  return new StorageError(
    `The fence of the Redis checkpoint ${ctx.uri} is at flush ${String(found.seq)} part ${String(found.part)}, but this writer sent flush ${String(sent.seq)} part ${String(sent.part)}: the meta key "${ctx.keys.meta}" was changed by someone else. Nothing was appended; the data stays buffered.`,
    { uri: ctx.uri },
  );
}

/** The data key holds another type than a stream. */
export function wrongTypeError(ctx: RedisErrorContext, type: string): StorageError {
  const key = ctx.keys.data;
  return new StorageError(
    `The Redis key "${key}" at ${ctx.uri} holds a ${type}, not a stream: RedisStorage keeps a checkpoint as a stream (XADD/XRANGE). Use another key, or delete this one (DEL ${key}) if its content is not needed.`,
    { uri: ctx.uri },
  );
}

/** A reply of a shape this package never expects (a proxy or a server bug). */
export function unexpectedReplyError(
  ctx: RedisErrorContext,
  what: string,
  reply: unknown,
): StorageError {
  return new StorageError(
    `Unexpected reply ${what} on ${ctx.uri}: ${String(JSON.stringify(reply)).slice(0, 200)}`,
    { uri: ctx.uri },
  );
}

/** The stream vanished between the fence and its XADDs. */
export function streamVanishedError(ctx: RedisErrorContext): StorageError {
  return new StorageError(
    `The stream "${ctx.keys.data}" at ${ctx.uri} disappeared during a flush (deleted by someone else?); the data stays buffered.`,
    { uri: ctx.uri },
  );
}

/**
 * Redis stayed unreachable (or kept failing transiently: restarting, loading,
 * failing over) for `timeoutMs`: a {@link StorageUnavailableError}
 * (`retryable`), whose message has the last connection error.
 */
export function unreachableError(
  ctx: RedisErrorContext,
  op: RedisOperation,
  timeoutMs: number,
  cause: unknown,
): StorageUnavailableError {
  const clean = cause === undefined ? undefined : cleanCause(cause, ctx.uri);
  const detail = clean === undefined ? '' : ` (last error: ${clean.message})`;
  const kept =
    op === 'flush' || op === 'open'
      ? ' The unflushed data is kept: flush() again once Redis is reachable, or raise flushTimeoutMs.'
      : ' Check that Redis is running and reachable, or raise flushTimeoutMs.';
  return new StorageUnavailableError(
    `Redis at ${ctx.uri} did not complete ${op === 'open' ? 'opening the checkpoint for writing' : op} within ${timeoutMs} ms${detail}.${kept}`,
    { uri: ctx.uri, cause: clean },
  );
}

/**
 * The ACL rule that grants a user what a checkpoint needs, for messages:
 * `ACL SETUSER <user> ~key ~meta ~lease +eval …`.
 */
export function aclRule(ctx: RedisErrorContext): string {
  const { data, meta, lease } = ctx.keys;
  const commands = REQUIRED_COMMANDS.map((c) => `+${c.toLowerCase().replace(' ', '|')}`).join(' ');
  return `ACL SETUSER <user> ~${data} ~${meta} ~${lease} ${commands}`;
}

/**
 * Turns a permanent failure of `op` into a typed error that says what
 * happened and what to do:
 *
 * - refused credentials (`WRONGPASS`, `NOAUTH`) or a missing ACL permission
 *   (`NOPERM`, naming the commands and keys needed): {@link StoragePermissionError};
 * - a connection that cannot succeed (a TLS certificate that does not verify)
 *   or any other reply: {@link StorageError}.
 *
 * The cause is a clean copy (see {@link cleanCause}).
 */
export function toStorageError(
  ctx: RedisErrorContext,
  op: RedisOperation,
  e: unknown,
): StorageError {
  if (StorageError.isInstance(e)) return e;
  const cause = cleanCause(e, ctx.uri);
  if (isCredentialError(e)) {
    return new StoragePermissionError(
      `Redis at ${ctx.uri} refused the credentials (${cause.message.split(' ')[0]}) during ${op}: check the user name and password in the URI (redis://user:password@host; percent-encode special characters), or that the server expects a password at all.`,
      { uri: ctx.uri, cause },
    );
  }
  if (isAuthError(e)) {
    return new StoragePermissionError(
      `Redis at ${ctx.uri} refused a permission during ${op} (${cause.message}): the ACL user needs ${REQUIRED_COMMANDS.slice(0, -1).join(', ')} and ${REQUIRED_COMMANDS.at(-1)} on ${keyList(ctx)} (readers: XRANGE, XREVRANGE and EXISTS). For example: ${aclRule(ctx)}`,
      { uri: ctx.uri, cause },
    );
  }
  if (isPermanentConnectionError(e)) {
    return new StorageError(
      `Could not connect to Redis at ${ctx.uri}: ${cause.message}. For rediss:// with a private CA, pass it as options.tls.ca.`,
      { uri: ctx.uri, cause },
    );
  }
  return new StorageError(`Redis ${op} on ${ctx.uri} failed: ${cause.message}`, {
    uri: ctx.uri,
    cause,
  });
}
