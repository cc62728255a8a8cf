#!/usr/bin/env node
import { main } from './main.js';
import { exitWhenWritten, handleCrashes, handleInterrupts } from './process-lifecycle.js';

/** The AWS SDK's notice about a PutObject without Content-Length (see below). */
const UNKNOWN_LENGTH_NOTICE =
  'Are you using a Stream of unknown length as the Body of a PutObject request?';

const argv = process.argv.slice(2);
handleCrashes(argv, process.stderr);

// A reader that goes away (`yoink-storage cat … | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

// The AWS SDK prints a 9-line notice about its future Node versions on every
// run under Node 20; stderr is for our one-line errors and progress. Set the
// variable to "false" to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Workaround until @yoink/storage-s3 sends `ContentLength: 0` with the empty
// fence segment of an operator's compaction: the SDK then finds no
// Content-Length header and console.warns that a PutObject body may be a
// "Stream of unknown length" (it is an empty string). Only that exact notice
// is dropped; remove this once the fence carries its length.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]): void => {
  if (typeof args[0] === 'string' && args[0].startsWith(UNKNOWN_LENGTH_NOTICE)) return;
  warn(...args);
};

const signal = handleInterrupts(process.stderr);
await exitWhenWritten(await main(argv, { stdout: process.stdout, stderr: process.stderr, signal }));
