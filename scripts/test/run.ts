/**
 * `npm test`: every test of the project, TypeScript (vitest) then Python (pytest), and one
 * closing line `tests: N passed, N failed, N skipped` over both.
 *
 * The Python tests need PyTorch. Where it is missing they are skipped with a loud line —
 * except under CI (CI=true), where a missing PyTorch fails the run: CI must run them.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { Command } from 'commander'
import { resolvePython } from '../python.ts'
import { ensureWorld } from '../world/ensure.ts'

const opts = new Command('test')
  .option('--only <part>', 'ts | py')
  .allowExcessArguments(false)
  .parse()
  .opts<{ only?: 'ts' | 'py' }>()

const RESULTS = '.test-results'
mkdirSync(RESULTS, { recursive: true })
const totals = { passed: 0, failed: 0, skipped: 0 }
let broken = false

if (opts.only !== 'py') {
  // Type errors fail the run too (vitest strips types without checking them).
  const tsc = spawnSync('npx', ['tsc', '--noEmit'], { stdio: 'inherit' })
  console.log(tsc.status === 0 ? 'typecheck: ok' : 'typecheck: FAILED')
  if (tsc.status !== 0) broken = true
  // The tree keeps one style (.prettierrc.json); `npm run format` mends it.
  const format = spawnSync('npx', ['prettier', '--check', '--log-level', 'warn', '.'], { stdio: 'inherit' })
  console.log(format.status === 0 ? 'format: ok' : 'format: FAILED (npm run format mends it)')
  if (format.status !== 0) broken = true
  // The origin's tests (and the edge's, through real origins) read the default SYNTHETIC world:
  // made once here, before test files in parallel would each ask for it.
  ensureWorld('default', 1, 'data/worlds/default')
  const json = `${RESULTS}/vitest.json`
  const run = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${json}`], {
    stdio: 'inherit',
  })
  if (existsSync(json)) {
    const r = JSON.parse(readFileSync(json, 'utf8'))
    totals.passed += r.numPassedTests
    totals.failed += r.numFailedTests
    totals.skipped += r.numPendingTests + r.numTodoTests
  }
  if (run.status !== 0) broken = true
}

if (opts.only !== 'ts') {
  const python = resolvePython()
  if (!python.ok) {
    if (process.env.CI === 'true') {
      console.error(
        `\n!!! Python tests CANNOT RUN under CI: ${python.reason}. Install: apt-get install python3-torch libopenblas0-pthread python3-pytest`,
      )
      broken = true
      totals.failed++
    } else {
      console.error(
        `\n!!! SKIPPING ALL PYTHON TESTS: ${python.reason} (install python3-torch python3-pytest, or set PYTHON=...)\n`,
      )
      totals.skipped++
    }
  } else {
    checkPythonFormat()
    const xml = `${RESULTS}/pytest.xml`
    console.log(`\npython tests with ${python.bin} (torch ${python.torch})`)
    const run = spawnSync(
      python.bin,
      ['-m', 'pytest', 'models/tests', '-q', `--junitxml=${xml}`, '-p', 'no:cacheprovider'],
      { stdio: 'inherit' },
    )
    if (existsSync(xml)) {
      const suite = /<testsuite [^>]*>/.exec(readFileSync(xml, 'utf8'))?.[0] ?? ''
      const attr = (name: string) => Number(new RegExp(`${name}="(\\d+)"`).exec(suite)?.[1] ?? 0)
      const failed = attr('failures') + attr('errors')
      totals.failed += failed
      totals.skipped += attr('skipped')
      totals.passed += attr('tests') - failed - attr('skipped')
    }
    if (run.status !== 0) broken = true
  }
}

/** models/ keeps black's style (pyproject.toml); like PyTorch, black is required under CI only. */
function checkPythonFormat() {
  const black = spawnSync('black', ['--check', '--quiet', 'models'], { stdio: 'inherit' })
  if (black.error) {
    const missing = 'black is not installed (apt-get install black)'
    if (process.env.CI === 'true') {
      console.error(`\n!!! python format CANNOT BE CHECKED under CI: ${missing}`)
      broken = true
    } else console.error(`\n!!! SKIPPING the python format check: ${missing}\n`)
    return
  }
  console.log(black.status === 0 ? 'python format: ok' : 'python format: FAILED (black models mends it)')
  if (black.status !== 0) broken = true
}

console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`)
process.exit(broken || totals.failed > 0 ? 1 : 0)
