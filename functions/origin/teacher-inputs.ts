/**
 * The teacher's input table over catalog rows (functions/shared/model-inputs.ts): list inputs
 * named after an item field (`text`, `image`, `price`) read that field of each candidate, history
 * inputs named `hist_<field>` read it of each history item, `mask` and `hist_mask` mark real rows,
 * `query` is the request's query vector. A retrained teacher reading any of these drops in.
 */
import { assembleInputs, type InputSources, type InputTensor, type RequestFeatures } from '../shared/model-inputs.ts'
import type { ModelSpec } from '../release/manifest.ts'
import type { OriginCatalog } from './catalog.ts'

/** One request as the teacher reads it: catalog rows of its candidates and its history. */
export interface TeacherJob {
  query: Float32Array
  items: number[]
  history: number[]
}

export function teacherSources(catalog: OriginCatalog): InputSources<number> {
  const fields: Record<string, { read: (row: number) => Float32Array | number; pad?: number; positive?: boolean }> = {
    text: { read: (r) => catalog.text(r) },
    image: { read: (r) => catalog.image(r) },
    // Padded rows get a price of 1: its log is finite, so masked arithmetic stays finite.
    price: { read: (r) => catalog.price(r), pad: 1, positive: true },
  }
  const sources: InputSources<number> = {
    query: { kind: 'vector', name: 'query' },
    mask: { kind: 'mask', axis: 'list' },
    hist_mask: { kind: 'mask', axis: 'history' },
  }
  for (const [name, field] of Object.entries(fields)) {
    sources[name] = { kind: 'field', axis: 'list', ...field }
    sources[`hist_${name}`] = { kind: 'field', axis: 'history', ...field }
  }
  return sources
}

export function assembleTeacherInputs(
  spec: ModelSpec,
  sources: InputSources<number>,
  jobs: TeacherJob[],
): Record<string, InputTensor> {
  const batch: RequestFeatures<number>[] = jobs.map((j) => ({
    vectors: { query: j.query },
    list: j.items,
    history: j.history,
  }))
  return assembleInputs(spec, sources, batch)
}
