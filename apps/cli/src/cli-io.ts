import type { Writable } from 'node:stream';

/** The CLI's process environment: where it writes, and how it is interrupted. */
export interface CliIO {
  /** Results. */
  stdout: Writable;
  /** Progress and errors. */
  stderr: Writable & { isTTY?: boolean };
  /**
   * Aborted (with an `InterruptedError`) when the user interrupts the command
   * (SIGINT, SIGTERM): commands then stop between two writes, close their
   * storages and reject with that error. Absent: never interrupted.
   */
  signal?: AbortSignal;
}

/** Options every command accepts (declared on the program). */
export interface GlobalOptions {
  /** Print stack traces and causes of errors. */
  debug?: boolean;
  /** Backend options from `-o key=value`, passed to `StorageFactory.fromUri`. */
  option?: Record<string, string | number | boolean>;
}
