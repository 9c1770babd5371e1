import { defineConfig } from 'vitest/config';
import { SlowestFirstSequencer } from './test/support/slowest-first.js';

export default defineConfig({
  resolve: {
    // One graphql instance: Apollo's packages load graphql's CommonJS entry (Node ignores
    // its "module" field), so test code must too, or schemas fail the instanceof checks.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'data/**'],
    // No egress: Apollo telemetry off and the egress guard in every worker (fails a file that tries).
    setupFiles: ['test/support/egress-setup.ts', 'test/support/data-dir-setup.ts'],
    // Whole-stack tests start real HTTP servers; give them room on a 2-core machine that CI may
    // share with other work. A timeout is a hang detector here, never a performance check: a test
    // that overran it would keep sending in the background and corrupt the next test's counts.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // One module graph per worker, not per file: importing Apollo, graphql and the gateway
    // again for each of ~110 files cost more than a third of the run (import 214 s of 601 s,
    // 37 s of 444 s without). Safe because no test changes process.env, mocks modules, fakes
    // timers or sets a global dispatcher; setupFiles still run before each file (own DATA_DIR).
    isolate: false,
    // The slowest files start first, so they overlap with the short ones (test/support/slowest-first.ts).
    sequence: { sequencer: SlowestFirstSequencer },
    maxWorkers: 2,
  },
});
