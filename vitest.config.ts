import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

/** The edge worker: inside workerd, with the bindings wrangler.toml declares; its origins are
 *  real local HTTP servers (test/edge/origin-server.ts, test/edge/real-origins.ts). The origin
 *  vars are pinned empty and the user-key secret to a test one, whatever a local `.dev.vars`
 *  (written by npm start) says. */
function edgeProject(name: string, main: string, backend: 'kernel' | 'ort') {
  return {
    extends: true as const,
    plugins: [
      cloudflareTest({
        main,
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            ORIGIN_URL: '',
            ORIGIN_TOKEN: '',
            USER_KEY_SECRET: 'edge-rerank-test-user-key',
            USER_KEY_VERSION: 'v1',
            USER_TOKEN_SECRET: 'edge-rerank-test-user-token',
            CORS_ORIGINS: 'https://shop.example',
            HEAD_BACKEND: backend,
          },
        },
      }),
    ],
    test: {
      name,
      include: ['test/edge/**/*.test.ts'],
      globalSetup: ['test/edge/origin-server.ts', 'test/edge/real-origins.ts', 'test/edge/head-reference.ts'],
    },
  }
}

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
      // The same suite twice: the default build (the head on its WASM kernel) and the ort build
      // (functions/edge/index-ort.ts, HEAD_BACKEND=ort).
      edgeProject('workerd', './functions/edge/index.ts', 'kernel'),
      edgeProject('workerd-ort', './functions/edge/index-ort.ts', 'ort'),
    ],
  },
})
