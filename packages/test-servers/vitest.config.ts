import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'test-servers',
    include: ['test/**/*.test.ts'],
    // test/fixtures/*.mjs import the built entry points: build them first.
    globalSetup: ['../../scripts/vitest-build-if-stale.ts'],
  },
});
