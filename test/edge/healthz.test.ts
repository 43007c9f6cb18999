import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'

// Runs inside workerd (vitest pool for Workers) against the worker that wrangler.toml names.
describe('edge worker foundation', () => {
  it('answers /healthz from workerd with the configured service name', async () => {
    const res = await SELF.fetch('https://edge.test/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok', service: 'edge-rerank', model: null, embeddings: null })
  })

  it('answers an unknown route with a problem+json 404', async () => {
    const res = await SELF.fetch('https://edge.test/v0/nothing', { method: 'POST' })
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(await res.json()).toMatchObject({ status: 404, title: 'Not Found', detail: 'no route for POST /v0/nothing' })
  })
})
