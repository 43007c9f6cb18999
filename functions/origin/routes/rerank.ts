/**
 * `POST /v1/rerank` at the origin: the edge's contract and validation (functions/http/rerank-input.ts),
 * answered by the full teacher (`path: "origin"`). A full queue is a 503 with Retry-After, a
 * deadline (`X-Deadline-Ms`, ms from arrival) that passes before the batch starts a 504, a backend
 * fault a 503: the edge counts each as an origin failure.
 */
import { Hono, type Context } from 'hono'
import { setMetric } from 'hono/timing'
import { problemResponse } from '../../http/problem.ts'
import { rerankBody } from '../../http/rerank-input.ts'
import { note } from '../../http/request-log.ts'
import { historySource } from '../../shared/rerank-api.ts'
import { BackendError } from '../backend.ts'
import { DeadlineExceeded, QueueFull } from '../batcher.ts'
import type { OriginEnv } from '../env.ts'
import { rerankAtOrigin, type OriginRerankOptions } from '../rerank.ts'

/** What `/v1/rerank` reads of the origin. */
export interface RerankRouteDeps {
  /** Whether the teacher can score now. */
  readonly ready: boolean
  /** Longest wait for an answer when the caller sends no deadline, ms. */
  readonly requestTimeoutMs: number
  readonly rerank: OriginRerankOptions
}

/** The request's deadline (epoch ms), or a problem when X-Deadline-Ms is not a positive integer. */
function deadline(c: Context<OriginEnv>, requestTimeoutMs: number): number | Response {
  const header = c.req.header('X-Deadline-Ms')
  if (header === undefined) return c.get('arrivedAt') + requestTimeoutMs
  if (!/^\d{1,9}$/.test(header) || Number(header) === 0)
    return problemResponse(c, {
      status: 400,
      title: 'Invalid request',
      field: 'X-Deadline-Ms',
      detail: `X-Deadline-Ms: expected a positive integer of ms, got "${header}"`,
    })
  return c.get('arrivedAt') + Math.min(Number(header), requestTimeoutMs)
}

export function rerankRoutes(origin: RerankRouteDeps) {
  return new Hono<OriginEnv>().post('/rerank', ...rerankBody, async function rerank(c) {
    const req = c.get('rerankRequest')
    const deadlineAt = deadline(c, origin.requestTimeoutMs)
    if (deadlineAt instanceof Response) return deadlineAt
    const source = historySource(req, origin.rerank.historyLimit)
    note(c, {
      candidates: req.candidates.length,
      user: source === null ? 'anonymous' : 'given' in source ? 'history' : 'user_id',
    })
    if (!origin.ready)
      return problemResponse(
        c,
        { status: 503, title: 'Service Unavailable', detail: 'the teacher is not loaded yet' },
        { 'Retry-After': '1' },
      )
    try {
      const answer = await rerankAtOrigin(req, deadlineAt, origin.rerank)
      note(c, { ...answer.notes, path: answer.body.path, degraded: answer.body.degraded ?? [] })
      if (answer.batch) {
        note(c, {
          batch: answer.batch.size,
          queue_ms: +answer.batch.queueMs.toFixed(2),
          infer_ms: +answer.batch.runMs.toFixed(2),
        })
        setMetric(c, 'queue', answer.batch.queueMs)
        setMetric(c, 'infer', answer.batch.runMs)
      }
      return c.json(answer.body, 200, { 'X-Rerank-Path': answer.body.path, 'X-Model-Version': answer.body.model })
    } catch (e) {
      if (e instanceof QueueFull) {
        note(c, { error: 'queue_full' })
        return problemResponse(
          c,
          { status: 503, title: 'Service Unavailable', detail: `the origin is at capacity: ${e.message}` },
          { 'Retry-After': '1' },
        )
      }
      if (e instanceof DeadlineExceeded) {
        note(c, { error: 'deadline_exceeded' })
        return problemResponse(c, { status: 504, title: 'Gateway Timeout', detail: e.message })
      }
      if (e instanceof BackendError) {
        note(c, { error: 'backend', backend_error: e.message })
        return problemResponse(c, {
          status: 503,
          title: 'Service Unavailable',
          detail: `the teacher could not run: ${e.message}`,
        })
      }
      throw e
    }
  })
}
