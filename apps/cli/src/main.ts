import { CommanderError } from 'commander';
import { OutputClosedError } from './cli-error.js';
import type { CliIO } from './cli-io.js';
import { createProgram } from './program.js';
import { exitCodeFor, formatError } from './report-error.js';

/**
 * Runs `yoink-storage` with `argv` (the arguments after the program name)
 * and resolves to the exit code: 0 success, 1 failure, 2 usage error. Errors
 * are printed to `io.stderr` as one line with credentials redacted (the stack
 * and causes too with `--debug`).
 *
 * @example
 * ```ts
 * process.exitCode = await main(['stat', './crawl.jsonl', '--json']);
 * ```
 */
export async function main(
  argv: readonly string[],
  io: CliIO = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    // Commander has printed its own message already; a closed stdout needs none.
    if (!(error instanceof CommanderError) && !(error instanceof OutputClosedError)) {
      io.stderr.write(formatError(error, argv, argv.includes('--debug')));
    }
    return exitCodeFor(error);
  }
}
