/**
 * How `POST /v1/rerank` bodies are read and validated, on the edge and the origin alike: a body
 * limit, JSON only, and the shared schema, each failure a problem+json naming the field.
 */
import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { createMiddleware } from 'hono/factory'
import { fieldProblems, RerankRequest } from '../shared/rerank-api.ts'
import { precheckRerankRequest } from '../shared/rerank-precheck.ts'
import { invalidRequest, problemResponse } from './problem.ts'

/** 200 candidates and a 200-item history with 64-character ids fit well inside this. */
export const MAX_BODY_BYTES = 64 * 1024

/** zod-validator's hook: a failed parse becomes a 400 naming every field at fault. */
export const invalid = (result: { success: boolean; error?: Parameters<typeof fieldProblems>[0] }, c: Context) => {
  if (!result.success && result.error) return invalidRequest(c, fieldProblems(result.error))
}

/**
 * A 415 unless the body's media type is one of `accepted` (parameters such as charset allowed).
 *
 * @example
 * app.post('/v1/events', requireMediaType(['application/json', 'text/plain']), handler)
 */
export const requireMediaType = (accepted: readonly string[] = ['application/json']) =>
  createMiddleware(async function requireMediaType(c, next) {
    const type = c.req.header('Content-Type')
    const got = (type ?? '').split(';')[0].trim().toLowerCase()
    if (!accepted.includes(got))
      return problemResponse(c, {
        status: 415,
        title: 'Unsupported Media Type',
        field: '(body)',
        detail: `send the body as ${accepted.join(' or ')} (got "${type || 'no Content-Type'}")`,
      })
    await next()
  })

export const requireJson = requireMediaType(['application/json'])

/** What `readRerankRequest` leaves for the handler. */
export type RerankVariables = { rerankRequest: RerankRequest }

const badBody = (c: Context, detail: string) =>
  problemResponse(c, { status: 400, title: 'Invalid request', field: '(body)', detail })

/**
 * Reads and validates the body. An empty body, one that could not be read and one that is not
 * JSON each get their own message; then the schema names the field at fault.
 */
export const readRerankRequest = createMiddleware<{ Variables: RerankVariables }>(
  async function readRerankRequest(c, next) {
    const body = await readJson(c)
    if (body instanceof Response) return body
    // The usual valid request skips the schema's machinery; anything else gets the schema's words.
    const fast = precheckRerankRequest(body.json)
    if (fast) c.set('rerankRequest', fast)
    else {
      const parsed = RerankRequest.safeParse(body.json)
      if (!parsed.success) return invalid(parsed, c)!
      c.set('rerankRequest', parsed.data)
    }
    await next()
  },
)

/**
 * The body as JSON, or the 400 to answer: an empty body, one that could not be read and one that
 * is not JSON each get their own message.
 */
export async function readJson(c: Context): Promise<{ json: unknown } | Response> {
  let text: string
  try {
    text = await c.req.text()
  } catch (e) {
    return badBody(c, `the body could not be read: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (text.trim() === '') return badBody(c, 'empty body: send the request as a JSON object')
  try {
    return { json: JSON.parse(text) }
  } catch (e) {
    return badBody(c, `malformed JSON: ${e instanceof Error ? e.message : String(e)}`)
  }
}

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

/** The middleware chain of `POST /v1/rerank`: after it, `c.get('rerankRequest')` is the parsed request. */
export const rerankBody = [limitBody(MAX_BODY_BYTES), requireJson, readRerankRequest] as const
