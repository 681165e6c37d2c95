import { defineConfig } from 'vitest/config';

/**
 * Two tiers, chosen by file location:
 * - `unit`: pure code, no services, runs anywhere in seconds.
 * - `integration`: real PostgreSQL, Google's Pub/Sub and Firestore emulators, the local sheet
 *   and headless Chromium. Its global setup starts what is missing and, with CI=true, fails
 *   the run when a service cannot be had (it never skips).
 */
export default defineConfig({
  test: {
    // The Google client libraries otherwise probe the GCE metadata server, which is not here.
    env: { METADATA_SERVER_DETECTION: 'none' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // Unit tests first, on their own: they are quick and need no services.
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/chaos/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Two cores: more parallel files only add contention on the emulators.
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
