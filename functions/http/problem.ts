import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { FieldProblem } from '../shared/rerank-api.ts'
import { note } from './request-log.ts'

/** RFC 9457 problem details: what every 4xx/5xx of the edge and the origin looks like. */
export interface Problem {
  type: string
  title: string
  status: number
  detail?: string
  /** JSON path of the offending request field, where one is at fault (the first, when several are). */
  field?: string
  /** Every field at fault, each with its own detail; present whenever `field` is. */
  errors?: FieldProblem[]
  /** Extension members (e.g. KServe's `error`). */
  [extension: string]: unknown
}

/** A bad request lists at most this many problems and counts the rest: a body of thousands of bad
 *  ids must not be answered with thousands of lines. */
export const MAX_LISTED_PROBLEMS = 50

export function problemResponse(
  c: Context,
  problem: {
    type?: string
    title: string
    status: number
    detail?: string
    field?: string
    [extension: string]: unknown
  },
  headers: Record<string, string> = {},
): Response {
  const body: Problem = { type: problem.type ?? 'about:blank', ...problem }
  // One shape for clients: a problem that names a field lists it in `errors` too.
  if (body.field !== undefined && body.errors === undefined)
    body.errors = [{ field: body.field, detail: body.detail ?? body.title }]
  // The request's log line says why it was refused (the field and the title, never the values).
  if (c.get('log' as never))
    note(c as never, {
      problem: problem.title,
      ...(problem.field ? { field: problem.field } : {}),
      ...(body.errors && body.errors.length > 1 ? { fields: body.errors.map((e) => e.field) } : {}),
      body_bytes: Number(c.req.header('Content-Length') ?? 0),
    })
  return c.body(JSON.stringify(body), problem.status as ContentfulStatusCode, {
    ...headers,
    'Content-Type': 'application/problem+json',
  })
}

/**
 * A 400 naming every field at fault: `field` is the first (what clients read before `errors`
 * existed), `detail` joins them all for a human reading the body, `errors` lists them.
 */
export function invalidRequest(c: Context, problems: readonly FieldProblem[]): Response {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS)
  const more = problems.length - listed.length
  const first = listed[0] ?? { field: '(body)', detail: '(body): invalid request' }
  return problemResponse(c, {
    status: 400,
    title: 'Invalid request',
    field: first.field,
    detail: listed.map((p) => p.detail).join('; ') + (more > 0 ? `; and ${more} more` : ''),
    errors: listed.length ? [...listed] : [first],
  })
}

export const notFound: NotFoundHandler = (c) =>
  problemResponse(c, {
    status: 404,
    title: 'Not Found',
    detail: `no route for ${c.req.method} ${new URL(c.req.url).pathname}`,
  })

export const onError: ErrorHandler = (err, c) => {
  // Middleware that built its own answer (bearer auth's problem+json 401) keeps it.
  if (err instanceof HTTPException && err.res) return err.getResponse()
  // Hono's own 4xx (e.g. the validator's "Malformed JSON in request body") concern the body.
  if (err instanceof HTTPException)
    return problemResponse(c, {
      status: err.status,
      title: err.status < 500 ? 'Bad Request' : 'Error',
      detail: err.message || undefined,
      ...(err.status < 500 ? { field: '(body)' } : {}),
    })
  console.error(
    JSON.stringify({ level: 'error', msg: 'unhandled', request_id: c.get('requestId' as never), error: String(err) }),
  )
  return problemResponse(c, { status: 500, title: 'Internal Server Error' })
}
