import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { manifest } from '../../functions/edge/artifacts.ts'
import { seedFixtureKv } from './harness.ts'

// Runs inside workerd (vitest pool for Workers) against the worker that wrangler.toml names.
describe('GET /healthz', () => {
  it('reports the model and embedding versions, and whether KV holds this release', async () => {
    const empty = await (await SELF.fetch('https://edge.test/healthz')).json()
    expect(empty).toMatchObject({
      status: 'degraded',
      model: manifest.version,
      embeddings: { version: manifest.embedding.version, kv: 'empty' },
    })
    await seedFixtureKv()
    const res = await SELF.fetch('https://edge.test/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      status: 'ok',
      service: 'edge-rerank',
      model: manifest.version,
      embeddings: {
        version: manifest.embedding.version,
        kv_prefix: manifest.embedding.kv_prefix,
        kv: 'ok',
        uploaded: { synthetic: true },
      },
      origin: { configured: false },
    })
  })

  it('answers an unknown route with a problem+json 404', async () => {
    const res = await SELF.fetch('https://edge.test/v0/nothing', { method: 'POST' })
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(await res.json()).toMatchObject({ status: 404, title: 'Not Found', detail: 'no route for POST /v0/nothing' })
  })
})
