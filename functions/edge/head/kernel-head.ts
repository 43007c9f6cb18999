/**
 * The distilled re-rank head run by its own WASM SIMD kernel (./kernel/forward.ts, built to
 * ./kernel/forward.wasm by `npm run build:kernel`): the default backend of the edge.
 *
 * This side owns the layout. Once per isolate it checks that the release's weights are the
 * architecture the kernel implements, sizes the kernel's one linear memory for the largest request
 * the API allows, and writes the weights there (matrices transposed to [in, out], by the kernel); per request it
 * only copies the decoded KV records into place and calls `forward`. Nothing is allocated per
 * request but the scores it returns.
 */
import type { HeadFeatures, ItemFeatures } from '../../shared/head-inputs.ts'
import type { ModelSpec, WeightsSpec } from '../../release/manifest.ts'
import { MAX_CANDIDATES, MAX_HISTORY_INPUT } from '../../shared/rerank-api.ts'
import { errorText, HeadUnavailable, type RerankHead } from './rerank-head.ts'

/** The architecture ./kernel/forward.ts implements (models/model.py `EdgeHead.architecture`). */
export const KERNEL_ARCHITECTURE = 'edge_head/v1'

export interface KernelArtifacts {
  /** The head's manifest entry; its `weights` names the blob's layout and architecture. */
  spec: ModelSpec
  /** The compiled kernel (`./kernel/forward.wasm`). */
  wasm: WebAssembly.Module
  /** The weights blob (`models/onnx/edge_head.weights.bin`). */
  weights: ArrayBuffer | Uint8Array
}

export interface KernelHeadOptions {
  /** Most candidates one request may score. @default MAX_CANDIDATES */
  maxCandidates?: number
  /** Most history items one request may carry. @default MAX_HISTORY_INPUT */
  maxHistory?: number
}

/** What the kernel exports (./kernel/forward.ts). */
interface KernelExports {
  memory: WebAssembly.Memory
  SLOTS: WebAssembly.Global
  configure(e: number, d: number, heads: number, ff: number): void
  bind(slot: number, address: number): void
  heapBase(): number
  forward(l: number, h: number): void
  transposeInto(src: number, cols: number, r0: number, r1: number, c0: number, c1: number, dst: number): void
  firstNonFinite(address: number, count: number): number
  simdPeak(iterations: number, seed: number): number
}

/** The architecture's widths, read from the manifest and checked. */
interface Dims {
  e: number
  d: number
  heads: number
  ff: number
}

// ---- the weights: named tensors → the kernel's slots -----------------------------------------

/** One tensor of the blob, by name: its shape and where its floats start in the blob. */
type Tensor = { shape: number[]; offset: number }

/** What the kernel reads from the weights: [out, in] matrices arrive transposed. */
type Source =
  | { copy: string; from?: number; to?: number }
  | { transpose: string; rows?: [number, number]; cols?: [number, number] }
  | { concat: string[] }

/** The kernel's weight slots 0…34, in its order (./kernel/forward.ts lists the same). */
const weightSlots = ({ e, d }: Dims): Source[] => [
  { copy: 'norm_query.mean' },
  { copy: 'norm_query.std' },
  { copy: 'norm_item.mean' },
  { copy: 'norm_item.std' },
  { concat: ['price.mean', 'price.std'] },
  { transpose: 'item.weight', cols: [0, e] },
  { transpose: 'item.weight', cols: [e, e + 1] },
  { copy: 'item.bias' },
  { transpose: 'query.weight' },
  { copy: 'query.bias' },
  { copy: 'personal.null' },
  { transpose: 'personal.attn.in_proj_weight', rows: [0, d] },
  { copy: 'personal.attn.in_proj_bias', from: 0, to: d },
  { transpose: 'personal.attn.in_proj_weight', rows: [d, 3 * d] },
  { copy: 'personal.attn.in_proj_bias', from: d, to: 3 * d },
  { transpose: 'personal.attn.out_proj.weight' },
  { copy: 'personal.attn.out_proj.bias' },
  { transpose: 'mix.0.weight' },
  { copy: 'mix.0.bias' },
  { transpose: 'mix.2.weight' },
  { copy: 'mix.2.bias' },
  { copy: 'block.norm1.weight' },
  { copy: 'block.norm1.bias' },
  { transpose: 'block.attn.in_proj_weight' },
  { copy: 'block.attn.in_proj_bias' },
  { transpose: 'block.attn.out_proj.weight' },
  { copy: 'block.attn.out_proj.bias' },
  { copy: 'block.norm2.weight' },
  { copy: 'block.norm2.bias' },
  { transpose: 'block.ff.0.weight' },
  { copy: 'block.ff.0.bias' },
  { transpose: 'block.ff.2.weight' },
  { copy: 'block.ff.2.bias' },
  { copy: 'head.out.weight' },
  { copy: 'head.out.bias' },
]

/** Every tensor the architecture has, and its shape: nothing missing, nothing more. */
const expectedShapes = ({ e, d, ff }: Dims): Record<string, number[]> => ({
  'norm_query.mean': [e],
  'norm_query.std': [e],
  'norm_item.mean': [e],
  'norm_item.std': [e],
  'price.mean': [1],
  'price.std': [1],
  'item.weight': [d, e + 1],
  'item.bias': [d],
  'query.weight': [d, e],
  'query.bias': [d],
  'personal.null': [1, 1, d],
  'personal.attn.in_proj_weight': [3 * d, d],
  'personal.attn.in_proj_bias': [3 * d],
  'personal.attn.out_proj.weight': [d, d],
  'personal.attn.out_proj.bias': [d],
  'mix.0.weight': [d, 4 * d + 3],
  'mix.0.bias': [d],
  'mix.2.weight': [d, d],
  'mix.2.bias': [d],
  'block.norm1.weight': [d],
  'block.norm1.bias': [d],
  'block.attn.in_proj_weight': [3 * d, d],
  'block.attn.in_proj_bias': [3 * d],
  'block.attn.out_proj.weight': [d, d],
  'block.attn.out_proj.bias': [d],
  'block.norm2.weight': [d],
  'block.norm2.bias': [d],
  'block.ff.0.weight': [ff, d],
  'block.ff.0.bias': [ff],
  'block.ff.2.weight': [d, ff],
  'block.ff.2.bias': [d],
  'head.out.weight': [2, d],
  'head.out.bias': [2],
})

/** The architecture's widths, or an error saying why these weights are not the kernel's. */
function checkArchitecture(spec: WeightsSpec | undefined): Dims {
  if (!spec) throw new Error('the manifest has no weights for the edge head (models/export.py export_weights)')
  const a = spec.architecture
  if (a?.name !== KERNEL_ARCHITECTURE)
    throw new Error(
      `the edge head is architecture ${a?.name ?? '(none)'}; the kernel implements ${KERNEL_ARCHITECTURE}`,
    )
  const dims = { e: a.d_emb, d: a.dim, heads: a.heads, ff: a.ff }
  for (const [k, v] of Object.entries(dims))
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`architecture field ${k} is ${v}`)
  const { e, d, heads, ff } = dims as Dims
  if (a.price_channels !== 3) throw new Error(`architecture price_channels is ${a.price_channels}; the kernel has 3`)
  // The kernel works four floats at a time: every width it loops over is a multiple of 4.
  if (e % 4 || d % 4 || ff % 4 || d % heads || (d / heads) % 4)
    throw new Error(`architecture widths d_emb ${e}, dim ${d}, heads ${heads}, ff ${ff} are not multiples of 4`)
  return dims as Dims
}

/** The blob's tensors by name, each checked against the architecture's shapes and the blob's length. */
function readTensors(spec: WeightsSpec, blob: ArrayBuffer | Uint8Array, dims: Dims): Map<string, Tensor> {
  if (blob.byteLength !== spec.floats * 4)
    throw new Error(`the weights blob is ${blob.byteLength} bytes; its layout says ${spec.floats * 4}`)
  const expected = expectedShapes(dims)
  const tensors = new Map<string, Tensor>()
  for (const t of spec.tensors) {
    const want = expected[t.name]
    if (!want) throw new Error(`the weights have a tensor ${t.name} the kernel does not implement`)
    if (want.join() !== t.shape.join()) throw new Error(`tensor ${t.name} is [${t.shape}]; the kernel needs [${want}]`)
    const size = want.reduce((a, b) => a * b, 1)
    if (t.offset < 0 || t.offset + size > spec.floats) throw new Error(`tensor ${t.name} lies outside the blob`)
    tensors.set(t.name, { shape: t.shape, offset: t.offset })
  }
  for (const name of Object.keys(expected)) if (!tensors.has(name)) throw new Error(`the weights lack tensor ${name}`)
  return tensors
}

const sizeOf = (t: Tensor) => t.shape.reduce((a, b) => a * b, 1)

/** Floats of one weight slot. */
function slotFloats(source: Source, tensors: Map<string, Tensor>): number {
  if ('concat' in source) return source.concat.reduce((n, name) => n + sizeOf(tensors.get(name)!), 0)
  if ('copy' in source) {
    const t = tensors.get(source.copy)!
    return (source.to ?? sizeOf(t)) - (source.from ?? 0)
  }
  const { shape } = tensors.get(source.transpose)!
  const [r0, r1] = source.rows ?? [0, shape[0]]
  const [c0, c1] = source.cols ?? [0, shape[1]]
  return (r1 - r0) * (c1 - c0)
}

/** Writes one weight slot at float index `at` from the blob's copy at float index `blob`: copies
 *  by the runtime's own memmove, transposes ([out, in] → [in, out]) by the kernel. */
function placeSlot(source: Source, tensors: Map<string, Tensor>, loaded: Omit<Loaded, 'at'>, blob: number, at: number) {
  const { f32, kernel } = loaded
  if ('concat' in source) {
    for (const name of source.concat) {
      const t = tensors.get(name)!
      f32.copyWithin(at, blob + t.offset, blob + t.offset + sizeOf(t))
      at += sizeOf(t)
    }
  } else if ('copy' in source) {
    const t = tensors.get(source.copy)!
    f32.copyWithin(at, blob + t.offset + (source.from ?? 0), blob + t.offset + (source.to ?? sizeOf(t)))
  } else {
    const { shape, offset } = tensors.get(source.transpose)!
    const [r0, r1] = source.rows ?? [0, shape[0]]
    const [c0, c1] = source.cols ?? [0, shape[1]]
    kernel.transposeInto((blob + offset) * 4, shape[1], r0, r1, c0, c1, at * 4)
  }
}

// ---- the memory ------------------------------------------------------------------------------

const SLOT = { query: 35, items: 36, price: 37, history: 38, histPrice: 39, score: 40 } as const

/** Floats of each input, output and scratch slot (35…57) for requests up to l candidates and h history items. */
function bufferFloats({ e, d, heads, ff }: Dims, l: number, h: number): number[] {
  const m4 = Math.ceil(Math.max(l, h + 1) / 4) * 4
  const hd = d / heads
  return [
    ...[e, l * e, l, h * e, h, l], // query, items, price, history, hist price, score
    ...[l * d, (h + 1) * d, d, d, l * d, (h + 1) * 2 * d, l * d], // X, KEYS, QV, U, QH, KV, ATT
    ...[l * (4 * d + 3), l * d, l * d, l * d, 3 * l * d, l * ff], // MIX, M1, XM, HN, QKV, FF
    ...[hd * m4, m4, l * m4, m4 * hd], // KT, PROBS, SCORES, VH
  ]
}

/** A kernel instance whose memory holds the weights and room for the largest request. */
interface Loaded {
  kernel: KernelExports
  dims: Dims
  /** Float index of each input and output slot in the memory. */
  at: Record<keyof typeof SLOT, number>
  /** A view of the memory (it never grows after load, so the view stays valid). */
  f32: Float32Array
}

function load(artifacts: KernelArtifacts, maxL: number, maxH: number): Loaded {
  const spec = artifacts.spec.weights
  const dims = checkArchitecture(spec)
  const tensors = readTensors(spec!, artifacts.weights, dims)
  const kernel = new WebAssembly.Instance(artifacts.wasm, {}).exports as unknown as KernelExports
  const slots = kernel.SLOTS.value as number
  const sources = weightSlots(dims)
  const buffers = bufferFloats(dims, maxL, maxH)
  if (sources.length + buffers.length !== slots)
    throw new Error(`the kernel has ${slots} slots; this host fills ${sources.length + buffers.length}`)
  // Each slot 16-byte aligned, past the module's own data; then the blob's copy, read only here.
  // The memory grows once, here.
  const sizes = [...sources.map((s) => slotFloats(s, tensors)), ...buffers]
  const starts: number[] = []
  let next = Math.ceil(kernel.heapBase() / 16) * 4
  for (const n of sizes) (starts.push(next), (next += Math.ceil(n / 4) * 4 + 4))
  const blob = next
  const pages = Math.ceil(((blob + spec!.floats) * 4) / 65536)
  const have = kernel.memory.buffer.byteLength / 65536
  if (pages > have) kernel.memory.grow(pages - have)
  const f32 = new Float32Array(kernel.memory.buffer)
  // A copy of the bytes: a Node Buffer may be a view into a shared pool.
  const bytes = artifacts.weights instanceof Uint8Array ? artifacts.weights : new Uint8Array(artifacts.weights)
  new Uint8Array(kernel.memory.buffer).set(bytes, blob * 4)
  kernel.configure(dims.e, dims.d, dims.heads, dims.ff)
  starts.forEach((s, i) => kernel.bind(i, s * 4))
  sources.forEach((source, i) => placeSlot(source, tensors, { kernel, dims, f32 }, blob, starts[i]))
  const at = Object.fromEntries(Object.entries(SLOT).map(([k, i]) => [k, starts[i]])) as Loaded['at']
  return { kernel, dims, at, f32 }
}

// ---- the head --------------------------------------------------------------------------------

/**
 * The edge head on the WASM SIMD kernel. Loads on first use (an instance, its memory and the
 * weights: about a millisecond), then scores each request in place.
 *
 * @example
 * const head = new KernelHead(() => ({ spec, wasm, weights }))
 * const scores = await head.score({ query, items, history })
 */
export class KernelHead implements RerankHead {
  readonly backend = 'kernel' as const
  #loaded?: Loaded

  /** `artifacts` may be a thunk: a missing or malformed model then surfaces as HeadUnavailable
   *  on first use (and the request degrades) instead of failing whoever builds the head. */
  constructor(
    private readonly artifacts: KernelArtifacts | (() => KernelArtifacts),
    private readonly options: KernelHeadOptions = {},
  ) {}

  get loaded(): boolean {
    return this.#loaded !== undefined
  }

  /** The kernel instance, loading it on first use. Throws HeadUnavailable; a failed load is retried next time. */
  instance(): Loaded {
    if (this.#loaded) return this.#loaded
    const { maxCandidates = MAX_CANDIDATES, maxHistory = MAX_HISTORY_INPUT } = this.options
    try {
      const artifacts = typeof this.artifacts === 'function' ? this.artifacts() : this.artifacts
      return (this.#loaded = load(artifacts, maxCandidates, maxHistory))
    } catch (e) {
      throw new HeadUnavailable(`edge head (kernel) failed to load: ${errorText(e)}`)
    }
  }

  async score(features: HeadFeatures): Promise<Float32Array> {
    return this.scoreNow(features)
  }

  /** `score`, synchronously (the kernel never waits). */
  scoreNow({ query, items, history }: HeadFeatures): Float32Array {
    const { kernel, dims, at, f32 } = this.instance()
    const { maxCandidates = MAX_CANDIDATES, maxHistory = MAX_HISTORY_INPUT } = this.options
    const l = items.length
    const h = history.length
    if (l < 1 || l > maxCandidates)
      throw new HeadUnavailable(`the kernel scores 1…${maxCandidates} candidates, not ${l}`)
    if (h > maxHistory) throw new HeadUnavailable(`the kernel reads at most ${maxHistory} history items, not ${h}`)
    if (query.length !== dims.e) throw new HeadUnavailable(`the query vector has ${query.length} floats, not ${dims.e}`)
    f32.set(query, at.query)
    writeRecords(f32, items, at.items, at.price, dims.e, 'candidate')
    writeRecords(f32, history, at.history, at.histPrice, dims.e, 'history item')
    checkFinite(kernel, 'the query vector', at.query, dims.e)
    checkFinite(kernel, 'a candidate vector', at.items, l * dims.e)
    checkFinite(kernel, 'a history vector', at.history, h * dims.e)
    kernel.forward(l, h)
    const scores = f32.slice(at.score, at.score + l)
    const i = scores.findIndex((s) => !Number.isFinite(s))
    if (i >= 0) throw new HeadUnavailable(`the kernel scored candidate ${i} ${scores[i]}`)
    return scores
  }
}

/** Refuses `count` floats at float index `at` of the kernel's memory if one is NaN or ±Inf. */
function checkFinite(kernel: KernelExports, what: string, at: number, count: number): void {
  const i = kernel.firstNonFinite(at * 4, count)
  if (i >= 0) throw new HeadUnavailable(`${what} has a non-finite value (float ${i})`)
}

/** Copies records' vectors and prices into the kernel's input slots, checking each. */
function writeRecords(
  f32: Float32Array,
  records: ItemFeatures[],
  vectors: number,
  prices: number,
  e: number,
  what: string,
) {
  for (let i = 0; i < records.length; i++) {
    const { vector, price } = records[i]
    if (vector.length !== e) throw new HeadUnavailable(`${what} ${i}'s vector has ${vector.length} floats, not ${e}`)
    if (!(price > 0 && price < Infinity))
      throw new HeadUnavailable(`${what} ${i}'s price ${price} is not positive and finite`)
    f32.set(vector, vectors + i * e)
    f32[prices + i] = price
  }
}
