/**
 * wrangler's local KV (what `wrangler dev` reads: `<persist>/v3/kv`, the namespace named after its
 * binding), written and read through Miniflare's API: one workerd for a whole upload, where
 * `wrangler kv bulk put --local` starts one per file. The puts run inside workerd, a chunk per call.
 */
import { join } from 'node:path'
import { convertV4MiniflareOptions, Miniflare } from 'miniflare'
import type { KvEntry } from '../../functions/release/kv-entries.ts'

/** Puts the JSON array of entries it is sent into the namespace; answers how many. */
const WRITER = `export default {
  async fetch(request, env) {
    const entries = await request.json()
    await Promise.all(entries.map((e) => env.KV.put(e.key, e.value)))
    return new Response(String(entries.length))
  },
}`

const CHUNK = 1000

export interface LocalKv {
  /** Puts `entries` in chunks, calling `progress` with how many are in. */
  putAll(entries: KvEntry[], progress?: (done: number) => void): Promise<void>
  get(key: string): Promise<string | null>
}

export async function withLocalKv<T>(binding: string, persistTo: string, fn: (kv: LocalKv) => Promise<T>): Promise<T> {
  // Miniflare 5 takes wrangler-shaped options; its converter accepts the documented worker options.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      script: WRITER,
      resourcePersistencePath: join(persistTo, 'v3'),
      kvNamespaces: { KV: binding },
    }),
  )
  try {
    const namespace = await mf.getKVNamespace('KV')
    return await fn({
      async putAll(entries, progress) {
        for (let i = 0; i < entries.length; i += CHUNK) {
          const chunk = entries.slice(i, i + CHUNK)
          const res = await mf.dispatchFetch('http://kv.local/', { method: 'POST', body: JSON.stringify(chunk) })
          if (!res.ok || (await res.text()) !== String(chunk.length))
            throw new Error(`local KV put failed (${res.status})`)
          progress?.(i + chunk.length)
        }
      },
      get: (key) => namespace.get(key, 'text'),
    })
  } finally {
    await mf.dispose()
  }
}
