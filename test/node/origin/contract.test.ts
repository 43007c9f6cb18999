import { beforeAll } from 'vitest'
import { rerankContract } from '../../contract/rerank-contract.ts'
import { post, startTestOrigin } from './harness.ts'

let url = ''
beforeAll(async () => void ({ url } = await startTestOrigin()))

rerankContract({ name: 'origin, on Node over HTTP', path: 'origin', post: (body, headers) => post(url, body, headers) })
