import { SELF } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { manifest } from '../../functions/edge/artifacts.ts'
import { answerIds, backend, FIXTURES, seedFixtureKv } from './harness.ts'

// The project's build entry as wrangler serves it (vitest.config.ts `main`: functions/edge/index.ts,
// what `wrangler deploy` ships, in the workerd project; index-ort.ts in workerd-ort), called through
// SELF.fetch: no test-side app import between the request and the worker.
beforeAll(seedFixtureKv)

const post = (body: unknown, headers: Record<string, string> = {}) =>
  SELF.fetch('https://edge.test/v1/rerank', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

describe(`the build entry through SELF.fetch (HEAD_BACKEND=${backend})`, () => {
  it('answers /healthz with this release', async () => {
    const res = await SELF.fetch('https://edge.test/healthz')
    expect(await res.json()).toMatchObject({ status: 'ok', model: manifest.version })
  })

  it('ranks the anonymous fixture as the exported head does', async () => {
    const { request, expected } = FIXTURES.anonymous
    const res = await post(request)
    const body = (await res.json()) as { items: { id: string }[]; path: string }
    expect({ path: body.path, order: answerIds(body) }).toEqual({ path: 'edge', order: expected.edge!.order })
  })

  it('ranks the history fixture as the exported head does', async () => {
    const { request, expected } = FIXTURES.history
    const body = (await (await post(request)).json()) as { items: { id: string }[] }
    expect(answerIds(body)).toEqual(expected.edge!.order)
  })

  it('refuses a request without candidates with a problem+json naming the field', async () => {
    const res = await post({ query: 'headphones', candidates: [] })
    expect({ status: res.status, type: res.headers.get('Content-Type') }).toEqual({
      status: 400,
      type: 'application/problem+json',
    })
    expect(await res.json()).toMatchObject({ field: 'candidates' })
  })

  it('answers an unknown route with a problem+json 404', async () => {
    const res = await SELF.fetch('https://edge.test/v1/nothing')
    expect({ status: res.status, type: res.headers.get('Content-Type') }).toEqual({
      status: 404,
      type: 'application/problem+json',
    })
  })

  it('answers a CORS preflight from an allowed storefront', async () => {
    const res = await SELF.fetch('https://edge.test/v1/rerank', {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://shop.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    })
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('https://shop.example')
  })
})
