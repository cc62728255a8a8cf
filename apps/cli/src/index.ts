// The CLI as a library: run it in-process (`main`), or build its commander
// program with your own streams (`createProgram`). Its commands' internals are
// not part of the API.
export { CliError } from './cli-error.js';
export type { CliIO, GlobalOptions } from './cli-io.js';
export { InterruptedError, type InterruptSignal } from './interrupt.js';
export { main } from './main.js';
export { createProgram } from './program.js';
export { ExitCode, exitCodeFor, formatError } from './report-error.js';
