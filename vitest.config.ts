import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Tests import the TypeScript sources directly; the grammar bundle must exist
// (npm install generates it through the `prepare` script).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Set-up and clean-up hooks build modules, start servers and delete scratch trees; on a loaded 2-core machine that can pass vitest's default 10 s.
    hookTimeout: 120_000,
    pool: 'forks',
    // One test file per core. Vitest's default leaves a core to its main
    // process, which only waits while files run: on a 2-core machine that is
    // one file at a time, with the other core idle except for the dlc
    // processes the CLI tests start.
    maxWorkers: availableParallelism(),
  },
});
