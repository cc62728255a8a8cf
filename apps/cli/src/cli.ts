#!/usr/bin/env node
import { main } from './main.js';
import { exitWhenWritten, handleCrashes, handleInterrupts } from './process-lifecycle.js';

const argv = process.argv.slice(2);
handleCrashes(argv, process.stderr);

// A reader that goes away (`yoink-storage cat … | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

const signal = handleInterrupts(process.stderr);
await exitWhenWritten(await main(argv, { stdout: process.stdout, stderr: process.stderr, signal }));
