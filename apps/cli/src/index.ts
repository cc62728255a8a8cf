export { type CheckpointStats, computeStats } from './checkpoint-stats.js';
export { CliError } from './cli-error.js';
export type { CliIO, GlobalOptions } from './cli-io.js';
export { InterruptedError, type InterruptSignal } from './interrupt.js';
export { DEFAULT_CHUNK_CHARS, type LineChunk, lineChunks } from './line-chunks.js';
export { main } from './main.js';
export { createProgram } from './program.js';
export { ExitCode, exitCodeFor, formatError } from './report-error.js';
