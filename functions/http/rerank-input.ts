/**
 * How `POST /v1/rerank` bodies are read and validated, on the edge and the origin alike: a body
 * limit, JSON only, and the shared schema, each failure a problem+json naming the field.
 */
import { zValidator } from '@hono/zod-validator'
import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { createMiddleware } from 'hono/factory'
import { firstIssue, RerankRequest } from '../shared/rerank-api.ts'
import { problemResponse } from './problem.ts'

/** 200 candidates and a 200-item history with 64-character ids fit well inside this. */
export const MAX_BODY_BYTES = 64 * 1024

/** zod-validator's hook: a failed parse becomes a 400 naming the first field at fault. */
export const invalid = (result: { success: boolean; error?: Parameters<typeof firstIssue>[0] }, c: Context) => {
  if (!result.success && result.error)
    return problemResponse(c, { status: 400, title: 'Invalid request', ...firstIssue(result.error) })
}

export const requireJson = createMiddleware(async function requireJson(c, next) {
  const type = c.req.header('Content-Type') ?? ''
  if (!/^application\/json\b/i.test(type))
    return problemResponse(c, {
      status: 415,
      title: 'Unsupported Media Type',
      field: '(body)',
      detail: `send the body as application/json (got "${type || 'no Content-Type'}")`,
    })
  await next()
})

/** A body limit answering 413 problem+json. */
export const limitBody = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: (c) =>
      problemResponse(c, {
        status: 413,
        title: 'Payload Too Large',
        field: '(body)',
        detail: `the body exceeds ${maxSize} bytes`,
      }),
  })

/** The middleware chain of `POST /v1/rerank`: after it, `c.req.valid('json')` is a RerankRequest. */
export const rerankBody = [limitBody(MAX_BODY_BYTES), requireJson, zValidator('json', RerankRequest, invalid)] as const
