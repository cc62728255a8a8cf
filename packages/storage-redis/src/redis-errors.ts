import {
  ConcurrentWriterError,
  describeCause,
  redactUri,
  StorageError,
  type StorageErrorOptions,
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
function isReplyError(e: unknown): boolean {
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
function isCredentialError(e: unknown): boolean {
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

// ---- This package's own error classes --------------------------------------

/**
 * The Redis server may evict the checkpoint: its `maxmemory-policy` is an
 * `allkeys-*` policy (any key may go, the data included) or a `volatile-*`
 * one (the writer lease has a TTL, so it may go, and with it the single-writer
 * guarantee). Thrown by the first `write()` of a writer (nothing was
 * written), unless the storage was opened with `allowEviction: true` (URI
 * `allowEviction=true`). Readers are not refused.
 *
 * Branch on it with `EvictionPolicyError.isInstance(e)` or its code
 * `ERR_YOINK_EVICTION_POLICY`.
 */
export class EvictionPolicyError extends StorageError {
  static override readonly code: string = 'ERR_YOINK_EVICTION_POLICY';
  /** The server's `maxmemory_policy` (from `INFO memory`). */
  readonly policy: string;
  /** The server that reported it (`host:port`). */
  readonly node: string;

  constructor(message: string, options: StorageErrorOptions & { policy: string; node: string }) {
    super(message, options);
    this.policy = options.policy;
    this.node = options.node;
  }
}

/**
 * The checkpoint's data was lost on the server: its stream or its fence key
 * vanished or went back to an older state under a writer or a reader (Redis
 * evicted it, restarted without persistence, failed over to a replica that
 * lagged, or someone ran `DEL`/`FLUSHALL`). It is never another writer.
 *
 * - from `flush()`: nothing was appended, and the unflushed data stays in the
 *   buffer; no later flush of this writer can succeed (it would leave a gap);
 * - from `write()` (the open): the checkpoint's metadata says data was
 *   written, but the stream is gone;
 * - from `read()`: the lines yielded so far are correct, the rest is gone —
 *   the read is incomplete, never silently.
 *
 * Branch on it with `CheckpointDataLostError.isInstance(e)` or its code
 * `ERR_YOINK_DATA_LOST`.
 */
export class CheckpointDataLostError extends StorageError {
  static override readonly code: string = 'ERR_YOINK_DATA_LOST';
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
const REQUIRED_COMMANDS: readonly string[] = [
  'INFO',
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
  'HSETNX',
  'HGET',
  'HMGET',
  'TYPE',
  'EXISTS',
  'GET',
  'SET',
  'PEXPIRE',
  'PTTL',
  'DEL',
  'PING',
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
function aclRule(ctx: RedisErrorContext): string {
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
 * - a server out of memory (`OOM` under `noeviction`): a {@link StorageError}
 *   (not retryable: waiting does not free memory) that names the fix;
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
      `Redis at ${ctx.uri} refused a permission during ${op} (${cause.message}): the ACL user needs ${REQUIRED_COMMANDS.slice(0, -1).join(', ')} and ${REQUIRED_COMMANDS.at(-1)} on ${keyList(ctx)} (readers: XRANGE, XREVRANGE, HMGET and EXISTS). For example: ${aclRule(ctx)}`,
      { uri: ctx.uri, cause },
    );
  }
  if (cause.message.startsWith('OOM')) {
    // A full server, not a passing fault: waiting does not free memory, so
    // this is not retryable, and the flush's data stays buffered for a
    // flush() once the operator has made room.
    const kept =
      op === 'flush' || op === 'open'
        ? " Nothing was appended; this writer's unflushed data stays buffered: flush() again once memory is freed."
        : '';
    return new StorageError(
      `Redis at ${ctx.uri} is out of memory: it refused the ${op} (OOM: used memory is above maxmemory, and its maxmemory-policy noeviction keeps the checkpoint instead of evicting keys).${kept} Raise maxmemory (CONFIG SET maxmemory <bytes>, and in redis.conf; on a managed service, a larger node type), or free memory by deleting keys that are not needed.`,
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

/** A server whose `maxmemory-policy` may evict the checkpoint (see {@link EvictionPolicyError}). */
export function evictionPolicyError(
  ctx: RedisErrorContext,
  policy: string,
  node: string,
): EvictionPolicyError {
  const why = policy.startsWith('volatile-')
    ? 'it evicts keys that have a TTL, such as the writer lease, and then a second writer can start while the first one is still running'
    : 'it evicts any key when memory runs out, the checkpoint included, and acknowledged lines would then vanish';
  return new EvictionPolicyError(
    `The Redis server ${node} of the checkpoint ${ctx.uri} has maxmemory-policy ${policy}: ${why}. Nothing was written. Set the policy to noeviction (CONFIG SET maxmemory-policy noeviction, and in redis.conf; on a managed service, the maxmemory-policy of its parameter group), then write again. To write anyway, accepting that evicted data is reported as CheckpointDataLostError instead of being prevented, open the storage with allowEviction: true (URI: &allowEviction=true).`,
    { uri: ctx.uri, policy, node },
  );
}

/** How the checkpoint's data was found missing (see {@link dataLostError}). */
export type DataLoss =
  /** The fence hash (`{key}:meta`) is gone. */
  | { kind: 'fence-missing' }
  /** The fence hash records flush `recorded`, below flush `confirmed` this writer saw applied. */
  | { kind: 'fence-behind'; recorded: string; confirmed: string }
  /** The stream is gone though flush `flush` was written to it. */
  | { kind: 'stream-missing'; flush: string }
  /** The stream's last ID is `lastId`, below flush `flush` that was written to it. */
  | { kind: 'stream-behind'; lastId: string; flush: string }
  /** A read found no entry after `at` although the stream reached `end` when the read started. */
  | { kind: 'ended-early'; at: string; end: string }
  /** A read found the checkpoint re-created (its fence hash's `epoch` changed). */
  | { kind: 'recreated' };

function describeLoss(ctx: RedisErrorContext, loss: DataLoss): string {
  const { data, meta } = ctx.keys;
  switch (loss.kind) {
    case 'fence-missing':
      return `its fence key "${meta}" is gone`;
    case 'fence-behind':
      return `its fence key "${meta}" records flush ${loss.recorded}, older than flush ${loss.confirmed} that this writer saw applied (the server went back to an older state)`;
    case 'stream-missing':
      return `its stream "${data}" is gone, though flush ${loss.flush} was written to it`;
    case 'stream-behind':
      return `its stream "${data}" ends at ID ${loss.lastId}, before flush ${loss.flush} that was written to it (it was deleted and re-created, or the server went back to an older state)`;
    case 'ended-early':
      return `its stream "${data}" has no entry after ID ${loss.at}, though it reached ID ${loss.end} when this read started`;
    case 'recreated':
      return `the checkpoint at "${data}" was deleted and created anew during this read`;
  }
}

const LOSS_CAUSES =
  'Redis loses keys when it evicts them (a maxmemory-policy other than noeviction), when it restarts without persistence (no AOF, no RDB save points), when it fails over to a replica that lagged, or when someone runs DEL or FLUSHALL; it is not another writer';

/**
 * The checkpoint's data was lost on the server (see {@link CheckpointDataLostError}).
 * `role` says who found it: a writer's flush or open, or a reader.
 */
export function dataLostError(
  ctx: RedisErrorContext,
  loss: DataLoss,
  role: 'flush' | 'open' | 'read',
): CheckpointDataLostError {
  const what = describeLoss(ctx, loss);
  const next =
    role === 'read'
      ? 'The lines read so far are correct, but the rest of the checkpoint is gone: do not treat this read as complete.'
      : role === 'flush'
        ? "Nothing was appended and this writer's unflushed data stays in its buffer, but it cannot follow the lost lines: stop this writer."
        : 'Nothing was written.';
  return new CheckpointDataLostError(
    `The data of the Redis checkpoint ${ctx.uri} was lost on the server: ${what}. ${LOSS_CAUSES}. ${next} Make the server keep its data (maxmemory-policy noeviction; appendonly yes or RDB save points), then restore the checkpoint from a backup, or start it over (DEL ${ctx.keys.data} ${ctx.keys.meta} ${ctx.keys.lease}) and crawl again.`,
    { uri: ctx.uri },
  );
}

/** The `process.emitWarning` code of {@link noPersistenceWarning}. */
export const NO_PERSISTENCE_WARNING = 'YOINK_REDIS_NO_PERSISTENCE';

/** The text of the warning for a server that keeps data in memory only (credentials redacted). */
export function noPersistenceWarning(ctx: RedisErrorContext, node: string): string {
  return `The Redis server ${node} of the checkpoint ${redactUri(ctx.uri)} has neither AOF (appendonly no) nor RDB save points (save ""): a restart or crash of the server loses every checkpoint on it (a writer or reader then gets CheckpointDataLostError). Turn persistence on (CONFIG SET appendonly yes, and in redis.conf; on a managed service, its persistence or backup setting) if the crawl must survive a server restart.`;
}

/** The {@link DataLoss} a script's lost reply (`{-4, kind, a, b}`) describes. */
export function lossOfReply(reply: readonly unknown[]): DataLoss {
  const [, kind, a, b] = reply.map((v) => String(v ?? '?'));
  switch (kind) {
    case 'fence-behind':
      return { kind, recorded: a as string, confirmed: b as string };
    case 'stream-missing':
      return { kind, flush: a as string };
    case 'stream-behind':
      return { kind, lastId: a as string, flush: b as string };
    default:
      return { kind: 'fence-missing' };
  }
}
