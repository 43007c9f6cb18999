import { beforeAll } from 'vitest'
import { rerankContract } from '../contract/rerank-contract.ts'
import { call, seedFixtureKv } from './harness.ts'

beforeAll(seedFixtureKv)

rerankContract({
  name: 'edge, in workerd',
  path: 'edge',
  post: async (body, headers) => {
    const { res, body: answer } = await call(body as never, { headers, vars: { CACHE_TTL_S: '0' } })
    return { status: res.status, headers: res.headers, body: answer }
  },
})
