import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'storage-core',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
});
