import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 20_000,
    // Most integration time is spent waiting on brokers and session timeouts, not CPU: two files at a time on the
    // 2-core CI machine roughly halve the run.
    maxWorkers: 2,
    // In CI a JSON report too, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env['CI'] ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]] : ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // One real Kafka for the whole run, started only when integration tests are run.
          globalSetup: ['test/support/shared-kafka.ts'],
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
