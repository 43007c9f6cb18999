/**
 * Where `logs:pull` reads the event log from: wrangler's local R2 (what `npm start` writes, through
 * Miniflare's API) or the deployed bucket (R2's S3 API, signed with aws4fetch).
 */
import { join } from 'node:path'
import { AwsClient } from 'aws4fetch'
import { XMLParser } from 'fast-xml-parser'
import { convertV4MiniflareOptions, Miniflare } from 'miniflare'

export interface LoggedObject {
  key: string
  size: number
  etag: string
  /** When R2 stored it. */
  uploaded: Date
}

export interface LogSource {
  /** Every object under `prefix`, in key order. */
  list(prefix: string): AsyncIterable<LoggedObject>
  get(key: string): Promise<Uint8Array>
  close(): Promise<void>
}

/** wrangler's local R2 bucket `bucket` under `persistTo` (wrangler dev's default: .wrangler/state). */
export async function localLogSource(bucket: string, persistTo: string): Promise<LogSource> {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      script: 'export default { fetch: () => new Response(null, { status: 404 }) }',
      resourcePersistencePath: join(persistTo, 'v3'),
      r2Buckets: { LOG: bucket },
    }),
  )
  const r2 = await mf.getR2Bucket('LOG')
  return {
    async *list(prefix) {
      let cursor: string | undefined
      do {
        const page = await r2.list({ prefix, cursor })
        for (const o of page.objects) yield { key: o.key, size: o.size, etag: o.etag, uploaded: new Date(o.uploaded) }
        cursor = page.truncated ? page.cursor : undefined
      } while (cursor)
    },
    async get(key) {
      const o = await r2.get(key)
      if (!o) throw new Error(`local R2: ${key} is listed but cannot be read`)
      return new Uint8Array(await o.arrayBuffer())
    },
    close: () => mf.dispose(),
  }
}

/** R2's S3 API credentials (an R2 API token's access key pair, and the account id). */
export interface S3Credentials {
  accountId: string
  accessKeyId: string
  secretAccessKey: string
}

/** The deployed bucket through R2's S3 API: ListObjectsV2 and GetObject. */
export function remoteLogSource(bucket: string, creds: S3Credentials): LogSource {
  const aws = new AwsClient({
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    service: 's3',
    region: 'auto',
  })
  const base = `https://${creds.accountId}.r2.cloudflarestorage.com/${bucket}`
  const xml = new XMLParser({ isArray: (name) => name === 'Contents' })
  const call = async (url: string) => {
    const res = await aws.fetch(url)
    if (!res.ok) throw new Error(`R2 S3 API: ${res.status} for ${url}: ${(await res.text()).slice(0, 300)}`)
    return res
  }
  return {
    async *list(prefix) {
      let token: string | undefined
      do {
        const q = new URLSearchParams({ 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) })
        const page = xml.parse(await (await call(`${base}?${q}`)).text()).ListBucketResult
        for (const c of page.Contents ?? [])
          yield {
            key: String(c.Key),
            size: Number(c.Size),
            etag: String(c.ETag).replaceAll('"', ''),
            uploaded: new Date(String(c.LastModified)),
          }
        token = page.IsTruncated === true || page.IsTruncated === 'true' ? page.NextContinuationToken : undefined
      } while (token)
    },
    async get(key) {
      return new Uint8Array(
        await (await call(`${base}/${key.split('/').map(encodeURIComponent).join('/')}`)).arrayBuffer(),
      )
    },
    close: async () => {},
  }
}
