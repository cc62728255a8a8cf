import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'storage-plugin-template',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
});
