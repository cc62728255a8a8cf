/**
 * An error the CLI reports as one line, with exit code 1 (failure) or 2
 * (usage error). Other errors are reported the same way; this class only
 * lets a command choose the exit code.
 */
export class CliError extends Error {
  /** The process exit code: 1 for a failure, 2 for a usage error. */
  readonly exitCode: 1 | 2;

  constructor(message: string, options: { exitCode?: 1 | 2; cause?: unknown } = {}) {
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
