import { defineConfig } from 'vitest/config';

// Tests import the TypeScript sources directly; the grammar bundle must exist
// (npm install generates it through the `prepare` script).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
