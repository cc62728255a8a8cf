import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'storage-local',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Type tests compile against the built dist/*.d.ts only (src is left out, so a
    // declaration merge missing from dist cannot be hidden by the source's).
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './tsconfig.type-tests.json',
    },
    // Child processes in test/ run the built package: build it first.
    globalSetup: ['../../scripts/vitest-build-if-stale.ts'],
  },
});
