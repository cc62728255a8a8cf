import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'storage-testkit',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
});
