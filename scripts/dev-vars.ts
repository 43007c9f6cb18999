/**
 * `.dev.vars`: the local secrets `wrangler dev` reads (dotenv lines; never committed). npm start
 * and kv:seed share what the edge needs from them: the origin's URL and token, and the secret
 * user ids are keyed with. A value once generated is kept, so a second start reuses it.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import type { UserKeySecret } from '../functions/shared/kv-keys.ts'

export const DEV_VARS = '.dev.vars'

function read(): Map<string, string> {
  const lines = existsSync(DEV_VARS) ? readFileSync(DEV_VARS, 'utf8').split('\n') : []
  return new Map(
    lines.filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  )
}

/** Sets `values`, generates `generate` keys that have no value yet, and returns every var. */
export function updateDevVars(values: Record<string, string>, generate: string[] = []): Map<string, string> {
  const vars = read()
  for (const [k, v] of Object.entries(values)) vars.set(k, v)
  for (const k of generate) if (!vars.get(k)) vars.set(k, randomBytes(24).toString('base64url'))
  writeFileSync(DEV_VARS, [...vars].map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
  return vars
}

/**
 * The user-key secret for a KV target: the environment's USER_KEY_SECRET (and USER_KEY_VERSION) when
 * set; for local KV otherwise `.dev.vars`' (generated there when missing, as `wrangler dev` reads it).
 */
export function userKeySecret(target: 'local' | 'remote'): UserKeySecret {
  const version = process.env.USER_KEY_VERSION || 'v1'
  if (process.env.USER_KEY_SECRET) return { secret: process.env.USER_KEY_SECRET, version }
  if (target === 'remote')
    throw new Error(
      'kv:seed --remote: set USER_KEY_SECRET (the secret the deployed edge has: `npx wrangler secret put USER_KEY_SECRET`)',
    )
  const vars = updateDevVars({}, ['USER_KEY_SECRET'])
  return { secret: vars.get('USER_KEY_SECRET')!, version: vars.get('USER_KEY_VERSION') || version }
}
