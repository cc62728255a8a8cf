/**
 * An error the CLI reports as one line, with the exit code it chooses: 1
 * (failure, the default), 2 (usage error), or 128 + n after signal n
 * ({@link InterruptedError}). Other errors are reported the same way; this
 * class only lets a command choose the exit code.
 */
export class CliError extends Error {
  /** The process exit code: 1 for a failure, 2 for a usage error, 130/143 after SIGINT/SIGTERM. */
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Thrown by {@link writeOutput} when the reader of stdout went away (`| head`). */
export class OutputClosedError extends Error {
  constructor() {
    super('output closed');
    this.name = 'OutputClosedError';
  }
}
