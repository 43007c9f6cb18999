import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { describe, expect, it, vi } from 'vitest'
import { onError } from '../../functions/http/problem.ts'
import { requestLog } from '../../functions/http/request-log.ts'

describe('the shared error path', () => {
  it('an unhandled error is a problem+json 500, and its log line carries the request id', async () => {
    const app = new Hono()
      .use(requestId())
      .use(requestLog)
      .get('/boom', () => {
        throw new Error('kaput')
      })
    app.onError(onError)
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    try {
      const res = await app.request('/boom', { headers: { 'X-Request-Id': 'req-boom-1' } })
      expect(res.status).toBe(500)
      expect(res.headers.get('Content-Type')).toBe('application/problem+json')
      const line = JSON.parse(String(error.mock.calls[0][0]))
      expect(line).toMatchObject({ level: 'error', msg: 'unhandled', request_id: 'req-boom-1', error: 'Error: kaput' })
    } finally {
      error.mockRestore()
      log.mockRestore()
    }
  })
})
