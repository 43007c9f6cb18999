import { beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { manifest } from '../../functions/edge/artifacts.ts'
import { candidateId } from '../../functions/shared/rerank-api.ts'
import { answerIds as ids, bindings, call, FIXTURES, inputOrder, seedFixtureKv, storedHistoryKey } from './harness.ts'

// The edge (real KV, real ORT-web head, in workerd) falling back to the real origin (the
// committed teacher on onnxruntime-node, over HTTP): test/workerd-setup/real-origins.ts.
beforeAll(seedFixtureKv)

const origins = inject('realOrigins')
const vars = (origin: keyof typeof origins, more: Record<string, string> = {}) => ({
  CACHE_TTL_S: '0',
  ORIGIN_URL: origins[origin],
  ORIGIN_TOKEN: origins.token,
  ORIGIN_DEADLINE_MS: '5000',
  ...more,
})

/** What the origin answers to `body` when asked directly, its candidates as the edge sends them (ids, in id order). */
async function fromOrigin(request: { candidates: (string | { id: string })[] } & Record<string, unknown>) {
  const body = { ...request, candidates: request.candidates.map(candidateId).sort() }
  const res = await fetch(`${origins.full}/v1/rerank`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${origins.token}` },
    body: JSON.stringify(body),
  })
  return res.json() as Promise<{ items: { id: string; score: number }[]; path: string }>
}

describe('the edge with the real origin', () => {
  it('mode=full answers from the teacher, as the origin itself ranks the list', async () => {
    const { request, expected } = FIXTURES.history
    const { res, body } = await call({ ...request, mode: 'full' }, { vars: vars('full') })
    expect(body).toMatchObject({ path: 'origin', model: manifest.version })
    expect(body.degraded).toBeUndefined()
    expect(res.headers.get('X-Rerank-Path')).toBe('origin')
    expect(body.items).toEqual((await fromOrigin({ ...request, mode: 'full' })).items)
    expect(ids(body)).not.toEqual(expected.edge!.order) // the teacher, not the head
  })

  it('forwards the history the edge read for a user id, and the teacher personalizes with it', async () => {
    const { request } = FIXTURES['user-id']
    const { body } = await call({ ...request, mode: 'full' }, { vars: vars('full') })
    const stored = JSON.parse((await bindings.EMBEDDINGS.get(await storedHistoryKey(request.user!.id!)))!) as string[]
    const direct = await fromOrigin({ ...request, user: { history: stored.slice(0, 50) } })
    expect(body.path).toBe('origin')
    expect(body.items).toEqual(direct.items)
    expect(body.items).not.toEqual((await fromOrigin({ ...request, user: undefined })).items)
  })

  it('an unknown query falls back to the origin, which encodes it and answers with the teacher', async () => {
    const { res, body } = await call(FIXTURES['unknown-query'].request, { vars: vars('full') })
    expect(body.path).toBe('origin')
    expect(body.degraded).toBeUndefined()
    expect(res.headers.get('X-Rerank-Fallback')).toBe('query_without_embedding')
    expect(body.items.every((i: { score: unknown }) => typeof i.score === 'number')).toBe(true)
  })

  it('too many candidates without embeddings: the origin scores the known ones, the rest follow unscored', async () => {
    const { body } = await call(FIXTURES['unknown-items'].request, { vars: vars('full') })
    expect(body).toMatchObject({ path: 'origin', degraded: ['candidates_without_embedding'] })
    expect(body.items.slice(-10).every((i: { score: unknown }) => i.score === null)).toBe(true)
  })

  it('a slow origin: passthrough with origin_timeout at the deadline', async () => {
    const started = Date.now()
    const { body } = await call(FIXTURES['unknown-query'].request, {
      vars: vars('slow', { ORIGIN_DEADLINE_MS: '300' }),
    })
    expect(body).toMatchObject({ path: 'passthrough', degraded: ['query_without_embedding', 'origin_timeout'] })
    expect(Date.now() - started).toBeLessThan(950) // well before the origin's batch would start
  })

  it("an origin at capacity (503) counts as its failure: the edge's breaker opens", async () => {
    const v = vars('narrow', { BREAKER_FAILURES: '1', BREAKER_COOLDOWN_S: '60' })
    const request = { ...FIXTURES.anonymous.request, mode: 'full' as const }
    const first = call(request, { vars: v }) // waits in the origin's batch window, filling its queue
    // Until the origin says the first one is queued (its /healthz counts them).
    const queued = async () => ((await (await fetch(`${origins.narrow}/healthz`)).json()) as any).batching.queued
    while ((await queued()) < 1) await new Promise((r) => setTimeout(r, 10))
    const refused = await call(request, { vars: v })
    expect(refused.body).toMatchObject({ path: 'edge', degraded: ['origin_error'] })
    const skipped = await call(request, { vars: v }) // while the first still waits
    expect(skipped.body).toMatchObject({ path: 'edge', degraded: ['origin_breaker_open'] })
    expect((await first).body.path).toBe('origin')
  })

  it('the origin stopped mid-run: passthrough with origin_error, the breaker opens, and closes once it is back', async () => {
    const v = vars('restartable', { BREAKER_FAILURES: '2', BREAKER_COOLDOWN_S: '1' })
    const { request } = FIXTURES['unknown-query']
    const reason = async () => (await call(request, { vars: v })).body.degraded?.at(-1) ?? 'answered'
    expect(await reason()).toBe('answered')
    await fetch(`${origins.control}/restartable/stop`, { method: 'POST' })
    expect([await reason(), await reason(), await reason()]).toEqual([
      'origin_error',
      'origin_error',
      'origin_breaker_open',
    ])
    const passthrough = await call(request, { vars: v })
    expect(ids(passthrough.body)).toEqual(inputOrder('unknown-query'))
    await fetch(`${origins.control}/restartable/start`, { method: 'POST' })
    await new Promise((r) => setTimeout(r, 1100)) // the cooldown
    expect(await reason()).toBe('answered') // the half-open trial succeeds
    const health = await call(null, { method: 'GET', path: '/healthz', vars: v })
    expect(health.body.origin).toEqual({ configured: true, breaker: 'closed' })
  })
})
