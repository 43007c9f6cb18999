import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { BLOCKS, PAGES, stalePages } from '../../../scripts/docs/figures.ts'

describe('docs:figures', () => {
  it('every generated block in the README and docs/ matches the committed results', () => {
    expect(stalePages()).toEqual([])
  })

  it('every block the script generates appears on a page', () => {
    const text = PAGES.map((p) => readFileSync(p, 'utf8')).join('\n')
    for (const name of Object.keys(BLOCKS)) expect(text, name).toContain(`<!-- figures:${name} -->`)
  })
})
