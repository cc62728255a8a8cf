import { defineConfig } from 'vitest/config';

// One root config; each package is a vitest project with its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
  },
});
