import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'storage-s3',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
});
