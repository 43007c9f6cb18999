/**
 * The origin for the edge's tests: a real HTTP server on 127.0.0.1 (vitest globalSetup, in Node),
 * whose behaviour is the first path segment of the URL the worker calls:
 *   /answer/…   a valid answer (the candidates reversed, model "origin-test")
 *   /fail/…     503
 *   /hang/…     never answers
 *   /garbage/…  200 with a body that is not JSON
 *   /stranger/… 200, valid JSON naming an id that was not asked for
 *   /reject/…   400 (the origin refuses what it was sent)
 *   /passthrough/… a valid answer in which the origin could not score (path "passthrough")
 *   /injected/… a valid answer whose model string carries a header line
 *   /bloated/…  a valid answer with a 200 KB model string
 *   /huge/…     a 16 MB answer, streamed
 *   /redirect/… 307 to /answer/… on the same server
 *   /nulls/…    path "origin" with every score null
 *   /limited/…  429 with Retry-After: 60
 *   /deny/…     401
 * `GET /calls/<path prefix>` returns what reached it under that prefix (headers and bodies), so a
 * test can check what the edge forwarded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestProject } from 'vitest/node'
import { candidateId, type RerankRequestInput } from '../../functions/shared/rerank-api.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    originUrl: string
  }
}

interface Call {
  path: string
  headers: Record<string, string | string[] | undefined>
  body: unknown
}

export default async function setup(project: TestProject) {
  const calls: Call[] = []
  const hanging = new Set<ServerResponse>()
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://origin.test')
    if (req.method === 'GET' && url.pathname.startsWith('/calls/')) {
      const prefix = url.pathname.slice('/calls'.length)
      res.setHeader('Content-Type', 'application/json')
      return res.end(JSON.stringify(calls.filter((c) => c.path.startsWith(prefix))))
    }
    let text = ''
    for await (const chunk of req) text += chunk
    let body: { candidates?: RerankRequestInput['candidates']; k?: number } | undefined
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
    calls.push({ path: url.pathname, headers: req.headers, body })
    const mode = url.pathname.split('/')[1]
    const ids = (body?.candidates ?? []).map(candidateId).reverse()
    const k = body?.k ?? ids.length
    switch (mode) {
      case 'answer':
        res.setHeader('Content-Type', 'application/json')
        return res.end(
          JSON.stringify({
            items: ids.slice(0, k).map((id, i) => ({ id, score: -i })),
            path: 'origin',
            model: 'origin-test',
          }),
        )
      case 'passthrough':
        res.setHeader('Content-Type', 'application/json')
        return res.end(
          JSON.stringify({
            items: ids
              .reverse()
              .slice(0, k)
              .map((id) => ({ id, score: null })),
            path: 'passthrough',
            model: 'origin-test',
            degraded: ['model_unavailable'],
          }),
        )
      case 'reject':
        res.statusCode = 400
        res.setHeader('Content-Type', 'application/problem+json')
        return res.end(JSON.stringify({ type: 'about:blank', title: 'Invalid request', status: 400, field: 'query' }))
      case 'fail':
        res.statusCode = 503
        return res.end('origin overloaded')
      case 'hang':
        hanging.add(res)
        return
      case 'garbage':
        return res.end('<html>surprise</html>')
      case 'injected':
      case 'bloated':
      case 'nulls':
        res.setHeader('Content-Type', 'application/json')
        return res.end(
          JSON.stringify({
            items: ids.slice(0, k).map((id, i) => ({ id, score: mode === 'nulls' ? null : -i })),
            path: 'origin',
            model:
              mode === 'injected' ? 'm\r\nX-Injected: yes' : mode === 'bloated' ? 'm'.repeat(200_000) : 'origin-test',
          }),
        )
      case 'huge': {
        res.setHeader('Content-Type', 'application/json')
        // A valid answer but for 16 MB of padding in a field the contract ignores.
        const chunk = 'x'.repeat(2 ** 20)
        res.write('{"pad":"')
        for (let i = 0; i < 16 && !res.destroyed; i++) await new Promise((r) => res.write(chunk, r))
        const items = ids.slice(0, k).map((id, i) => ({ id, score: -i }))
        return res.end(`","items":${JSON.stringify(items)},"path":"origin","model":"origin-test"}`)
      }
      case 'redirect':
        res.statusCode = 307
        res.setHeader('Location', url.pathname.replace(/^\/redirect\//, '/answer/'))
        return res.end()
      case 'limited':
        res.statusCode = 429
        res.setHeader('Retry-After', '60')
        return res.end('slow down')
      case 'deny':
        res.statusCode = 401
        return res.end('who are you')
      case 'stranger':
        res.setHeader('Content-Type', 'application/json')
        return res.end(
          JSON.stringify({
            items: [{ id: 'never-asked', score: 1 }, ...ids.slice(1, k).map((id) => ({ id, score: 0 }))],
            path: 'origin',
            model: 'origin-test',
          }),
        )
      default:
        res.statusCode = 404
        return res.end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  project.provide('originUrl', `http://127.0.0.1:${port}`)
  return async () => {
    for (const res of hanging) res.destroy()
    await new Promise((resolve) => server.close(resolve))
  }
}
