import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'bench',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The quick-mode test runs dist/run.js in a child process: build it first.
    globalSetup: ['../scripts/vitest-build-if-stale.ts'],
  },
});
