/**
 * Debian's Chromium (apt-get install chromium), driven by playwright-core: the report renders its
 * charts with it and the demo storefront's test drives it. `CHROMIUM_PATH` points elsewhere.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Whether a test that needs Chromium can run; under CI a missing browser must fail, not skip. */
export function chromiumRunnable(what: string): boolean {
  const runnable = existsSync(CHROMIUM) || process.env.CI === 'true'
  if (!runnable) console.warn(`!!! SKIPPING ${what}: no Chromium at ${CHROMIUM} (apt-get install chromium)`)
  return runnable
}

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
