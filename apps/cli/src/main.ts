import type { CliIO } from './cli-io.js';
import { createProgram } from './program.js';
import { exitCodeFor, formatError, shouldReport } from './report-error.js';

/**
 * Runs `yoink-storage` with `argv` (the arguments after the program name)
 * and resolves to the exit code: 0 success, 1 failure, 2 usage error, 130
 * (143) when `io.signal` was aborted by SIGINT (SIGTERM). Errors, commander's
 * usage errors included, are printed to `io.stderr` as one line with
 * credentials redacted (the stack and causes too with `--debug`).
 *
 * It resolves once the command has finished and its storages are closed,
 * except a storage that failed (unreachable, killed): that one is not closed
 * again, and a backend may keep its client reconnecting (Redis does). The
 * `yoink-storage` binary therefore exits explicitly with the code; a program
 * that embeds `main` should do the same after a failure.
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
    if (shouldReport(error)) io.stderr.write(formatError(error, argv, argv.includes('--debug')));
    return exitCodeFor(error);
  }
}
