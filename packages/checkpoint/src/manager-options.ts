import {
  type CheckpointStorageLike,
  defineOptions,
  type OptionsForScheme,
} from '@yoink/storage-core';

/** Default of {@link CheckpointManagerOptions.flushEvery}: 1000 records. */
export const DEFAULT_FLUSH_EVERY = 1000;
/** Default of {@link CheckpointManagerOptions.flushBytes}: 1 MiB. */
export const DEFAULT_FLUSH_BYTES: number = 1024 * 1024;
/** Default of {@link CheckpointManagerOptions.flushIntervalMs}: 1 second. */
export const DEFAULT_FLUSH_INTERVAL_MS = 1000;

/** A problem {@link CheckpointManager} recovered from, reported to `onWarning`. */
export type CheckpointWarning =
  | {
      /** A torn record (a write cut short by a crash) was skipped by `records()`. */
      kind: 'torn-record';
      /** Its 1-based line number. */
      line: number;
      /** Its first characters, control characters escaped. */
      preview: string;
      /** The storage's URI, when known (credentials redacted by the storage). */
      uri: string | undefined;
    }
  | {
      /** A flush started by the interval timer failed; the data is kept and retried. */
      kind: 'flush-failed';
      /** The error the storage threw. */
      error: unknown;
      uri: string | undefined;
    }
  | {
      /** Closing on SIGINT/SIGTERM failed; the process exits anyway. */
      kind: 'close-failed';
      error: unknown;
      uri: string | undefined;
    };

/** Options of {@link CheckpointManager} (all optional except `storage`). */
export interface CheckpointManagerOptions {
  /** Where the records go: any `CheckpointStorage` (see `StorageFactory.fromUri`). */
  storage: CheckpointStorageLike;
  /**
   * Flush after this many records appended since the last flush. Default
   * 1000. `0` or `Infinity` disables this trigger.
   */
  flushEvery?: number;
  /**
   * Flush once this many bytes (UTF-8, newlines included) were appended since
   * the last flush. Default 1 MiB. `0` or `Infinity` disables this trigger.
   */
  flushBytes?: number;
  /**
   * Flush this many milliseconds after the first record appended since the
   * last flush, so a slow crawl still persists. Default 1000. The timer is
   * `unref()`'d: it never keeps the process alive. `0` or `Infinity` disables it.
   */
  flushIntervalMs?: number;
  /**
   * Called for problems the manager recovered from: a torn record skipped by
   * `records()`, a failed timer flush (kept and retried), a failed close on a
   * signal. Default: print one line to stderr with `process.emitWarning`.
   */
  onWarning?: (warning: CheckpointWarning) => void;
  /**
   * When `true`, SIGINT and SIGTERM close the manager (flushing everything
   * appended) and then re-raise the signal, so Ctrl-C loses nothing. The
   * handlers are removed by `close()`. A second signal while closing kills
   * the process at once. Default `false`.
   */
  handleSignals?: boolean;
}

/** Options of {@link CheckpointManager.fromUri}: the manager's, plus the storage's. */
export interface CheckpointManagerFromUriOptions<S extends string = string>
  extends Omit<CheckpointManagerOptions, 'storage'> {
  /**
   * Passed to `StorageFactory.fromUri`: typed per scheme once the backend's
   * types are imported (each backend documents its own).
   */
  storageOptions?: OptionsForScheme<S>;
}

// One schema for the manager's options: unknown names and bad values are
// InvalidOptionError, like every storage's.
const THRESHOLD = { type: 'number', min: 0 } as const;
export const OPTIONS = defineOptions<Omit<CheckpointManagerOptions, 'storage'>>({
  flushEvery: THRESHOLD,
  flushBytes: THRESHOLD,
  flushIntervalMs: THRESHOLD,
  onWarning: { type: 'function' },
  handleSignals: { type: 'boolean' },
});

export function threshold(value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  return v === 0 ? Number.POSITIVE_INFINITY : v;
}
