import diagnostics from 'node:diagnostics_channel';
import { debuglog } from 'node:util';
import type { Chunk } from './split-lines.js';

/**
 * What every tracing event carries. The same object is passed to the
 * `start`, `end`, `asyncStart`, `asyncEnd` and `error` events of one
 * operation; fields such as `bytes` and `lines` are filled in as they become
 * known, and `error` is set on failure.
 */
export interface StorageTraceContext {
  /** The operation: `'open'`, `'flush'`, `'read'` (one event per chunk or page) or `'close'`. */
  operation: 'open' | 'flush' | 'read' | 'close';
  /** The backend's class name (`'S3Storage'`). */
  backend: string;
  /** The checkpoint's URI, credentials redacted. */
  uri: string;
  /** Bytes persisted (flush) or read (read chunk), UTF-8. */
  bytes?: number;
  /** Newline characters in those bytes (complete lines). */
  lines?: number;
  /** Open: whether the persisted content ended without `\n`. */
  tornTail?: boolean;
  /** Read: `true` on the event after the last chunk. */
  done?: boolean;
  /** Set by the channel on failure: the error thrown. */
  error?: unknown;
}

/** Names of the tracing channels, one per operation: `yoink:storage:<operation>`. */
export const TRACING_CHANNELS = {
  open: 'yoink:storage:open',
  flush: 'yoink:storage:flush',
  read: 'yoink:storage:read',
  close: 'yoink:storage:close',
} as const;

type Operation = keyof typeof TRACING_CHANNELS;

/** The minimal shape of a TracingChannel we use (Node, Bun and Deno all provide it). */
interface Tracing {
  start: { hasSubscribers: boolean };
  end: { hasSubscribers: boolean };
  asyncStart: { hasSubscribers: boolean };
  asyncEnd: { hasSubscribers: boolean };
  error: { hasSubscribers: boolean };
  tracePromise<T>(fn: () => Promise<T>, context: object): Promise<T>;
}

const channels = new Map<Operation, Tracing>();

function channel(operation: Operation): Tracing | undefined {
  let c = channels.get(operation);
  if (c === undefined) {
    const make = (diagnostics as { tracingChannel?: (name: string) => Tracing }).tracingChannel;
    if (typeof make !== 'function') return undefined;
    c = make(TRACING_CHANNELS[operation]);
    channels.set(operation, c);
  }
  return c;
}

/** `true` when someone listens to `operation`'s channel: only then is any context built. */
export function traced(operation: Operation): boolean {
  const c = channel(operation);
  return (
    c !== undefined &&
    (c.start.hasSubscribers ||
      c.end.hasSubscribers ||
      c.asyncStart.hasSubscribers ||
      c.asyncEnd.hasSubscribers ||
      c.error.hasSubscribers)
  );
}

/** Runs `fn` inside `context`'s tracing channel (the caller checked {@link traced}). */
export function trace<T>(context: StorageTraceContext, fn: () => Promise<T>): Promise<T> {
  const c = channel(context.operation);
  return c ? c.tracePromise(fn, context) : fn();
}

/** Newlines in a chunk, for the `lines` field. */
export function countNewlines(chunk: Chunk | string): number {
  let n = 0;
  if (typeof chunk === 'string') {
    for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) n++;
  } else {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) n++;
  }
  return n;
}

const log = debuglog('yoink');

/**
 * Writes a debug line when `NODE_DEBUG=yoink` (or a list including it) is set:
 * opens, flushes with sizes and timings, retries, lease renewals. Backends
 * use it for their own events. Never pass a raw URI: use the redacted one.
 *
 * @example
 * ```ts
 * debugLog('%s: retrying %s after %s (%d ms)', this.uri, op, code, delay);
 * ```
 */
export function debugLog(format: string, ...args: unknown[]): void {
  log(format, ...args);
}

// Bun's debuglog() has no `enabled` property: read NODE_DEBUG the way Node does
// (comma-separated names, case-insensitive, `*` wildcards).
const debugByEnv = (process.env.NODE_DEBUG ?? '').split(',').some((section) => {
  const p = section.trim().toLowerCase();
  return p === 'yoink' || (p.endsWith('*') && 'yoink'.startsWith(p.slice(0, -1)));
});

/** `true` when `NODE_DEBUG` enables yoink's debug lines (to skip building costly arguments). */
export function debugEnabled(): boolean {
  return (log as { enabled?: boolean }).enabled ?? debugByEnv;
}
