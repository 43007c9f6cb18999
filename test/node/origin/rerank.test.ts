import * as ort from 'onnxruntime-node'
import { beforeAll, describe, expect, it } from 'vitest'
import { rerankAtOrigin } from '../../../functions/origin/rerank.ts'
import type { RunningOrigin } from '../../../functions/origin/server.ts'
import { normalizeQuery } from '../../../functions/shared/query-text.ts'
import { RerankRequest, type RerankRequestInput } from '../../../functions/shared/rerank-api.ts'
import anonymous from '../../fixtures/requests/anonymous.json'
import history from '../../fixtures/requests/history.json'
import unknownQuery from '../../fixtures/requests/unknown-query.json'
import { catalogParts, post, startTestOrigin } from './harness.ts'

// The origin's teacher over the catalog, through real HTTP and real onnxruntime-node.
let origin: RunningOrigin
beforeAll(async () => void (origin = await startTestOrigin()))

const ids = (body: { items: { id: string }[] }) => body.items.map((i) => i.id)
const scoresOf = (body: { items: { id: string; score: number | null }[] }) =>
  new Map(body.items.map((i) => [i.id, i.score]))

/** The teacher's scores for a request, from tensors built here by hand from the catalog's rows. */
async function referenceScores(req: {
  query: string
  candidates: { id: string }[]
  history: string[]
}): Promise<Map<string, number>> {
  const { catalog } = catalogParts()
  const session = await ort.InferenceSession.create('models/onnx/armmt.onnx')
  const rows = req.candidates.map((c) => catalog.row(c.id)!)
  const hist = req.history.map((id) => catalog.row(id)!)
  const [L, H] = [rows.length, Math.max(1, hist.length)]
  const t = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims)
  const stack = (rs: number[], n: number, get: (r: number) => Float32Array) => {
    const out = new Float32Array(n * 128)
    rs.forEach((r, i) => out.set(get(r), i * 128))
    return out
  }
  const prices = (rs: number[], n: number) =>
    Float32Array.from({ length: n }, (_, i) => (i < rs.length ? catalog.price(rs[i]) : 1))
  const ones = (k: number, n: number) => Float32Array.from({ length: n }, (_, i) => (i < k ? 1 : 0))
  const out = await session.run({
    query: t(catalog.queryVector(normalizeQuery(req.query))!, [1, 128]),
    text: t(
      stack(rows, L, (r) => catalog.text(r)),
      [1, L, 128],
    ),
    image: t(
      stack(rows, L, (r) => catalog.image(r)),
      [1, L, 128],
    ),
    price: t(prices(rows, L), [1, L]),
    mask: t(ones(L, L), [1, L]),
    hist_text: t(
      stack(hist, H, (r) => catalog.text(r)),
      [1, H, 128],
    ),
    hist_image: t(
      stack(hist, H, (r) => catalog.image(r)),
      [1, H, 128],
    ),
    hist_mask: t(ones(hist.length, H), [1, H]),
    hist_price: t(prices(hist, H), [1, H]),
  })
  const score = out.score.data as Float32Array
  return new Map(req.candidates.map((c, i) => [c.id, score[i]]))
}

describe('POST /v1/rerank at the origin', () => {
  it('answers with the teacher: scores equal onnxruntime-node on the catalog rows, within 1e-5', async () => {
    const { status, body } = await post(origin.url, history)
    expect(status).toBe(200)
    expect(body).toMatchObject({ path: 'origin', model: origin.service.rerank.model })
    const want = await referenceScores({ ...history, history: history.user.history })
    const got = scoresOf(body)
    for (const [id, score] of want) expect(Math.abs(got.get(id)! - score)).toBeLessThanOrEqual(1e-5)
  })

  it('personalizes with the history it is sent', async () => {
    const withHistory = await post(origin.url, history)
    const without = await post(origin.url, { ...history, user: undefined })
    expect(ids(without.body)).not.toEqual(ids(withHistory.body))
  })

  it('encodes a tail query the catalog has no vector for, and still answers with the teacher', async () => {
    expect(catalogParts().catalog.queryVector(unknownQuery.query)).toBeUndefined()
    const { body } = await post(origin.url, unknownQuery)
    expect(body.path).toBe('origin')
    expect(body.degraded).toBeUndefined()
    expect(body.items.every((i: { score: unknown }) => typeof i.score === 'number')).toBe(true)
  })

  it('passes through a query with no known word, in retrieval order, saying why', async () => {
    const { body } = await post(origin.url, { ...unknownQuery, query: 'zqx plorfwig' })
    expect(body).toMatchObject({ path: 'passthrough', degraded: ['query_without_embedding'] })
    expect(ids(body)).toEqual(unknownQuery.candidates.map((c) => c.id))
  })

  it('answers a bare user id without personalization, and says so (user stores live at the edge)', async () => {
    const { body } = await post(origin.url, { ...anonymous, user: { id: 'u00042' } })
    const plain = await post(origin.url, anonymous)
    expect(body).toMatchObject({ path: 'origin', degraded: ['history_unavailable'] })
    expect(body.items).toEqual(plain.body.items)
  })

  it('ranks candidates the catalog lacks last, unscored, saying so', async () => {
    const request = { ...anonymous, candidates: [{ id: 'sku-nowhere', score: 9 }, ...anonymous.candidates.slice(0, 5)] }
    const { body } = await post(origin.url, request)
    expect(body).toMatchObject({ path: 'origin', degraded: ['candidates_without_embedding'] })
    expect(body.items.at(-1)).toEqual({ id: 'sku-nowhere', score: null })
  })

  it('refuses a malformed X-Deadline-Ms, naming it', async () => {
    const { status, body } = await post(origin.url, anonymous, { 'X-Deadline-Ms': 'soon' })
    expect(status).toBe(400)
    expect(body.field).toBe('X-Deadline-Ms')
  })
})

describe('dynamic batching', () => {
  /** Requests of mixed list and history lengths. */
  const mixed: RerankRequestInput[] = [
    history,
    { ...history, candidates: history.candidates.slice(0, 7), user: { history: history.user.history.slice(0, 3) } },
    anonymous,
    { ...anonymous, candidates: anonymous.candidates.slice(10, 60), user: { history: history.user.history } },
    { ...unknownQuery, user: { history: history.user.history.slice(0, 11) } },
    { ...history, candidates: history.candidates.slice(40), user: { history: [] } },
  ]

  it('scores a padded batch exactly as each request alone (≤ 1e-5), for mixed list and history lengths', async () => {
    const alone = await startTestOrigin({ BATCH_WINDOW_MS: '0', MAX_BATCH: '1' })
    const batched = await startTestOrigin({ BATCH_WINDOW_MS: '50', MAX_BATCH: '64' })
    const single = await Promise.all(mixed.map((r) => post(alone.url, r)))
    const together = await Promise.all(mixed.map((r) => post(batched.url, r)))
    together.forEach((answer, i) => {
      const want = scoresOf(single[i].body)
      expect(ids(answer.body)).toEqual(ids(single[i].body))
      for (const [id, score] of scoresOf(answer.body))
        expect(Math.abs(score! - want.get(id)!)).toBeLessThanOrEqual(1e-5)
    })
  })

  it('runs requests that arrive within the window as one call', async () => {
    const batched = await startTestOrigin({ BATCH_WINDOW_MS: '50', MAX_BATCH: '64' })
    const answers = await Promise.all(
      mixed.map((r) => rerankAtOrigin(RerankRequest.parse(r), Date.now() + 10_000, batched.service.rerank)),
    )
    expect(answers.map((a) => a.batch?.size)).toEqual(mixed.map(() => mixed.length))
  })
})
