import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/setup.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    // Worker threads segfault at exit with the Temporal native bridge: use child processes. Each test file starts
    // its own Temporal server (time skipping is server-wide), so files may run side by side.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
