import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'storage-s3',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Its own tsconfig, so the type tests see only dist's declarations, not src's augmentation.
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './tsconfig.type-tests.json',
    },
    // test/registration.test.ts imports the built package: build it first.
    globalSetup: ['../../scripts/vitest-build-if-stale.ts'],
  },
});
