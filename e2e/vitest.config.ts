import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'e2e',
    include: ['test/**/*.test.ts'],
    // Packs every publishable package once (they must be built: `pnpm build`,
    // which the README's `pnpm test` runs first) and shares the tarballs.
    globalSetup: ['./test/pack-all.ts'],
    // Installing from the registry cache takes a while; a hung install still fails.
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
