import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildDemoData, DEMO_DATA } from '../../../scripts/demo/data.ts'

describe('the demo storefront data (public/demo/data.json)', () => {
  const committed = JSON.parse(readFileSync(DEMO_DATA, 'utf8'))

  it('is what npm run demo:data builds from the committed release and world', () => {
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildDemoData())))
  })

  it('holds a product-page view of every item it lists, and no hidden truth', () => {
    const ids = [
      ...committed.queries.flatMap((q: { candidates: { id: string }[] }) => q.candidates.map((c) => c.id)),
      ...committed.users.flatMap((u: { history: string[] }) => u.history),
    ]
    for (const id of ids)
      expect(Object.keys(committed.items[id]).sort()).toEqual([
        'category',
        'colour',
        'pattern',
        'price',
        'shape',
        'title',
      ])
    expect(JSON.stringify(committed)).not.toMatch(/taste|utility|p_click|p_purchase/)
  })
})
