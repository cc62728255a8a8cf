import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'checkpoint',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
});
