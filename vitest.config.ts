import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    testTimeout: 60_000,
    // Console output (the worker's JSON log lines, training progress) only for failing tests.
    silent: 'passed-only',
    hookTimeout: 120_000,
    projects: [
      // Scripts, world, evaluation: plain Node.
      {
        extends: true,
        test: { name: 'node', include: ['test/**/*.test.ts'], exclude: ['test/edge/**'], environment: 'node' },
      },
      // The edge worker: inside workerd, with the bindings wrangler.toml declares; its origin is a
      // real local HTTP server (test/edge/origin-server.ts).
      {
        extends: true,
        plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' } })],
        test: { name: 'workerd', include: ['test/edge/**/*.test.ts'], globalSetup: ['test/edge/origin-server.ts'] },
      },
    ],
  },
})
