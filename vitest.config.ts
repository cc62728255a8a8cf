import { defineConfig } from 'vitest/config';

// One root config; each package is a vitest project with its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'examples/*', '*/vitest.config.ts'],
    // Most test files wait on servers and child processes, not on the CPU:
    // vitest's default (one worker per core but one) leaves a 2-core machine
    // running one file at a time (about 10 minutes); three take about 5.
    maxWorkers: 3,
    // CI also writes a JSON report, from which .ci/run prints "N passed, N failed".
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.tmp/vitest-report.json' },
  },
});
