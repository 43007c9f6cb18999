import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { beforeAll, describe, expect, it } from 'vitest'
import { KERNEL_ARCHITECTURE, KernelHead } from '../../../functions/edge/head/kernel-head.ts'
import { assembleHeadInputs } from '../../../functions/shared/head-inputs.ts'
import { loadKernelModule } from '../../../scripts/kernel/build.ts'
import { resolvePython } from '../../../scripts/python.ts'
import { headCase } from '../../workerd/head-cases.ts'
import { readHeadRequests } from '../../workerd-setup/head-reference.ts'
import { headFeatures } from '../../workerd/head-requests.ts'
import { readNpy } from '../../../functions/release/npy.ts'
import { tempDir } from '../world/fixture.ts'

const python = resolvePython()
const runnable = python.ok || process.env.CI === 'true' // under CI a missing torch must fail, not skip
if (!python.ok && !runnable) console.warn(`!!! SKIPPING the smoke training run: ${python.reason}`)

const RERANKERS = ['pointwise_text', 'prm', 'armmt_no_cafu', 'armmt_no_aux', 'armmt_table', 'armmt', 'head']
const EXPORTED = ['armmt', 'edge_head', 'item_tower', 'query_tower']

// The chain runs once (beforeAll); every `it` reads what it wrote.
describe.skipIf(!runnable)('`npm run train -- --preset smoke` end to end', () => {
  const dir = tempDir('train')
  const out = join(dir, 'out')
  let log = ''
  let metrics: any
  let manifest: any

  beforeAll(async () => {
    ;({ stdout: log } = await promisify(execFile)(
      'npm',
      [
        'run',
        '--silent',
        'train',
        '--',
        '--preset',
        'smoke',
        '--world',
        join(dir, 'world'),
        '--out',
        out,
        '--no-publish',
      ],
      { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
    ))
    metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'))
    manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))
    // The limit only guards a hang: a slow, loaded machine must not fail it.
  }, 3_600_000)

  describe('the log', () => {
    it("shows each two-tower epoch's loss", () => {
      expect(log).toMatch(/two_tower\[fusion\] epoch 4\/4 loss [\d.]+/)
    })

    it('shows an estimate of the time left', () => {
      expect(log).toMatch(/eta \d+s/)
    })

    it("shows each seed's teacher epochs with their validation loss", () => {
      expect(log).toMatch(/armmt\[seed 2\] epoch 2\/2 loss [\d.]+ valid [\d.]+/)
    })
  })

  describe('metrics.json', () => {
    it('says what it measured: synthetic, the smoke preset, the test split', () => {
      expect(metrics).toMatchObject({ synthetic: true, preset: 'smoke', split: 'test' })
    })

    it("gives the oracle all of the oracle's gain", () => {
      expect(metrics.rankers.oracle.oracle_gain_share).toBe(1)
    })

    for (const mode of ['text', 'image', 'concat', 'fusion'])
      it(`two_tower ${mode}: recall@100 above 0.1, at most 1`, () => {
        expect(metrics.two_tower[mode]['recall@100']).toBeGreaterThan(0.1)
        expect(metrics.two_tower[mode]['recall@100']).toBeLessThanOrEqual(1)
      })

    it('measures the parity of every exported model', () => {
      expect(Object.keys(metrics.parity_max_abs_diff).sort()).toEqual(EXPORTED)
    })

    for (const name of EXPORTED)
      it(`${name}: max |onnxruntime-node − torch| ≤ 1e-4`, () => {
        expect(metrics.parity_max_abs_diff[name]).toBeLessThanOrEqual(1e-4)
      })

    for (const name of RERANKERS)
      it(`${name}: every metric over seeds 1 and 2, finite, with a std`, () => {
        const m = metrics.rankers[name]
        expect(m.seeds).toEqual([1, 2])
        for (const key of ['ndcg@10', 'ndcg@10_true', 'auc', 'gauc', 'oracle_gain_share']) {
          expect(Number.isFinite(m[key]), key).toBe(true)
          expect(m.std[key], `std ${key}`).toBeGreaterThanOrEqual(0)
        }
      })

    // The teacher with every history hidden: what personalization is worth to it (one seed).
    // The same for the head, and both against the history-based ceiling.
    for (const name of ['armmt_history_hidden', 'head_history_hidden'])
      it(`${name}: one seed, a finite oracle gain share`, () => {
        expect(metrics.rankers[name].seeds).toEqual([1])
        expect(Number.isFinite(metrics.rankers[name].oracle_gain_share)).toBe(true)
      })

    it('gives the history oracle all of its own gain', () => {
      expect(metrics.rankers.history_oracle.history_oracle_gain_share).toBeCloseTo(1, 10)
    })

    it("measures the teacher's share of the history oracle's gain", () => {
      expect(Number.isFinite(metrics.rankers.armmt.history_oracle_gain_share)).toBe(true)
    })

    it('times the trained rankers only', () => {
      expect(Object.keys(metrics.train_seconds).sort()).toEqual([...RERANKERS].sort())
    })

    it("counts the head's FLOPs: some, under a tenth of the teacher's", () => {
      expect(metrics.flops.head).toBeGreaterThan(0)
      expect(metrics.flops.head).toBeLessThan(metrics.flops.armmt / 10)
    })

    it("states the head's FLOPs as a share of the teacher's", () => {
      expect(metrics.distillation.head_flops_share_of_teacher).toBeCloseTo(metrics.flops.head / metrics.flops.armmt, 6)
    })

    // The first seed with the history minus the same seed with every history hidden: the first seed
    // is one of the mean's seeds, so it lies within the seeds' spread of the mean.
    for (const name of ['armmt', 'head'])
      it(`${name}: what the history is worth, within the seeds' spread of the means' difference`, () => {
        const { rankers, personalization } = metrics
        const mean = rankers[name].oracle_gain_share - rankers[`${name}_history_hidden`].oracle_gain_share
        expect(Number.isFinite(personalization[name])).toBe(true)
        expect(Math.abs(personalization[name] - mean)).toBeLessThanOrEqual(rankers[name].std.oracle_gain_share + 1e-9)
      })

    it('reports each budget', () => {
      expect(metrics.budget).toEqual({
        teacher: { sessions: 2400, epochs: 2 },
        table: { sessions: 2400, epochs: 2 },
        head: { sessions: 2400, epochs: 2 },
      })
    })

    it('times every stage, in order', () => {
      expect(Object.keys(metrics.stage_seconds)).toEqual([
        'world',
        'two_tower',
        'embeddings',
        'rerank',
        'parity',
        'evaluation',
      ])
      for (const s of Object.values(metrics.stage_seconds)) expect(s).toBeGreaterThanOrEqual(0)
    })
  })

  describe('manifest.json and the KV embeddings', () => {
    it('names the release: rr- and 12 hex digits', () => {
      expect(manifest.version).toMatch(/^rr-[0-9a-f]{12}$/)
    })

    it("names the embeddings' width, quantization and KV prefix", () => {
      expect(manifest.embedding).toMatchObject({
        dim: 64,
        quantization: { dtype: 'int8' },
        kv_prefix: `emb/${manifest.embedding.version}/`,
      })
    })

    it('writes the item embeddings as int8 [2000, 64] with one scale per vector', () => {
      const items = readNpy(join(out, `${manifest.embedding.files.items}.int8.npy`))
      const scale = readNpy(join(out, `${manifest.embedding.files.items}.scale.npy`))
      expect(items.dtype).toBe('int8')
      expect(items.shape).toEqual([2000, 64])
      expect(scale.shape).toEqual([2000])
    })

    it('dequantizes to the float vectors within half a quantization step', () => {
      const items = readNpy(join(out, `${manifest.embedding.files.items}.int8.npy`))
      const scale = readNpy(join(out, `${manifest.embedding.files.items}.scale.npy`))
      const float = readNpy(join(out, 'two_tower', 'fusion', 'item_emb.npy')).data as Float32Array
      for (let r = 0; r < 50; r++)
        for (let i = 0; i < 64; i++)
          expect(
            Math.abs((items.data[r * 64 + i] as number) * (scale.data[r] as number) - float[r * 64 + i]),
          ).toBeLessThanOrEqual((scale.data[r] as number) / 2 + 1e-7)
    })

    for (const name of ['armmt', 'edge_head'])
      it(`${name}: one score output [batch, list]; masks over the list and the history`, () => {
        const spec = manifest.models[name]
        expect(spec.outputs).toEqual([{ name: 'score', dtype: 'float32', shape: ['batch', 'list'] }])
        expect(spec.inputs.find((i: { name: string }) => i.name === 'mask').shape).toEqual(['batch', 'list'])
        expect(spec.inputs.find((i: { name: string }) => i.name === 'hist_mask').shape).toEqual(['batch', 'history'])
      })

    it("the teacher reads the history's catalog prices (its price-level behaviour channel)", () => {
      expect(manifest.models.armmt.inputs.find((i: { name: string }) => i.name === 'hist_price').shape).toEqual([
        'batch',
        'history',
      ])
    })
  })

  describe("the edge head's exports", () => {
    const kernel = () => {
      const spec = manifest.models.edge_head
      return new KernelHead({ spec, wasm: loadKernelModule(), weights: readFileSync(join(out, spec.weights.file)) })
    }

    it("the weights blob claims the kernel's architecture, at the smoke preset's widths", () => {
      expect(manifest.models.edge_head.weights.architecture).toMatchObject({
        name: KERNEL_ARCHITECTURE,
        dim: 16,
        heads: 2,
      })
    })

    it("the weights blob drives the edge's WASM kernel to the ONNX head's scores", async () => {
      const spec = manifest.models.edge_head
      const head = kernel()
      const session = await ort.InferenceSession.create(join(out, spec.file))
      for (let i = 0; i < 6; i++) {
        const f = headCase(i, manifest.embedding.dim)
        const feeds = Object.fromEntries(
          Object.entries(assembleHeadInputs(spec, f)).map(([n, t]) => [n, new ort.Tensor('float32', t.data, t.dims)]),
        )
        const want = (await session.run(feeds)).score.data as Float32Array
        const got = head.scoreNow(f)
        for (let j = 0; j < want.length; j++) expect(Math.abs(got[j] - want[j])).toBeLessThanOrEqual(1e-5)
      }
      await session.release()
    })

    it("exports the head's parity requests, from one candidate and no history to 200 of each", () => {
      const sizes = readHeadRequests(out).map((r) => [r.items.length, r.history.length])
      expect(sizes).toContainEqual([1, 0])
      expect(Math.max(...sizes.map(([candidates]) => candidates))).toBe(200)
      expect(Math.max(...sizes.map(([, history]) => history))).toBe(200)
    })

    it("the weights blob drives the kernel to PyTorch's scores of those requests", () => {
      const head = kernel()
      for (const r of readHeadRequests(out)) {
        const got = head.scoreNow(headFeatures(r))
        expect(got.length, r.name).toBe(r.torchScores.length)
        for (let j = 0; j < got.length; j++)
          expect(Math.abs(got[j] - r.torchScores[j]), `${r.name}[${j}]`).toBeLessThanOrEqual(1e-5)
      }
    })
  })

  it('the exported query tower reproduces the embeddings training wrote', async () => {
    const session = await ort.InferenceSession.create(join(out, manifest.models.query_tower.file))
    const queries = readNpy(join(dir, 'world', 'query_emb.npy'))
    const expected = readNpy(join(out, 'two_tower', 'fusion', 'query_emb.npy'))
    const [n, d] = [23, queries.shape[1]]
    const result = await session.run({
      query: new ort.Tensor('float32', (queries.data as Float32Array).slice(0, n * d), [n, d]),
    })
    const got = result.embedding.data as Float32Array
    const dim = expected.shape[1]
    expect(result.embedding.dims).toEqual([n, dim])
    for (let i = 0; i < n * dim; i++) expect(Math.abs(got[i] - (expected.data[i] as number))).toBeLessThan(1e-4)
  })
})
