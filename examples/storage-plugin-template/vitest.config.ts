import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'storage-plugin-template',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Type tests compile against the built dist/*.d.ts only (src is left out, so a
    // declaration merge missing from dist cannot be hidden by the source's).
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './tsconfig.type-tests.json',
    },
  },
});
