/**
 * The release contract written by the training chain (`models/manifest.json`): model files,
 * their input/output names, dtypes and shapes (symbolic axes `batch`, `list`, `history`), and
 * the embedding version, codec and KV prefix. Edge, origin and scripts read it; none repeats it.
 */
export interface TensorSpec {
  name: string
  dtype: string
  shape: (string | number)[]
}

/** A model's parameters as one little-endian float32 blob (models/export.py `export_weights`),
 *  for runtimes that implement its architecture themselves (the edge's WASM kernel). */
export interface WeightsSpec {
  file: string
  /** The architecture the weights claim: a name and its widths. */
  architecture: { name: string } & Record<string, string | number>
  /** The blob's length, in floats. */
  floats: number
  /** Each tensor's name (PyTorch state_dict key), shape, and offset in floats. */
  tensors: { name: string; shape: number[]; offset: number }[]
}

export interface ModelSpec {
  file: string
  opset?: number
  parity?: string
  inputs: TensorSpec[]
  outputs: TensorSpec[]
  weights?: WeightsSpec
}

export interface Manifest {
  version: string
  synthetic_world?: { preset: string; seed: number; content_hash: string }
  embedding: {
    dim: number
    version: string
    quantization: { codec: string; dtype: string; scale: string }
    kv_prefix: string
    files: Record<string, string>
  }
  models: Record<string, ModelSpec>
}

/** Sizes for a request's symbolic axes. */
export type AxisSizes = Record<string, number>

/** A tensor's concrete dims: the spec's shape with its symbolic axes filled in. */
export function concreteDims(spec: TensorSpec, sizes: AxisSizes): number[] {
  return spec.shape.map((d) => {
    if (typeof d === 'number') return d
    const n = sizes[d]
    if (n === undefined) throw new Error(`tensor ${spec.name}: no size for axis "${d}"`)
    return n
  })
}

export function modelSpec(manifest: Manifest, name: string): ModelSpec {
  const spec = manifest.models[name]
  if (!spec) throw new Error(`manifest ${manifest.version}: no model "${name}"`)
  return spec
}
