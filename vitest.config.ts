import { readFileSync } from 'node:fs'
import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { parse } from 'smol-toml'
import { defineConfig } from 'vitest/config'

/** wrangler.toml's vars as declared: pinned below, so a developer's `.dev.vars` (which the plugin
 *  merges into the worker's env, as wrangler does) changes nothing the tests' worker reads. */
const declaredVars = (parse(readFileSync('wrangler.toml', 'utf8')) as { vars: Record<string, string> }).vars

/** The edge worker: inside workerd, with the bindings wrangler.toml declares; its origins are
 *  real local HTTP servers (test/workerd-setup/origin-server.ts, test/workerd-setup/real-origins.ts). Every declared
 *  var is pinned to its wrangler.toml value, the origin vars empty and the secrets to test ones,
 *  whatever a local `.dev.vars` (written by npm start) says. */
/** The event log's queue as the tests run it: short batch windows, so a test waits little. */
const QUEUE = 'edge-rerank-events'
const DEAD_QUEUE = `${QUEUE}-dead`

interface EdgeProjectOptions {
  /** Test files; the event log's tests run once, in the default build's project. */
  include: string[]
  /** Vars over the pinned ones. */
  vars?: Record<string, string>
  /** The consumer's batch size and retries (wrangler.toml's otherwise). */
  consumer?: { maxBatchSize?: number; maxRetries?: number }
}

function edgeProject(
  name: string,
  main: string,
  backend: 'kernel' | 'ort',
  { include, vars = {}, consumer = {} }: EdgeProjectOptions,
) {
  return {
    extends: true as const,
    plugins: [
      cloudflareTest({
        main,
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            ...declaredVars,
            ORIGIN_URL: '',
            ORIGIN_TOKEN: '',
            USER_KEY_SECRET: 'edge-rerank-test-user-key',
            USER_KEY_VERSION: 'v1',
            USER_TOKEN_SECRET: 'edge-rerank-test-user-token',
            CORS_ORIGINS: 'https://shop.example',
            HEAD_BACKEND: backend,
            ...vars,
          },
          queueConsumers: {
            [QUEUE]: { maxBatchTimeout: 0.2, retryDelay: 0, deadLetterQueue: DEAD_QUEUE, ...consumer },
            [DEAD_QUEUE]: { maxBatchTimeout: 0.2 },
          },
        },
      }),
    ],
    test: {
      name,
      include,
      globalSetup: [
        'test/workerd-setup/origin-server.ts',
        'test/workerd-setup/real-origins.ts',
        'test/workerd-setup/head-reference.ts',
      ],
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
        test: { name: 'node', include: ['test/node/**/*.test.ts'], environment: 'node' },
      },
      // The same suite twice: the default build (the head on its WASM kernel) and the ort build
      // (functions/edge/index-ort.ts, HEAD_BACKEND=ort).
      edgeProject('workerd', './functions/edge/index.ts', 'kernel', {
        include: ['test/workerd/**/*.test.ts', 'test/workerd-events/**/*.test.ts'],
      }),
      edgeProject('workerd-ort', './functions/edge/index-ort.ts', 'ort', { include: ['test/workerd/**/*.test.ts'] }),
      // The event log with half the consumer batches failing: small batches, so there are many; 8
      // retries, so few reach the dead-letter queue (whose own path test/workerd-events checks).
      edgeProject('workerd-faults', './functions/edge/index.ts', 'kernel', {
        include: ['test/workerd-faults/**/*.test.ts'],
        vars: { CONSUMER_FAIL_SHARE: '0.5' },
        consumer: { maxBatchSize: 5, maxRetries: 8 },
      }),
    ],
  },
})
