/**
 * A Triton model repository for the teacher, from the release: `<out>/<name>/1/model.onnx` and
 * `<out>/<name>/config.pbtxt` (platform onnxruntime_onnx, the manifest's inputs and outputs
 * without the batch axis, variable dims as -1, max_batch_size and dynamic batching). Production
 * runs `tritonserver --model-repository <out>` on a GPU host and points the origin's `kserve`
 * backend at it.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { modelSpec, type Manifest, type TensorSpec } from '../../functions/release/manifest.ts'

export interface TritonOptions {
  manifest: Manifest
  modelsDir: string
  out: string
  model?: string
  maxBatch?: number
  queueDelayUs?: number
  /** `KIND_GPU` in production; `KIND_CPU` for a CPU-only Triton. */
  instanceKind?: 'KIND_GPU' | 'KIND_CPU'
}

const TRITON_TYPES: Record<string, string> = {
  float32: 'TYPE_FP32',
  float16: 'TYPE_FP16',
  int64: 'TYPE_INT64',
  int32: 'TYPE_INT32',
}

function tensor(t: TensorSpec): string {
  const type = TRITON_TYPES[t.dtype]
  if (!type) throw new Error(`tensor ${t.name}: no Triton type for ${t.dtype}`)
  if (t.shape[0] !== 'batch')
    throw new Error(`tensor ${t.name}: the first axis must be the batch axis, got [${t.shape}]`)
  const dims = t.shape.slice(1).map((d) => (typeof d === 'number' ? d : -1))
  return `  {\n    name: "${t.name}"\n    data_type: ${type}\n    dims: [ ${dims.join(', ')} ]\n  }`
}

/** The config.pbtxt text (protobuf text format of Triton's ModelConfig). */
export function tritonConfig(
  name: string,
  inputs: TensorSpec[],
  outputs: TensorSpec[],
  o: Required<Pick<TritonOptions, 'maxBatch' | 'queueDelayUs' | 'instanceKind'>>,
): string {
  return [
    `# Written by npm run export:triton from the release manifest; edit the release, not this file.`,
    `name: "${name}"`,
    `platform: "onnxruntime_onnx"`,
    `max_batch_size: ${o.maxBatch}`,
    `input [\n${inputs.map(tensor).join(',\n')}\n]`,
    `output [\n${outputs.map(tensor).join(',\n')}\n]`,
    // The origin already pads and batches its requests; Triton batches further across origins
    // when shapes agree.
    `dynamic_batching {\n  max_queue_delay_microseconds: ${o.queueDelayUs}\n}`,
    `instance_group [\n  {\n    count: 1\n    kind: ${o.instanceKind}\n  }\n]`,
    '',
  ].join('\n')
}

export function exportTriton({
  manifest,
  modelsDir,
  out,
  model = 'armmt',
  maxBatch = 64,
  queueDelayUs = 2000,
  instanceKind = 'KIND_GPU',
}: TritonOptions): { config: string; onnx: string } {
  const spec = modelSpec(manifest, model)
  const dir = join(out, model)
  mkdirSync(join(dir, '1'), { recursive: true })
  const onnx = join(dir, '1', 'model.onnx')
  copyFileSync(join(modelsDir, spec.file), onnx)
  const config = join(dir, 'config.pbtxt')
  writeFileSync(config, tritonConfig(model, spec.inputs, spec.outputs, { maxBatch, queueDelayUs, instanceKind }))
  return { config, onnx }
}
