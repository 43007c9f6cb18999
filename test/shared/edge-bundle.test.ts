import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { Manifest } from '../../functions/shared/manifest.ts'
import { rankByScore } from '../../functions/shared/ranking.ts'

describe('the edge bundle', () => {
  it('imports the head model file the manifest names', () => {
    const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8')) as Manifest
    const source = readFileSync('functions/edge/artifacts.ts', 'utf8')
    const imported = /import headModel from '([^']+\.onnx)'/.exec(source)?.[1]
    expect(imported).toBe(`../../models/${manifest.models.edge_head.file}`)
  })
})

describe('rankByScore', () => {
  it('orders by score, then id, whatever the input order', () => {
    const items = [
      { id: 'b', score: 1 },
      { id: 'c', score: 2 },
      { id: 'a', score: 1 },
    ]
    expect(rankByScore(items).map((i) => i.id)).toEqual(['c', 'a', 'b'])
    expect(rankByScore([...items].reverse()).map((i) => i.id)).toEqual(['c', 'a', 'b'])
  })
})
