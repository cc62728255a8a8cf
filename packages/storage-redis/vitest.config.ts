import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'storage-redis',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    // Child processes in test/ run the built package: build it first.
    globalSetup: ['../../scripts/vitest-build-if-stale.ts'],
  },
});
