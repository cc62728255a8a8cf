import { debugEnabled, debugLog, redactUri } from '@yoink/storage-core';
import { type IoRedisClient, ioredis, type RedisClient } from './client.js';
import {
  cleanCause,
  isWrongTypeError,
  type RedisErrorContext,
  type RedisOperation,
  toStorageError,
  unexpectedReplyError,
  unreachableError,
  wrongTypeError,
} from './redis-errors.js';
import { retryWithDeadline, withDeadline } from './retry.js';
import type { LuaScript } from './scripts.js';

/** A script's reply: a status code (see `REPLY`), then its details. */
export type Reply = [number, ...(string | number)[]];

/**
 * One ioredis client in use by a storage, and how it is called:
 *
 * - {@link call} runs a command with retries until `timeoutMs` (see
 *   `retry.ts`) and turns every failure into a typed error;
 * - {@link eval} runs one of our Lua scripts on the checkpoint's three keys
 *   (`EVALSHA`, with an `EVAL` fallback);
 * - {@link end} quits the client if this connection created it, once no
 *   read is {@link use}-ing it any more; a client passed in by the caller is
 *   never quit.
 */
export class Connection {
  /** The client, as the ioredis API RedisStorage calls (an ioredis 5 client passed in fits it too). */
  readonly client: IoRedisClient;
  /** `true` when this connection created the client (and so quits it). */
  readonly owned: boolean;
  readonly timeoutMs: number;
  readonly #ctx: RedisErrorContext;
  #lastError: unknown;
  #users = 0;
  #ending = false;

  constructor(client: RedisClient, owned: boolean, ctx: RedisErrorContext, timeoutMs: number) {
    this.client = ioredis(client);
    this.owned = owned;
    this.#ctx = ctx;
    this.timeoutMs = timeoutMs;
    if (owned) {
      // Our own client: keep its last connection error for messages (and so
      // ioredis does not report it as unhandled).
      this.client.on('error', (e: unknown) => {
        this.#lastError = e;
      });
    }
  }

  /**
   * Runs `fn`, retrying transient failures (connection down, LOADING,
   * failover) with backoff until `timeoutMs` has passed since the first
   * attempt; maps every failure to a typed error.
   */
  call<T>(op: RedisOperation, fn: () => Promise<T>): Promise<T> {
    this.#lastError = undefined;
    return retryWithDeadline(fn, {
      timeoutMs: this.timeoutMs,
      lastConnectionError: () => this.#lastError,
      fail: async (e) => {
        if (isWrongTypeError(e)) {
          const { data } = this.#ctx.keys;
          const type = await this.client.type(data).catch(() => 'value of another type');
          return wrongTypeError(this.#ctx, type);
        }
        return toStorageError(this.#ctx, op, e);
      },
      timedOut: (cause) => unreachableError(this.#ctx, op, this.timeoutMs, cause),
      onRetry: (attempt, error, delayMs) => {
        if (!debugEnabled()) return;
        debugLog(
          '%s: %s attempt %d failed (%s); retrying in %d ms',
          redactUri(this.#ctx.uri),
          op,
          attempt,
          // The connection's own error (ECONNREFUSED…) says more than
          // ioredis's "max retries per request".
          cleanCause(this.#lastError ?? error, this.#ctx.uri).message,
          delayMs,
        );
      },
    });
  }

  /** One `EVALSHA` of `script` on the checkpoint's three keys, with an `EVAL` fallback. */
  async eval(script: LuaScript, args: readonly string[]): Promise<unknown> {
    const { data, meta, lease } = this.#ctx.keys;
    try {
      return await this.client.evalsha(script.sha, 3, data, meta, lease, ...args);
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
      // First use on this server (or after a restart / SCRIPT FLUSH).
      return await this.client.eval(script.source, 3, data, meta, lease, ...args);
    }
  }

  /** {@link eval} abandoned after `ms` (its outcome is then unknown); rejects on failure. */
  async evalWithin(script: LuaScript, args: readonly string[], ms: number): Promise<void> {
    await withDeadline(this.eval(script, args), ms);
  }

  /** {@link eval} through {@link call}, with the reply's shape checked. */
  async runScript(op: RedisOperation, script: LuaScript, args: readonly string[]): Promise<Reply> {
    const reply = await this.call(op, () => this.eval(script, args));
    if (!Array.isArray(reply) || typeof reply[0] !== 'number') {
      throw unexpectedReplyError(this.#ctx, `from the ${op} script`, reply);
    }
    return reply as Reply;
  }

  /** `true` once {@link end} was called on a connection that owns its client. */
  get ending(): boolean {
    return this.#ending;
  }

  /**
   * Marks the connection as in use (by a read) until the returned function
   * is called; {@link end} waits for that before quitting the client.
   */
  use(): () => Promise<void> {
    this.#users += 1;
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      this.#users -= 1;
      if (this.#ending && this.#users === 0) await this.#quit();
    };
  }

  /**
   * Quits the client if this connection created it (bounded: 1 s, then it is
   * dropped), at once or when the last {@link use} ends.
   */
  async end(): Promise<void> {
    if (!this.owned || this.#ending) return;
    this.#ending = true;
    if (this.#users === 0) await this.#quit();
  }

  async #quit(): Promise<void> {
    const client = this.client;
    if (client.status === 'ready') {
      await withDeadline(client.quit(), 1_000).catch(() => {});
    }
    client.disconnect();
  }
}
