/**
 * Feature assembly for any re-ranker the manifest describes: a batch of requests, each with its
 * per-request vectors, its list of items and its history of items → the model's input tensors,
 * named, typed and shaped as the manifest says. Lists and histories are padded to the batch's
 * longest, with masks; the model reads nothing from a padded row but its mask.
 *
 * Which feature feeds which input is the caller's table (`InputSources`): the edge head reads
 * decoded KV records, the origin's teacher reads catalog rows. A retrained model whose inputs are
 * among the table's drops in; one that asks for anything else is refused by name.
 */
import { concreteDims, type ModelSpec } from '../release/manifest.ts'

export interface InputTensor {
  dims: number[]
  data: Float32Array
}

/** One request of a batch: `T` is whatever the caller's item fields read (a record, a row). */
export interface RequestFeatures<T> {
  /** Per-request vectors (e.g. the query embedding), by source name. */
  vectors: Record<string, Float32Array>
  list: T[]
  history: T[]
}

export type Axis = 'list' | 'history'

/** Where an input's values come from. */
export type InputSource<T> =
  /** [batch, W]: a per-request vector. */
  | { kind: 'vector'; name: string }
  /** [batch, axis, W] or [batch, axis]: a field of each item on the axis; `pad` fills padded rows. */
  | { kind: 'field'; axis: Axis; read: (item: T) => Float32Array | number; pad?: number; positive?: boolean }
  /** [batch, axis]: 1 for a real row, 0 for padding. */
  | { kind: 'mask'; axis: Axis }

export type InputSources<T> = Record<string, InputSource<T>>

/** The history axis is never empty: a cold user gets one masked slot. */
const MIN_HISTORY = 1

export class FeatureError extends Error {
  override name = 'FeatureError'
}

/** The padded sizes of a batch's axes. */
export function batchSizes<T>(batch: RequestFeatures<T>[]): { batch: number; list: number; history: number } {
  if (!batch.length) throw new FeatureError('no requests to assemble')
  let list = 0
  let history = MIN_HISTORY
  for (const r of batch) ((list = Math.max(list, r.list.length)), (history = Math.max(history, r.history.length)))
  if (list === 0) throw new FeatureError('no candidates to score')
  return { batch: batch.length, list, history }
}

export function assembleInputs<T>(
  spec: ModelSpec,
  sources: InputSources<T>,
  batch: RequestFeatures<T>[],
): Record<string, InputTensor> {
  const sizes = batchSizes(batch)
  const feeds: Record<string, InputTensor> = {}
  for (const input of spec.inputs) {
    if (input.dtype !== 'float32') throw new FeatureError(`input ${input.name}: dtype ${input.dtype}, expected float32`)
    const source = sources[input.name]
    if (!source)
      throw new FeatureError(
        `input ${input.name}: not a feature this caller assembles (${Object.keys(sources).join(', ')})`,
      )
    const dims = concreteDims(input, sizes)
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1))
    const rows = source.kind === 'vector' ? 1 : sizes[source.axis]
    const width = data.length / (sizes.batch * rows)
    if (!Number.isInteger(width) || dims[0] !== sizes.batch || (source.kind !== 'vector' && dims[1] !== rows))
      throw new FeatureError(
        `input ${input.name}: manifest shape [${input.shape}] does not fit a ${source.kind} source`,
      )
    batch.forEach((r, b) => fill(input.name, source, r, data, b * rows * width, rows, width))
    feeds[input.name] = { dims, data }
  }
  return feeds
}

/** Writes request `r`'s rows of one input at `offset`: `rows` rows of `width` floats. */
function fill<T>(
  name: string,
  source: InputSource<T>,
  r: RequestFeatures<T>,
  out: Float32Array,
  offset: number,
  rows: number,
  width: number,
): void {
  if (source.kind === 'vector') {
    const v = r.vectors[source.name]
    if (!v || v.length !== width)
      throw new FeatureError(`input ${name}: ${v ? `${v.length} floats` : 'no vector'}, expected ${width}`)
    out.set(v, offset)
    return
  }
  const items = r[source.axis]
  if (source.kind === 'mask') {
    out.fill(1, offset, offset + items.length)
    return
  }
  items.forEach((item, i) => {
    const v = source.read(item)
    if (typeof v === 'number') {
      if (width !== 1 || !Number.isFinite(v) || (source.positive && !(v > 0)))
        throw new FeatureError(
          `input ${name}: ${source.axis}[${i}] is ${v}, expected a ${source.positive ? 'positive' : 'finite'} number`,
        )
      out[offset + i] = v
    } else {
      if (v.length !== width)
        throw new FeatureError(`input ${name}: ${source.axis}[${i}] has ${v.length} floats, expected ${width}`)
      out.set(v, offset + i * width)
    }
  })
  if (source.pad) out.fill(source.pad, offset + items.length * width, offset + rows * width)
}
