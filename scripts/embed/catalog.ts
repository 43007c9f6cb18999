/**
 * A catalog as `npm run embed` reads it (docs/catalog.md), checked line by line before anything is
 * embedded: a bad line stops the run with a message naming the file and the line.
 *
 *   items.jsonl    one item per line: {"id": "…", "price": 12.5, …anything else, ignored}
 *   text.npy       float32 [items, d_text]: the site's text encoder's vector of each item, in line order
 *   image.npy      float32 [items, d_image]: its image encoder's
 *   queries.jsonl  optional: one {"text": "…"} per line, the queries to precompute
 *   query.npy      float32 [queries, d_query]: their text vectors, in line order
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ITEM_ID } from '../../functions/shared/rerank-api.ts'
import { readNpy } from '../../functions/release/npy.ts'

export class CatalogError extends Error {
  override name = 'CatalogError'
}

export interface Catalog {
  ids: string[]
  prices: Float32Array
  text: Float32Array
  image: Float32Array
  queries: string[]
  query: Float32Array
}

/** The widths the release's towers take (models/manifest.json). */
export interface CatalogWidths {
  text: number
  image: number
  query: number
}

function jsonLines(file: string): { line: number; value: Record<string, unknown> }[] {
  const lines = readFileSync(file, 'utf8').split('\n')
  const out: { line: number; value: Record<string, unknown> }[] = []
  lines.forEach((text, i) => {
    if (text.trim() === '') return
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (e) {
      throw new CatalogError(`${file}:${i + 1}: not JSON (${e instanceof Error ? e.message : String(e)})`)
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new CatalogError(`${file}:${i + 1}: not a JSON object`)
    out.push({ line: i + 1, value: value as Record<string, unknown> })
  })
  return out
}

/** How to turn numpy's default float64 (or any other dtype) into what embed reads. */
const FLOAT32_HELP = 'embed reads float32 .npy files: in numpy, np.save(path, array.astype(np.float32))'

/** A float32 [rows, width] array, every value finite; `what(row)` names a row's line. */
function matrix(file: string, rows: number, width: number, what: (row: number) => string): Float32Array {
  if (!existsSync(file)) throw new CatalogError(`${file}: missing`)
  let a: ReturnType<typeof readNpy>
  try {
    a = readNpy(file)
  } catch (e) {
    throw new CatalogError(`${file}: ${e instanceof Error ? e.message : String(e)}; ${FLOAT32_HELP}`)
  }
  if (a.dtype !== 'float32') throw new CatalogError(`${file}: dtype ${a.dtype}, expected float32; ${FLOAT32_HELP}`)
  if (a.shape.length !== 2 || a.shape[1] !== width)
    throw new CatalogError(
      `${file}: shape [${a.shape}], expected [${rows}, ${width}] (the release's towers read ${width})`,
    )
  if (a.shape[0] !== rows) throw new CatalogError(`${file}: ${a.shape[0]} rows for ${rows} lines`)
  const data = a.data as Float32Array
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i]))
      throw new CatalogError(`${file}: row ${Math.floor(i / width)} (${what(Math.floor(i / width))}) holds ${data[i]}`)
  return data
}

export function readCatalog(dir: string, widths: CatalogWidths): Catalog {
  const itemsFile = join(dir, 'items.jsonl')
  if (!existsSync(itemsFile)) throw new CatalogError(`${itemsFile}: missing`)
  const lines = jsonLines(itemsFile)
  const ids: string[] = []
  const prices = new Float32Array(lines.length)
  const seen = new Map<string, number>()
  lines.forEach(({ line, value }, i) => {
    const at = `${itemsFile}:${line}`
    const { id, price } = value
    if (typeof id !== 'string') throw new CatalogError(`${at}: no "id" (a string)`)
    if (!ITEM_ID.test(id)) throw new CatalogError(`${at}: id "${id}" is not 1–64 characters of A–Z a–z 0–9 . _ : -`)
    if (seen.has(id)) throw new CatalogError(`${at}: duplicate id "${id}" (first on line ${seen.get(id)})`)
    if (typeof price !== 'number' || !(price > 0) || !Number.isFinite(price))
      throw new CatalogError(`${at}: price ${JSON.stringify(price)} is not a positive number`)
    seen.set(id, line)
    ids.push(id)
    prices[i] = price
  })
  if (!ids.length) throw new CatalogError(`${itemsFile}: no items`)
  const itemLine = (row: number) => `${itemsFile}:${lines[row].line}, id ${ids[row]}`
  const text = matrix(join(dir, 'text.npy'), ids.length, widths.text, itemLine)
  const image = matrix(join(dir, 'image.npy'), ids.length, widths.image, itemLine)

  const queriesFile = join(dir, 'queries.jsonl')
  const queryLines = existsSync(queriesFile) ? jsonLines(queriesFile) : []
  const queries = queryLines.map(({ line, value }) => {
    if (typeof value.text !== 'string' || value.text.trim() === '')
      throw new CatalogError(`${queriesFile}:${line}: no "text" (a non-empty string)`)
    return value.text
  })
  const query = queries.length
    ? matrix(join(dir, 'query.npy'), queries.length, widths.query, (row) => `${queriesFile}:${queryLines[row].line}`)
    : new Float32Array(0)
  return { ids, prices, text, image, queries, query }
}
