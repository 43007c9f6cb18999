/** Shared by the edge tests (inside workerd): the fixture KV, the fixture requests, and a way to
 *  call the worker with other vars (an origin URL) while keeping its real bindings. The worker is
 *  the ort build (both head backends); each test project's HEAD_BACKEND picks the one it tests
 *  (vitest.config.ts), so the same suite runs on the kernel and on onnxruntime-web. */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { inject } from 'vitest'
import anonymous from '../fixtures/requests/anonymous.json'
import history from '../fixtures/requests/history.json'
import unknownItems from '../fixtures/requests/unknown-items.json'
import unknownQuery from '../fixtures/requests/unknown-query.json'
import userId from '../fixtures/requests/user-id.json'
import expectedAnonymous from '../fixtures/expected/anonymous.json'
import expectedHistory from '../fixtures/expected/history.json'
import expectedUnknownItems from '../fixtures/expected/unknown-items.json'
import expectedUnknownQuery from '../fixtures/expected/unknown-query.json'
import expectedUserId from '../fixtures/expected/user-id.json'
import kv from '../fixtures/kv.json'
import histories from '../fixtures/histories.json'
import { edgeConfig, type Bindings } from '../../functions/edge/config.ts'
import { KernelHead } from '../../functions/edge/head/kernel-head.ts'
import { kernelArtifacts } from '../../functions/edge/head/kernel-bundle.ts'
import { OrtHead } from '../../functions/edge/head/ort-head.ts'
import { ortArtifacts } from '../../functions/edge/head/ort-bundle.ts'
import type { RerankHead } from '../../functions/edge/head/rerank-head.ts'
import app, { heads } from '../../functions/edge/index-ort.ts'
import { rerankHead } from '../../functions/edge/parts.ts'
import { historyKey, type UserKeySecret } from '../../functions/shared/kv-keys.ts'
import { signUserToken } from '../../functions/shared/user-token.ts'
import { candidateId, type RerankRequestInput, type RerankResponse } from '../../functions/shared/rerank-api.ts'
import type { Expected } from '../../scripts/fixtures/build.ts'

export const FIXTURES: Record<string, { request: RerankRequestInput; expected: Expected }> = {
  anonymous: { request: anonymous, expected: expectedAnonymous },
  history: { request: history, expected: expectedHistory },
  'user-id': { request: userId, expected: expectedUserId },
  'unknown-query': { request: unknownQuery, expected: expectedUnknownQuery },
  'unknown-items': { request: unknownItems, expected: expectedUnknownItems },
}

export const bindings = env as unknown as Bindings

export { app }

/** The head backend this test project runs (HEAD_BACKEND), and the isolate's instance of it. */
export const backend = edgeConfig(bindings).HEAD_BACKEND
export const configuredHead = () => rerankHead(heads, edgeConfig(bindings))

/** This project's head backend with a broken model file: it cannot load. */
export function brokenHead(): RerankHead {
  return backend === 'ort'
    ? new OrtHead({ ...ortArtifacts(), model: new TextEncoder().encode('not an onnx model') })
    : new KernelHead({ ...kernelArtifacts(), weights: new Uint8Array(100) })
}

/** A fixture request's candidate ids, in its order. */
export const inputOrder = (name: string) => FIXTURES[name].request.candidates.map(candidateId)

/** An answer's ids, in its order. */
export const answerIds = (body: { items: { id: string }[] }) => body.items.map((i) => i.id)

/** An item record (codec text) with its price rewritten by `f`, the vector untouched. */
export function repriced(record: string, f: (price: number) => number): string {
  const bytes = Uint8Array.from(atob(record), (c) => c.charCodeAt(0))
  const view = new DataView(bytes.buffer)
  view.setFloat32(4, f(view.getFloat32(4, true)), true)
  return btoa(String.fromCharCode(...bytes))
}

/** The test deployment's secret for signed user tokens (vitest.config.ts pins it). */
export const USER_TOKEN_SECRET = bindings.USER_TOKEN_SECRET!

/** The test deployment's user-key secret (vitest.config.ts pins it). */
export const userKey: UserKeySecret = { secret: bindings.USER_KEY_SECRET!, version: bindings.USER_KEY_VERSION ?? 'v1' }

/** Where the edge finds a user's stored history in this test deployment. */
export const storedHistoryKey = (userId: string) => historyKey(userKey, userId)

/** Puts the fixture slice of the release, and the fixture users' histories, into the real (local) KV namespace. */
export async function seedFixtureKv(): Promise<void> {
  await Promise.all([
    ...kv.map((e) => bindings.EMBEDDINGS.put(e.key, e.value)),
    ...histories.map(async (h) => bindings.EMBEDDINGS.put(await storedHistoryKey(h.user), JSON.stringify(h.history))),
  ])
}

export const originUrl = (behaviour: string, tag = crypto.randomUUID()) => `${inject('originUrl')}/${behaviour}/${tag}/`

/** What the test origin received under a URL made by `originUrl`. */
export async function originCalls(
  url: string,
): Promise<{ path: string; headers: Record<string, string>; body: any }[]> {
  const prefix = new URL(url).pathname
  return (await fetch(`${inject('originUrl')}/calls${prefix}`)).json()
}

/** One request through the worker's app, with `vars` over the real bindings; waits for waitUntil work. */
export async function call(
  request: RerankRequestInput | string | null,
  opts: {
    vars?: Partial<Bindings>
    method?: string
    path?: string
    headers?: Record<string, string>
    /** The X-User-Token to send; by default one the storefront would sign for a request's user.id. */
    userToken?: string | null
  } = {},
): Promise<{ res: Response; body: any }> {
  const method = opts.method ?? 'POST'
  const userId = typeof request === 'object' && request ? request.user?.id : undefined
  const token =
    opts.userToken !== undefined ? opts.userToken : userId ? await signUserToken(USER_TOKEN_SECRET, userId) : null
  const init: RequestInit = {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { 'X-User-Token': token } : {}), ...opts.headers },
  }
  if (method === 'POST') init.body = typeof request === 'string' ? request : JSON.stringify(request)
  const ctx = createExecutionContext()
  const res = await app.fetch(
    new Request(`https://edge.test${opts.path ?? '/v1/rerank'}`, init),
    { ...bindings, ...opts.vars },
    ctx,
  )
  await waitOnExecutionContext(ctx)
  const text = await res.text()
  let body: any = text
  try {
    body = JSON.parse(text)
  } catch {
    // leave as text
  }
  return { res, body }
}

export type Answer = RerankResponse
