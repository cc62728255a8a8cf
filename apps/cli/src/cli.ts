#!/usr/bin/env node
import { main } from './main.js';
import { exitWhenWritten, handleCrashes, handleInterrupts } from './process-lifecycle.js';

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

const signal = handleInterrupts(process.stderr);
await exitWhenWritten(await main(argv, { stdout: process.stdout, stderr: process.stderr, signal }));
