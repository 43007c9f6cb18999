/**
 * bench:origin's in-process parts: the teacher alone (feature assembly and ORT apart) at batch 1
 * and 32, and the origin's per-request steps without the model and without HTTP. Together with
 * the end-to-end runs' CPU per request they say where a request's time goes.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createOriginApp } from '../../functions/origin/app.ts'
import { OnnxBackend, type InferenceBackend, type Tensors } from '../../functions/origin/backend.ts'
import { OriginService, type OriginRelease } from '../../functions/origin/service.ts'
import { assembleTeacherInputs, teacherSources, type TeacherJob } from '../../functions/origin/teacher-inputs.ts'
import { modelSpec } from '../../functions/release/manifest.ts'
import { RerankRequest } from '../../functions/shared/rerank-api.ts'
import { syntheticOriginRelease } from '../world/release-world.ts'
import { median } from './stats.ts'

/** A step's cost per request: wall clock (median and mean), and CPU (this process, ORT's threads included). */
export interface StepCost {
  wall_ms_p50: number
  wall_ms_mean: number
  cpu_ms_mean: number
}

export interface ModelAlone {
  batches: Record<
    string,
    { call_ms_p50: number; assemble_ms_p50: number; ort_ms_p50: number; cpu_ms_per_request: number; rps: number }
  >
  /** Requests/s at batch 32 over batch 1. */
  gain_32: number
}

let loaded: OriginRelease | undefined
const parts = () => (loaded ??= syntheticOriginRelease('models', 'data/worlds/default'))

/** `step` repeated for `seconds` (after a warm-up), each call counting as `perCall` requests. */
async function timed(seconds: number, step: () => unknown, perCall = 1): Promise<StepCost> {
  for (let i = 0; i < 50; i++) await step()
  const ms: number[] = []
  const cpu = process.cpuUsage()
  const until = performance.now() + seconds * 1000
  while (performance.now() < until) {
    const t0 = performance.now()
    await step()
    ms.push((performance.now() - t0) / perCall)
  }
  const used = process.cpuUsage(cpu)
  return {
    wall_ms_p50: median(ms),
    wall_ms_mean: ms.reduce((a, b) => a + b, 0) / ms.length,
    cpu_ms_mean: (used.user + used.system) / 1000 / (ms.length * perCall),
  }
}

function jobOf(body: string, p: OriginRelease): TeacherJob {
  const request = JSON.parse(body) as { query: string; candidates: { id: string }[]; user: { history: string[] } }
  return {
    query: p.catalog.queryVector(request.query)!,
    items: request.candidates.map((c) => p.catalog.row(c.id)!),
    history: request.user.history.map((id) => p.catalog.row(id)!),
  }
}

/**
 * The request's tensors through onnxruntime-node in this process, 1 and 32 at a time: what
 * batching can buy when HTTP, JSON and the clients cost nothing.
 */
export async function modelAlone(requestFile: string, seconds: number): Promise<ModelAlone> {
  const p = parts()
  const spec = modelSpec(p.manifest, 'armmt')
  const sources = teacherSources(p.catalog)
  const backend = await OnnxBackend.create(join('models', spec.file))
  const job = jobOf(readFileSync(requestFile, 'utf8'), p)
  const batches: ModelAlone['batches'] = {}
  try {
    for (const batch of [1, 32]) {
      const jobs = Array.from({ length: batch }, () => job)
      const assemble: number[] = []
      const ort: number[] = []
      const cost = await timed(seconds, async () => {
        const t0 = performance.now()
        const inputs = assembleTeacherInputs(spec, sources, jobs)
        const t1 = performance.now()
        await backend.infer(inputs)
        assemble.push(t1 - t0)
        ort.push(performance.now() - t1)
      })
      const call = cost.wall_ms_p50
      batches[batch] = {
        call_ms_p50: call,
        assemble_ms_p50: median(assemble),
        ort_ms_p50: median(ort),
        cpu_ms_per_request: cost.cpu_ms_mean / batch,
        rps: (1000 * batch) / call,
      }
    }
  } finally {
    await backend.close()
  }
  return { batches, gain_32: batches[32].rps / batches[1].rps }
}

/** Stands in for the model: zeros of the output's shape, at no cost. */
function zeroBackend(output: string): InferenceBackend {
  return {
    description: 'zeros',
    infer: async (inputs: Tensors) => {
      const [batch, list] = inputs.mask.dims
      return { [output]: { dims: [batch, list], data: new Float32Array(batch * list) } }
    },
    close: async () => {},
  }
}

/** The origin's per-request steps in this process: no model, no HTTP. */
export async function inProcessSteps(requestFile: string, seconds: number): Promise<Record<string, StepCost>> {
  const body = readFileSync(requestFile, 'utf8')
  const p = parts()
  const spec = modelSpec(p.manifest, 'armmt')
  const sources = teacherSources(p.catalog)
  const job = jobOf(body, p)
  const service = new OriginService({ ...p, batching: { windowMs: 0, maxBatch: 1 } })
  service.teacher.attach(zeroBackend(spec.outputs[0].name))
  const app = createOriginApp(service)
  const call = () =>
    app.request('/v1/rerank', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })
  const steps: Record<string, StepCost> = {}
  steps['parse + validate the body'] = await timed(seconds, () => RerankRequest.parse(JSON.parse(body)))
  steps['feature assembly, batch 1'] = await timed(seconds, () => assembleTeacherInputs(spec, sources, [job]))
  const jobs32 = Array.from({ length: 32 }, () => job)
  steps['feature assembly, batch 32'] = await timed(seconds, () => assembleTeacherInputs(spec, sources, jobs32), 32)
  // The whole app but the model and the socket; its log line is built but not written.
  const log = console.log
  console.log = () => {}
  try {
    const answer = await (await call()).json()
    steps['the answer as JSON'] = await timed(seconds, () => JSON.stringify(answer))
    steps['the app, model returning zeros'] = await timed(seconds, async () => (await call()).arrayBuffer())
  } finally {
    console.log = log
  }
  return steps
}
