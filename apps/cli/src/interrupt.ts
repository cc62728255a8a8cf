import { constants } from 'node:os';
import { CliError } from './cli-error.js';

/** The signals after which the CLI stops cleanly. */
export type InterruptSignal = 'SIGINT' | 'SIGTERM';

/**
 * The user interrupted the command (Ctrl-C, or `kill`). The command stopped
 * at a safe point (between two writes) and closed its storages; the exit
 * code is 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), as a
 * shell reports a process killed by that signal.
 */
export class InterruptedError extends CliError {
  /** The signal that interrupted the command. */
  readonly signal: InterruptSignal;

  /**
   * @param signal the signal received.
   * @param detail what the command had done when it stopped, appended to the message.
   */
  constructor(signal: InterruptSignal, detail?: string) {
    super(`interrupted by ${signal}${detail ? `: ${detail}` : ''}`, {
      exitCode: 128 + constants.signals[signal],
    });
    this.name = 'InterruptedError';
    this.signal = signal;
  }
}

/**
 * Throws the {@link InterruptedError} that `signal` was aborted with (or a
 * new one for SIGINT if it was aborted with something else); does nothing
 * while it is not aborted or absent.
 */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof InterruptedError ? reason : new InterruptedError('SIGINT');
}

/**
 * Yields the items of `items` until `signal` is aborted, then throws its
 * {@link InterruptedError} (the source is closed by `for await`). The check
 * runs between items, before the next one is pulled: the caller's work on
 * the current item (a write) is finished first, so a command stops at a
 * known point.
 *
 * @example
 * ```ts
 * for await (const line of untilInterrupted(storage.read(), io.signal)) count++;
 * ```
 */
export async function* untilInterrupted<T>(
  items: AsyncIterable<T>,
  signal: AbortSignal | undefined,
): AsyncGenerator<T, void, undefined> {
  throwIfInterrupted(signal);
  for await (const item of items) {
    yield item;
    throwIfInterrupted(signal);
  }
}
