/**
 * `npm run report`: an HTML page and PNG charts of the results, rendered offline — Vega-Lite
 * compiled to SVG in Node, each SVG photographed to PNG by headless Chromium (Debian's, through
 * playwright-core). It reads the committed metrics (models/metrics.json, the second world's
 * models/metrics.world-seed2.json) and the latest `npm run bench:edge` / `bench:origin` results
 * (data/bench/*.json); a chart whose input is missing is left out, and the page says which.
 *
 *   npm run report                  → docs/report/ (index.html, *.png)
 *   npm run report -- --out DIR
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command } from 'commander'
import * as vega from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'
import { launchChromium } from '../chromium.ts'
import {
  edgeLatencyChart,
  fidelityChart,
  gainShareChart,
  originLatencyChart,
  personalizationChart,
  type EdgeBench,
  type Metrics,
  type OriginBench,
} from './charts.ts'

const readJson = <T>(file: string): T | null =>
  existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : null

interface Chart {
  name: string
  caption: string
  spec: TopLevelSpec | null
  /** What to run when the chart's input is missing. */
  missing?: string
}

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' })
  return view.toSVG()
}

export async function writeReport(out: string, opts: { models?: string; bench?: string } = {}): Promise<string[]> {
  const models = opts.models ?? 'models'
  const bench = opts.bench ?? 'data/bench'
  const metrics = readJson<Metrics>(join(models, 'metrics.json'))
  if (!metrics) throw new Error(`report: no ${join(models, 'metrics.json')} (npm run train)`)
  const second = readJson<Metrics>(join(models, 'metrics.world-seed2.json'))
  const worlds = [{ world: 'world 1', m: metrics }, ...(second ? [{ world: 'world 2', m: second }] : [])]
  const edge = readJson<EdgeBench>(join(bench, 'edge.json'))
  const origin = readJson<OriginBench>(join(bench, 'origin.json'))
  const charts: Chart[] = [
    {
      name: 'gain-share',
      caption: "Each ranker's share of the oracle's gain over retrieval order.",
      spec: gainShareChart(metrics),
    },
    {
      name: 'fidelity',
      caption: 'The distilled edge head against the teacher it learned from.',
      spec: fidelityChart(worlds),
    },
    {
      name: 'personalization',
      caption: "Each model with and without the user's history.",
      spec: personalizationChart(metrics),
    },
    {
      name: 'latency-edge',
      caption:
        'Edge latency per route at one connection: the rerank beside the runtime floors (an unknown route, /healthz). Boxes: quartiles and median; whiskers: min to max.',
      spec: edgeLatencyChart(edge),
      missing: 'npm run bench:edge',
    },
    {
      name: 'latency-origin',
      caption:
        'Origin latency by client count, with and without dynamic batching. Boxes: quartiles and median; whiskers: min to max.',
      spec: originLatencyChart(origin),
      missing: 'npm run bench:origin',
    },
  ]
  mkdirSync(out, { recursive: true })
  const browser = await launchChromium()
  const written: string[] = []
  try {
    const page = await browser.newPage({ deviceScaleFactor: 2 })
    for (const chart of charts) {
      if (!chart.spec) continue
      const svg = await toSvg(chart.spec)
      await page.setContent(`<!doctype html><body style="margin:0;background:white">${svg}</body>`)
      await page
        .locator('svg')
        .first()
        .screenshot({ path: join(out, `${chart.name}.png`) })
      written.push(`${chart.name}.png`)
    }
  } finally {
    await browser.close()
  }
  const sections = charts.map((c) =>
    c.spec
      ? `<figure><img src="${c.name}.png" alt="${c.caption}" width="640"><figcaption>${c.caption}</figcaption></figure>`
      : `<p class="missing">${c.caption} Not drawn: no results yet (run <code>${c.missing}</code>).</p>`,
  )
  writeFileSync(
    join(out, 'index.html'),
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edge-rerank results (SYNTHETIC world)</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:760px;margin:24px auto;color:#222}figure{margin:24px 0}figcaption{color:#555}.missing{color:#a33}</style>
</head><body>
<h1>edge-rerank results</h1>
<p>Everything here is measured on a <strong>SYNTHETIC</strong> world whose optimum is known (docs/world.md).
Models: <code>${join(models, 'metrics.json')}</code>${second ? ` and <code>${join(models, 'metrics.world-seed2.json')}</code>` : ''}.
Benchmarks: <code>${join(bench, 'edge.json')}</code>${edge ? ` (${(edge as { when?: string }).when ?? ''})` : ' (none)'},
<code>${join(bench, 'origin.json')}</code>${origin ? ` (${(origin as { when?: string }).when ?? ''})` : ' (none)'}.</p>
${sections.join('\n')}
</body></html>
`,
  )
  written.push('index.html')
  return written
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = new Command('report')
    .description('Charts of the results (SYNTHETIC world) as an HTML page and PNGs.')
    .option('--out <dir>', 'where the page and the charts go', 'docs/report')
    .option('--models <dir>', 'where metrics.json is', 'models')
    .option('--bench <dir>', 'where the benchmarks wrote their results', 'data/bench')
    .parse()
    .opts<{ out: string; models: string; bench: string }>()
  const written = await writeReport(opts.out, opts)
  console.log(`report: wrote ${written.map((f) => join(opts.out, f)).join(', ')}`)
}
