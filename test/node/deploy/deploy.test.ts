import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../world/fixture.ts'

// `npm run deploy`'s checks, as far as they run without a Cloudflare account: the bundle and the
// config (--dry-run), and the stop at the login check. The account steps themselves (namespace,
// kv:seed --remote, secrets, wrangler deploy) need an account and the network, which tests lack.
function deploy(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync('npx', ['tsx', 'scripts/deploy/cli.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  })
  return { status: r.status, out: r.stdout + r.stderr }
}

describe('npm run deploy', () => {
  it('stops when ORIGIN_URL is empty and --no-origin was not given', () => {
    const r = deploy(['--dry-run'])
    expect(r.status).toBe(1)
    expect(r.out).toMatch(/ORIGIN_URL is empty in wrangler\.toml: .* or pass --no-origin/)
  })

  it('--dry-run checks the bundle against the plan and prints the account steps in order', () => {
    const r = deploy(['--dry-run', '--no-origin'])
    expect(r.status).toBe(0)
    expect(r.out).toMatch(/deploy 1\/8: bundle \d+ KiB, \d+ KiB gzip: fits the Free plan/)
    const steps = [
      'wrangler whoami',
      'kv namespace create',
      'queues create edge-rerank-events',
      'r2 bucket create edge-rerank-events',
      'lifecycle add edge-rerank-events expire-log log/ --expire-days 90',
      'kv:seed -- --remote',
      'secret list',
      'wrangler deploy',
    ]
    const at = steps.map((s) => r.out.indexOf(s))
    expect(at.every((i) => i > 0)).toBe(true)
    expect([...at].sort((a, b) => a - b)).toEqual(at)
  })

  it('stops at the login check without credentials, before touching KV or deploying', () => {
    const home = tempDir('deploy-home')
    const r = deploy(['--no-origin'], { HOME: home, XDG_CONFIG_HOME: home, CLOUDFLARE_API_TOKEN: '' })
    expect(r.status).toBe(1)
    expect(r.out).toMatch(/deploy: stopped: wrangler is not logged in: run npx wrangler login/)
    expect(r.out).not.toMatch(/deploy 4\/8/)
  })
})
