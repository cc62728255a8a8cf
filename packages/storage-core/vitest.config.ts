import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'storage-core',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Type tests (*.test-d.ts) run through tsc in the same run.
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
