import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Limits guard hangs only, far beyond the slowest honest run on a loaded 2-core machine.
    testTimeout: 300_000,
    // Console output (the worker's JSON log lines, training progress) only for failing tests.
    silent: 'passed-only',
    hookTimeout: 600_000,
    projects: [
      // Scripts, world, evaluation: plain Node.
      {
        extends: true,
        test: { name: 'node', include: ['test/**/*.test.ts'], exclude: ['test/edge/**'], environment: 'node' },
      },
      // The edge worker: inside workerd, with the bindings wrangler.toml declares; its origins are
      // real local HTTP servers (test/edge/origin-server.ts, test/edge/real-origins.ts). The origin
      // vars are pinned empty and the user-key secret to a test one, whatever a local `.dev.vars`
      // (written by npm start) says.
      {
        extends: true,
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ORIGIN_URL: '',
                ORIGIN_TOKEN: '',
                USER_KEY_SECRET: 'edge-rerank-test-user-key',
                USER_KEY_VERSION: 'v1',
                USER_TOKEN_SECRET: 'edge-rerank-test-user-token',
                CORS_ORIGINS: 'https://shop.example',
              },
            },
          }),
        ],
        test: {
          name: 'workerd',
          include: ['test/edge/**/*.test.ts'],
          globalSetup: ['test/edge/origin-server.ts', 'test/edge/real-origins.ts'],
        },
      },
    ],
  },
})
