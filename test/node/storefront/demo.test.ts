import { mkdirSync, readFileSync, statSync } from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import { parse } from 'smol-toml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { originConfig } from '../../../functions/origin/config.ts'
import { launchOrigin } from '../../../functions/origin/main.ts'
import type { RunningOrigin } from '../../../functions/origin/server.ts'
import { startWranglerDev, type DevServer } from '../../../scripts/bench/wrangler-dev.ts'
import { chromiumRunnable, launchChromium } from '../../../scripts/chromium.ts'
import { ensureSeeded } from '../../../scripts/kv/seed.ts'
import { freePort } from '../free-port.ts'
import { syntheticOriginRelease } from '../../../scripts/world/release-world.ts'

// The demo storefront (public/) in a real headless Chromium (Debian's, driven by playwright-core),
// served by `wrangler dev` (workerd, local KV seeded from the release) with a real origin behind it.
// The screenshot the README shows is the one this test saves.
export const SCREENSHOT = '.test-results/demo.png'
const runnable = chromiumRunnable('the demo storefront test')

const TOKEN = 'demo-test-origin-token'
/** The test's own user-key secret: `.dev.vars` (npm start's) is neither read nor written. The page
 *  sends its shoppers' histories itself, never a user id, so it reads no stored history. */
const USER_KEY = { secret: 'edge-rerank-test-user-key', version: 'v1' }
/** wrangler.toml's vars and the secrets, every one passed as a --var (which wins over `.dev.vars`):
 *  what a local `.dev.vars` holds (npm start writes one) changes nothing this page gets. */
const WRANGLER_VARS = {
  ...(parse(readFileSync('wrangler.toml', 'utf8')) as { vars: Record<string, string> }).vars,
  USER_KEY_SECRET: USER_KEY.secret,
  USER_KEY_VERSION: USER_KEY.version,
  USER_TOKEN_SECRET: 'edge-rerank-test-user-token',
}
/** A demo query whose candidates hold many red items, not all of them in its first page. */
const RED_QUERY = 'jacket'
/** What the page searches (npm run demo:data): its queries, in the order it offers them. */
const demo = JSON.parse(readFileSync('public/demo/data.json', 'utf8')) as { queries: { text: string }[] }

describe.skipIf(!runnable)('the demo storefront in Chromium', () => {
  let origin: RunningOrigin
  let edge: DevServer
  let browser: Browser
  let page: Page

  /** The answer the page last rendered: query, user, path, and the re-ranked ids. */
  async function answered(previous?: string) {
    // A page-side predicate (a string: it runs in the browser, not here).
    await page.waitForFunction(
      `document.body.dataset.answered && document.body.dataset.answered !== ${JSON.stringify(previous ?? null)}`,
    )
    const tag = (await page.getAttribute('body', 'data-answered'))!
    const [query, user, path] = tag.split('|')
    const ids = await page.$$eval('#after li', (lis) => lis.map((li) => li.getAttribute('data-id')))
    const before = await page.$$eval('#before li', (lis) => lis.map((li) => li.getAttribute('data-id')))
    const colours = await page.$$eval('#after li', (lis) => lis.map((li) => li.getAttribute('data-colour')))
    return { query, user, path, ids, before, colours, tag }
  }

  beforeAll(async () => {
    // wrangler's local KV is npm start's: seeding a private copy would cost ~40 s a run (2 cores),
    // and ensureSeeded reseeds only when it holds another release. Its histories may be keyed under
    // npm start's secret (anyUserKeys): the page reads none. Seeding it here keys them under USER_KEY.
    await ensureSeeded({
      target: 'local',
      models: 'models',
      world: 'data/worlds/default',
      userKey: USER_KEY,
      anyUserKeys: true,
    })
    origin = await launchOrigin(
      originConfig({ ORIGIN_TOKEN: TOKEN, PORT: '0' }),
      syntheticOriginRelease('models', 'data/worlds/default'),
    )
    edge = await startWranglerDev(await freePort(), {
      ...WRANGLER_VARS,
      ORIGIN_URL: origin.url,
      ORIGIN_TOKEN: TOKEN,
      CACHE_TTL_S: '0',
    })
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    await page.goto(edge.url)
  })

  afterAll(async () => {
    await browser?.close()
    await edge?.stop()
    await origin?.stop()
  })

  it('loads, and its first search comes back re-ranked at the edge', async () => {
    const a = await answered()
    expect(a.path).toBe('edge')
    expect(a.ids).toHaveLength(12)
    expect(a.ids).not.toEqual(a.before)
    expect(await page.textContent('[data-path]')).toBe('edge')
  })

  it('a search for another query shows that query re-ranked', async () => {
    const last = (await page.getAttribute('body', 'data-answered'))!
    await page.fill('#query', 'pink sofa')
    await page.click('button[type=submit]')
    const a = await answered(last)
    expect(a.query).toBe('pink sofa')
    expect(a.path).toBe('edge')
    expect(a.ids).toHaveLength(12)
  })

  it('picking a shopper shows their history and changes the order', async () => {
    const anonymous = await answered()
    await page.selectOption('#user', '0')
    const personal = await answered(anonymous.tag)
    expect(personal.user).not.toBe('')
    expect(await page.$$('#history svg')).not.toHaveLength(0)
    expect(personal.ids).not.toEqual(anonymous.ids)
  })

  it('mode=full is answered by the origin', async () => {
    const last = (await page.getAttribute('body', 'data-answered'))!
    await page.check('#full')
    const a = await answered(last)
    expect(a.path).toBe('origin')
    expect(await page.textContent('[data-path]')).toBe('origin')
    await page.uncheck('#full')
    await answered(a.tag)
  })

  it("an unknown query is answered with the demo's first one, and the page says so", async () => {
    const last = (await page.getAttribute('body', 'data-answered'))!
    await page.fill('#query', 'zzzz qqq')
    await page.click('button[type=submit]')
    expect((await answered(last)).query).toBe(demo.queries[0].text)
    expect(await page.textContent('#notice')).toContain(
      `“zzzz qqq” is not one of this demo's queries: a storefront's search engine would retrieve its candidates, and the demo has them for these ${demo.queries.length} only. Showing “${demo.queries[0].text}” instead.`,
    )
  })

  it('that notice offers every query the demo knows', async () => {
    expect(await page.$$eval('#notice button', (bs) => bs.map((b) => b.textContent))).toEqual(
      demo.queries.map((q) => q.text),
    )
  })

  it('a query picked from that list is searched, and the notice goes', async () => {
    const last = (await page.getAttribute('body', 'data-answered'))!
    await page.click(`#notice button:text-is("${demo.queries[1].text}")`)
    const a = await answered(last)
    expect(a.query).toBe(demo.queries[1].text)
    expect(await page.isVisible('#notice')).toBe(false)
  })

  it('three red items clicked: the next search moves red up, and the history row shows them', async () => {
    let last = (await page.getAttribute('body', 'data-answered'))!
    await page.selectOption('#user', '')
    last = (await answered(last)).tag
    await page.fill('#query', RED_QUERY)
    await page.click('button[type=submit]')
    const first = await answered(last)
    // As a shopper would: click the red items shown, search again, click the red ones now shown.
    const clicked = new Set<string>()
    let now = first
    for (let round = 0; round < 3 && clicked.size < 3; round++) {
      for (const li of await page.$$('#after li[data-colour=red]')) {
        const id = (await li.getAttribute('data-id'))!
        if (clicked.size < 3 && !clicked.has(id)) (await li.click(), clicked.add(id))
      }
      await page.waitForFunction(`Number(document.body.dataset.tracked) >= ${clicked.size}`)
      await page.click('button[type=submit]')
      now = await answered(now.tag)
    }
    const red = (colours: (string | null)[]) => colours.filter((c) => c === 'red').length
    expect({
      clicked: clicked.size,
      picked: (await page.$$('#history svg.picked')).length,
      red: { before: red(first.colours), after: red(now.colours) },
    }).toEqual({
      clicked: 3,
      picked: 3,
      red: { before: red(first.colours), after: expect.toSatisfy((n: number) => n > red(first.colours)) },
    })
  })

  it('saves the screenshot the README shows', async () => {
    // A shopper whose recent items are mostly blue, searching a query that names no colour.
    const last = (await page.getAttribute('body', 'data-answered'))!
    await page.selectOption('#user', '0')
    await page.fill('#query', 'headphones')
    await page.click('button[type=submit]')
    expect((await answered(last)).path).toBe('edge')
    mkdirSync('.test-results', { recursive: true })
    await page.screenshot({ path: SCREENSHOT })
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000)
  })
})
