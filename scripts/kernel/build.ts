/**
 * Builds the edge head's WASM SIMD kernel: functions/edge/head/kernel/forward.ts (AssemblyScript)
 * → forward.wasm beside it. The .wasm is committed, so `npm ci`, `npm start` and a deploy need no
 * compiler step; `--check` rebuilds in memory and fails if the committed bytes differ (a test runs
 * it), so the committed file is always what this source compiles to.
 *
 *   npm run build:kernel            rebuild forward.wasm
 *   npm run build:kernel -- --check  compare only
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { Command } from 'commander'

export const KERNEL_SOURCE = 'functions/edge/head/kernel/forward.ts'
export const KERNEL_WASM = 'functions/edge/head/kernel/forward.wasm'

/** The compiler flags: optimized, SIMD, no runtime (the kernel allocates nothing), no assertions. */
const FLAGS = ['-O3', '--runtime', 'stub', '--enable', 'simd', '--noAssert']

/** The part of AssemblyScript's compiler API used here. Its own typings declare global `console`
 *  and `WebAssembly` namespaces that clash with Node's, so they are kept out of the program: the
 *  module is imported by a name TypeScript does not resolve. */
interface Asc {
  main(
    argv: string[],
    options: {
      writeFile: (name: string, contents: Uint8Array | string) => void
      stdout: { write: (s: string | Uint8Array) => boolean }
      stderr: { write: (s: string | Uint8Array) => boolean }
    },
  ): Promise<{ error: Error | null }>
}
const ASC_MODULE: string = 'assemblyscript/asc'

/** Compiles the kernel; resolves to its bytes. */
export async function compileKernel(): Promise<Uint8Array> {
  const { default: asc } = (await import(ASC_MODULE)) as { default: Asc }
  let binary: Uint8Array | undefined
  const errors: string[] = []
  const { error } = await asc.main([KERNEL_SOURCE, '--outFile', 'forward.wasm', ...FLAGS], {
    writeFile: (name, contents) => {
      if (name.endsWith('.wasm')) binary = contents as Uint8Array
    },
    stdout: { write: () => true },
    stderr: { write: (s) => (errors.push(String(s)), true) },
  })
  if (error || !binary) throw new Error(`asc failed: ${error?.message ?? ''}\n${errors.join('')}`)
  return binary
}

async function main() {
  const opts = new Command()
    .description('Build the edge head kernel (AssemblyScript → WASM SIMD).')
    .option('--check', 'compare with the committed forward.wasm instead of writing it')
    .parse()
    .opts<{ check?: boolean }>()
  const built = await compileKernel()
  if (opts.check) {
    const committed = readFileSync(KERNEL_WASM)
    if (!Buffer.from(built).equals(committed)) {
      console.error(`${KERNEL_WASM} is not what ${KERNEL_SOURCE} compiles to: run npm run build:kernel`)
      process.exit(1)
    }
    console.log(`${KERNEL_WASM}: up to date (${built.byteLength} bytes)`)
  } else {
    writeFileSync(KERNEL_WASM, built)
    console.log(`wrote ${KERNEL_WASM} (${built.byteLength} bytes)`)
  }
}

/** The committed kernel, compiled, for Node callers (workerd gets it from the bundle). The Workers
 *  types declare WebAssembly.Module abstract; Node constructs it from bytes. */
export function loadKernelModule(): WebAssembly.Module {
  const Module = WebAssembly.Module as unknown as new (bytes: Uint8Array) => WebAssembly.Module
  return new Module(readFileSync(KERNEL_WASM))
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
