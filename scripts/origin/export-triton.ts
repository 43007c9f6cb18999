/** `npm run export:triton -- --out DIR`: the teacher as a Triton model repository (scripts/origin/triton.ts). */
import { Command, InvalidArgumentError } from 'commander'
import { readReleaseManifest } from '../../functions/release/release.ts'
import { exportTriton } from './triton.ts'

const positive = (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('expected a positive integer')
  return Number(v)
}

const opts = new Command('export:triton')
  .description('Write a Triton model repository for the teacher (ONNX file + config.pbtxt).')
  .requiredOption('--out <dir>', 'the model repository to write')
  .option('--models <dir>', 'release directory with manifest.json', 'models')
  .option('--model <name>', "the manifest's model", 'armmt')
  .option('--max-batch <n>', 'max_batch_size', positive, 64)
  .option('--queue-delay-us <n>', 'dynamic_batching max_queue_delay_microseconds', positive, 2000)
  .option('--cpu', 'instance_group KIND_CPU (default KIND_GPU)')
  .parse()
  .opts<{ out: string; models: string; model: string; maxBatch: number; queueDelayUs: number; cpu?: boolean }>()

const manifest = readReleaseManifest(opts.models)
const written = exportTriton({
  manifest,
  modelsDir: opts.models,
  out: opts.out,
  model: opts.model,
  maxBatch: opts.maxBatch,
  queueDelayUs: opts.queueDelayUs,
  instanceKind: opts.cpu ? 'KIND_CPU' : 'KIND_GPU',
})
console.log(`export:triton: ${opts.model} of release ${manifest.version} → ${written.onnx}, ${written.config}`)
console.log(`  run it:  tritonserver --model-repository ${opts.out}   (on a GPU host; HTTP on :8000)`)
console.log(`  use it:  INFER_BACKEND=kserve INFER_URL=http://<triton-host>:8000 npm run origin`)
