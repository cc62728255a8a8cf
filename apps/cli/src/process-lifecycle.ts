import { constants } from 'node:os';
import type { Writable } from 'node:stream';
import { InterruptedError, type InterruptSignal } from './interrupt.js';
import { formatError } from './report-error.js';

/**
 * Makes SIGINT and SIGTERM stop the command cleanly: the first one prints a
 * notice on `stderr` and aborts the returned signal with an
 * {@link InterruptedError} (commands stop after their current write, close
 * their storages and exit 130/143); a second one exits at once with the same
 * code, for when closing cannot finish (a dead server).
 */
export function handleInterrupts(stderr: Writable): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: InterruptSignal): void => {
    if (controller.signal.aborted) process.exit(128 + constants.signals[signal]);
    stderr.write(
      `yoink-storage: ${signal}: stopping after the current write and closing the storages (send it again to quit at once)\n`,
    );
    controller.abort(new InterruptedError(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

/**
 * Reports an error nobody caught (a backend's late rejection, a throw in an
 * event handler) like any other, through {@link formatError} (one redacted
 * line, or the redacted stack with `--debug`), then exits 1: Node's own
 * report would print the raw stack and whatever URI it holds.
 */
export function handleCrashes(argv: readonly string[], stderr: Writable): void {
  const crash = (error: unknown): void => {
    stderr.write(formatError(error, argv, argv.includes('--debug')));
    void exitWhenWritten(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}

/** Resolves once everything written to `stream` has been handed to the OS (or it closed). */
function written(stream: Writable): Promise<void> {
  if (stream.destroyed || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/**
 * Exits the process with `code` once stdout and stderr are written out.
 *
 * The CLI does not wait for the event loop to drain: after a failure, a
 * storage whose close could not finish may keep a client alive (ioredis
 * reconnects forever, on a timer that holds the loop open), and the process
 * would never end although its work is done and its error printed.
 */
export async function exitWhenWritten(
  code: number,
  streams: readonly Writable[] = [process.stdout, process.stderr],
): Promise<never> {
  await Promise.all(streams.map(written));
  process.exit(code);
}
