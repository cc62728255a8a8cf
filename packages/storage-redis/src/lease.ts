import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type ConcurrentWriterError, debugEnabled, debugLog, redactUri } from '@yoink/storage-core';
import type { Connection, Reply } from './connection.js';
import {
  cleanCause,
  dataLostError,
  leaseHeldError,
  leaseLostError,
  lossOfReply,
  type RedisErrorContext,
  wrongTypeError,
} from './redis-errors.js';
import { OPEN_SCRIPT, REFRESH_SCRIPT, RELEASE_SCRIPT, REPLY } from './scripts.js';

/** What a lease key holds (JSON): who writes, from where, since when. */
export interface LeaseHolder {
  token?: string;
  host?: string;
  pid?: number;
  since?: string;
}

/** The holder in a lease key's value, or `undefined` when it is not one of ours. */
export function parseHolder(raw: unknown): LeaseHolder | undefined {
  if (typeof raw !== 'string' || raw === '') return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'object' && v !== null ? (v as LeaseHolder) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The holder of a lease value, for messages: "the writer on host h, pid p,
 * writing since t", or "an unknown writer (lease value …)".
 */
export function describeHolder(raw: unknown): string {
  const h = parseHolder(raw);
  if (h === undefined) return `an unknown writer (lease value ${JSON.stringify(String(raw))})`;
  return `the writer on host ${h.host ?? '?'}, pid ${h.pid ?? '?'}, writing since ${h.since ?? '?'}`;
}

/** Settings of a {@link WriterLease}. */
export interface LeaseSettings {
  /** Time to live of the lease, in ms; renewed every third of it. */
  leaseMs: number;
  /** Take the lease even when another writer holds a live one. */
  takeover: boolean;
}

/** What opening the checkpoint for appending found. */
export interface LeaseGrant {
  /** The flush sequence the open reserved; this writer's flushes follow it. */
  seq: number;
  /** `true` when the last element ends without `\n`. */
  tornTail: boolean;
  /** `true` when the stream existed (its last ID is then past `seq`'s elements). */
  streamExisted: boolean;
}

/**
 * The writer lease of one checkpoint: the key `{key}:writer`, holding this
 * writer's token, host, pid and start time, with a TTL of `leaseMs`.
 *
 * - {@link take} opens the checkpoint for appending (OPEN_SCRIPT: takes the
 *   lease, fences earlier writers out, reserves a flush sequence);
 * - a heartbeat renews it every `leaseMs / 3` (an unref'd timer);
 * - {@link release} deletes it if it is still this writer's.
 */
export class WriterLease {
  /** This writer's token (the meta `owner` while it writes). */
  readonly token: string = randomUUID();
  readonly leaseMs: number;
  readonly #takeover: boolean;
  readonly #conn: Connection;
  readonly #ctx: RedisErrorContext;
  #value = '';
  /** `true` once a take was attempted (so there may be a lease to delete). */
  #attempted = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #refreshing = false;

  constructor(conn: Connection, ctx: RedisErrorContext, settings: LeaseSettings) {
    this.#conn = conn;
    this.#ctx = ctx;
    this.leaseMs = settings.leaseMs;
    this.#takeover = settings.takeover;
  }

  /** The lease key's value for this writer (JSON: token, host, pid, since); set by the first take. */
  get value(): string {
    return this.#value;
  }

  /**
   * Takes the lease and opens the checkpoint for appending.
   *
   * @throws {ConcurrentWriterError} while another writer holds a live lease.
   * @throws {CheckpointDataLostError} when the checkpoint's metadata says data
   *   was written but the stream is gone or behind.
   * @throws {StorageError} when the data key holds another type, or Redis
   *   stays unreachable.
   */
  async take(): Promise<LeaseGrant> {
    if (this.#value === '') {
      this.#value = JSON.stringify({
        token: this.token,
        host: hostname(),
        pid: process.pid,
        since: new Date().toISOString(),
      });
    }
    this.#attempted = true;
    const reply = await this.#conn.runScript('open', OPEN_SCRIPT, [
      this.token,
      this.#value,
      String(this.leaseMs),
      this.#takeover ? '1' : '0',
    ]);
    if (reply[0] === REPLY.wrongType) throw wrongTypeError(this.#ctx, String(reply[1]));
    if (reply[0] === REPLY.conflict) {
      throw leaseHeldError(this.#ctx, describeHolder(reply[1]), Number(reply[2]));
    }
    if (reply[0] === REPLY.lost) throw dataLostError(this.#ctx, lossOfReply(reply), 'open');
    this.#startHeartbeat();
    return {
      seq: Number(reply[1]),
      tornTail: Number(reply[2]) === 1,
      streamExisted: Number(reply[3]) === 1,
    };
  }

  /**
   * The error for a conflict reply of the fence (`{-1, holder, pttl, owner}`):
   * another writer holds the lease or opened the key since. Stops the heartbeat.
   */
  lost(reply: Reply): ConcurrentWriterError {
    this.stop();
    const raw = reply[1];
    return leaseLostError(this.#ctx, {
      holder: typeof raw === 'string' && raw !== '' ? describeHolder(raw) : undefined,
      owner: String(reply[3] ?? ''),
      leaseMs: this.leaseMs,
    });
  }

  /** Stops the heartbeat (the lease then expires within `leaseMs` unless a flush renews it). */
  stop(): void {
    if (this.#heartbeat === undefined) return;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /**
   * Stops the heartbeat and gives the lease up if it is still ours, so the
   * next writer can start at once. If Redis is unreachable now, the lease
   * expires by itself; this never throws.
   */
  async release(budgetMs: number): Promise<void> {
    this.stop();
    if (!this.#attempted || this.#conn.client.status !== 'ready') return;
    await this.#conn.evalWithin(RELEASE_SCRIPT, [this.#value], budgetMs).catch(() => {});
  }

  /** The checkpoint's URI for debug lines, credentials redacted. */
  #uri(): string {
    return redactUri(this.#ctx.uri);
  }

  #startHeartbeat(): void {
    if (this.#heartbeat !== undefined) return;
    const timer = setInterval(() => this.#refresh(), Math.max(1, Math.floor(this.leaseMs / 3)));
    // The heartbeat alone never keeps the process alive: a crawler that exits
    // without close() simply lets its lease expire.
    timer.unref();
    this.#heartbeat = timer;
  }

  /**
   * One heartbeat: renews the lease (or takes it again if it expired and
   * nobody wrote since). At most one is in flight, so a long outage does not
   * pile up queued commands; failures are left to the next beat or flush.
   */
  #refresh(): void {
    if (this.#refreshing) return;
    this.#refreshing = true;
    this.#conn.eval(REFRESH_SCRIPT, [this.token, this.#value, String(this.leaseMs)]).then(
      (reply) => {
        this.#refreshing = false;
        // Lost to another writer: the next flush reports it.
        if (Array.isArray(reply) && reply[0] === REPLY.conflict) {
          debugLog(
            '%s: lease renewal refused: another writer holds %s',
            this.#uri(),
            this.#ctx.keys.lease,
          );
          this.stop();
        } else {
          debugLog(
            '%s: renewed the writer lease %s for %d ms',
            this.#uri(),
            this.#ctx.keys.lease,
            this.leaseMs,
          );
        }
      },
      (e: unknown) => {
        this.#refreshing = false;
        if (debugEnabled()) {
          debugLog(
            '%s: lease renewal failed (%s); the next beat or flush tries again',
            this.#uri(),
            cleanCause(e, this.#ctx.uri).message,
          );
        }
      },
    );
  }
}
