/** Shared by the origin's tests (in Node): real origins over real HTTP on 127.0.0.1, one catalog. */
import { afterAll } from 'vitest'
import { originConfig } from '../../../functions/origin/config.ts'
import type { RunningOrigin } from '../../../functions/origin/server.ts'
import { launchOrigin } from '../../../functions/origin/main.ts'
import type { OriginRelease } from '../../../functions/origin/service.ts'
import { syntheticOriginRelease } from '../../../scripts/world/release-world.ts'

export const TOKEN = 'origin-test-token'

let parts: OriginRelease | undefined
/** The committed release's catalog (the default SYNTHETIC world), loaded once per test file. */
export const catalogParts = () => (parts ??= syntheticOriginRelease('models', 'data/worlds/default'))

const running: RunningOrigin[] = []
afterAll(() => Promise.all(running.map((o) => o.stop())))

/** An origin on a free port with `env` over the test defaults (token, onnx on CPU), stopped after the file. */
export async function startTestOrigin(env: Record<string, string> = {}): Promise<RunningOrigin> {
  const origin = await launchOrigin(originConfig({ ORIGIN_TOKEN: TOKEN, PORT: '0', ...env }), catalogParts())
  running.push(origin)
  return origin
}

export interface Answer {
  status: number
  headers: Headers
  body: any
}

/** POSTs to `url` + `path`: a string body as is, anything else as JSON. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  path = '/v1/rerank',
): Promise<Answer> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // leave as text
  }
  return { status: res.status, headers: res.headers, body: parsed }
}
