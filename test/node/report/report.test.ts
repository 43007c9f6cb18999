import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { chromiumRunnable } from '../../../scripts/chromium.ts'
import { writeReport } from '../../../scripts/report/cli.ts'
import { tempDir } from '../world/fixture.ts'

const runnable = chromiumRunnable('the report test')

// `npm run report` on the committed metrics, rendered by Vega-Lite and photographed by Chromium.
describe.skipIf(!runnable)('npm run report', () => {
  it('draws the model charts, and says which benchmark charts lack results', async () => {
    const out = tempDir('report')
    const written = await writeReport(out, { bench: join(out, 'no-bench') })
    expect(written).toEqual(['gain-share.png', 'fidelity.png', 'personalization.png', 'index.html'])
    for (const png of written.filter((f) => f.endsWith('.png'))) {
      const bytes = readFileSync(join(out, png))
      expect(bytes.subarray(1, 4).toString()).toBe('PNG')
      expect(statSync(join(out, png)).size).toBeGreaterThan(10_000)
    }
    const html = readFileSync(join(out, 'index.html'), 'utf8')
    expect(html).toMatch(/SYNTHETIC/)
    expect(html).toMatch(/run <code>npm run bench:edge<\/code>/)
    expect(html).toMatch(/run <code>npm run bench:origin<\/code>/)
  })

  it('draws the latency distributions from benchmark results', async () => {
    const out = tempDir('report')
    const bench = join(out, 'bench')
    mkdirSync(bench)
    // Benchmark-shaped inputs for the rendering only (not measurements).
    const samples = Array.from({ length: 200 }, (_, i) => 1 + (i % 17) / 4)
    writeFileSync(join(bench, 'edge.json'), JSON.stringify({ client: { miniflare: { '/healthz': { samples } } } }))
    writeFileSync(
      join(bench, 'origin.json'),
      JSON.stringify({
        runs: [
          { batching: 'on', clients: 8, samples },
          { batching: 'off', clients: 8, samples },
        ],
      }),
    )
    const written = await writeReport(out, { bench })
    expect(written).toContain('latency-edge.png')
    expect(written).toContain('latency-origin.png')
    expect(readFileSync(join(out, 'index.html'), 'utf8')).not.toMatch(/Not drawn/)
  })
})
