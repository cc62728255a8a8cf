import type { Writable } from 'node:stream';

/** Where the CLI writes: stdout for results, stderr for progress and errors. */
export interface CliIO {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
}

/** Options every command accepts (declared on the program). */
export interface GlobalOptions {
  /** Print stack traces and causes of errors. */
  debug?: boolean;
  /** Backend options from `-o key=value`, passed to `StorageFactory.fromUri`. */
  option?: Record<string, string | number | boolean>;
}
