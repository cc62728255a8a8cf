import { StorageError } from '@yoink/storage-core';
import { isPermanentConnectionError, isTransient } from './redis-errors.js';

/** What {@link withDeadline} resolves with when the deadline passes first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/** The first pause between two attempts, in ms. */
export const FIRST_BACKOFF_MS = 20;
/** The longest pause between two attempts, in ms. */
export const MAX_BACKOFF_MS = 500;

/**
 * Resolves with `promise`'s value, or with {@link TIMED_OUT} once `ms` have
 * passed (whichever comes first); rejects when `promise` rejects in time.
 *
 * The operation may still complete later; its result is then ignored. For
 * our commands a late completion is harmless: the flush fence recognises an
 * applied flush when it is retried.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  promise.catch(() => {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms));
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Resolves after `ms`. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The pause after `previous`: doubled, capped at {@link MAX_BACKOFF_MS}. */
export function nextBackoff(previous: number): number {
  return Math.min(previous * 2, MAX_BACKOFF_MS);
}

/** What to do after a failed attempt (see {@link decide}). */
export type Verdict = { retry: true } | { retry: false; error: unknown };

/**
 * The transient/permanent decision for one failed attempt:
 *
 * - a {@link StorageError} is already final: fail with it;
 * - an error that waiting cannot fix (a reply such as `NOPERM`, `WRONGTYPE`,
 *   a script error): fail with it;
 * - a transient error (connection down, `LOADING`, failover) while the
 *   connection's own last error is permanent (a certificate that does not
 *   verify, refused credentials): fail with the connection's error, which
 *   says why;
 * - any other transient error: retry.
 */
export function decide(error: unknown, lastConnectionError: unknown): Verdict {
  if (StorageError.isInstance(error)) return { retry: false, error };
  if (!isTransient(error)) return { retry: false, error };
  if (isPermanentConnectionError(lastConnectionError)) {
    return { retry: false, error: lastConnectionError };
  }
  return { retry: true };
}

/** Settings of {@link retryWithDeadline}. */
export interface RetryOptions {
  /** How long, from the first attempt, attempts are made, in ms. */
  timeoutMs: number;
  /** The connection's most recent error (ioredis's `error` event), if any. */
  lastConnectionError(): unknown;
  /** The error to throw for a permanent failure `e` (see {@link decide}). */
  fail(e: unknown): unknown;
  /** The error to throw once the deadline passed; `cause` is the last failure seen, if any. */
  timedOut(cause: unknown): unknown;
  /** Told before each pause: the attempt that failed (1 for the first), its error, and the pause in ms. */
  onRetry?(attempt: number, error: unknown, delayMs: number): void;
}

/**
 * Runs `attempt`, retrying transient failures with backoff (20 ms doubling
 * to 500 ms) until `timeoutMs` has passed since the first attempt. An attempt
 * still pending at the deadline is abandoned. Throws what `fail` or
 * `timedOut` return, never the raw error.
 *
 * @example
 * ```ts
 * const n = await retryWithDeadline(() => client.xlen(key), {
 *   timeoutMs: 10_000,
 *   lastConnectionError: () => undefined,
 *   fail: (e) => new StorageError(`failed: ${e}`),
 *   timedOut: () => new StorageUnavailableError('Redis is unreachable'),
 * });
 * ```
 */
export async function retryWithDeadline<T>(
  attempt: () => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let backoff = FIRST_BACKOFF_MS;
  let last: unknown;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    let result: T | typeof TIMED_OUT;
    try {
      result = await withDeadline(attempt(), deadline - Date.now());
    } catch (e) {
      const verdict = decide(e, options.lastConnectionError());
      if (!verdict.retry) throw await options.fail(verdict.error);
      last = e;
      if (Date.now() + backoff < deadline) {
        options.onRetry?.(attempts, e, backoff);
        await delay(backoff);
        backoff = nextBackoff(backoff);
        continue;
      }
      result = TIMED_OUT;
    }
    if (result !== TIMED_OUT) return result;
    // The connection's own error (ECONNREFUSED…) says more than ioredis's
    // "max retries per request".
    throw await options.timedOut(options.lastConnectionError() ?? last);
  }
}
