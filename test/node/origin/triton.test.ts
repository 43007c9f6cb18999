import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../world/fixture.ts'

/** config.pbtxt's input or output blocks as { name, data_type, dims } (the subset export:triton writes). */
function blocks(config: string, section: 'input' | 'output') {
  const body = new RegExp(`^${section} \\[\\n([\\s\\S]*?)\\n\\]`, 'm').exec(config)?.[1] ?? ''
  return [...body.matchAll(/name: "([^"]+)"\s+data_type: (\w+)\s+dims: \[ ([^\]]*) \]/g)].map((m) => ({
    name: m[1],
    data_type: m[2],
    dims: m[3].split(',').map((d) => Number(d.trim())),
  }))
}

describe('npm run export:triton', () => {
  const out = tempDir('triton')
  execFileSync('npm', ['run', '--silent', 'export:triton', '--', '--out', out], { encoding: 'utf8' })
  const config = readFileSync(join(out, 'armmt', 'config.pbtxt'), 'utf8')

  it('writes the ONNX file and a config naming exactly its inputs and outputs, types and dims', async () => {
    const session = await ort.InferenceSession.create(join(out, 'armmt', '1', 'model.onnx'))
    const expected = (meta: readonly ort.InferenceSession.ValueMetadata[]) =>
      meta.map((m) => {
        if (!m.isTensor) throw new Error(`${m.name} is not a tensor`)
        expect(m.shape[0]).toBe('batch')
        return {
          name: m.name,
          data_type: { float32: 'TYPE_FP32' }[m.type as 'float32'],
          dims: m.shape.slice(1).map((d) => (typeof d === 'number' ? d : -1)),
        }
      })
    expect(blocks(config, 'input')).toEqual(expected(session.inputMetadata))
    expect(blocks(config, 'output')).toEqual(expected(session.outputMetadata))
  })

  it('sets the platform, max_batch_size and dynamic batching', () => {
    expect(config).toMatch(/^platform: "onnxruntime_onnx"$/m)
    expect(config).toMatch(/^max_batch_size: 64$/m)
    expect(config).toMatch(/dynamic_batching \{\n {2}max_queue_delay_microseconds: 2000\n\}/)
  })
})
