import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'core/**/*.test.ts', 'bridge/**/*.test.ts', 'connectors/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two cores here: keep parallelism modest so timing-sensitive protocol tests stay stable.
    maxWorkers: 2,
  },
});
