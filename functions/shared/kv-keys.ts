/**
 * The KV key layout, shared by the edge (reads) and the seeding scripts (writes).
 *
 * - `<kv_prefix>i/<item id>`            item record: vector + catalog price (embedding codec text)
 * - `<kv_prefix>q/<sha256(query)>`      query vector, by normalized query text
 * - `<kv_prefix>meta`                   JSON: what was uploaded under this prefix (written last)
 * - `hist/<sha256("user:" + user id)>`  JSON array of recent item ids, newest first
 *
 * Vectors live under the embedding version's prefix, so a new release's vectors can be uploaded
 * before the worker that reads them ships. Histories are item ids, independent of the model.
 * User ids are hashed: no user id appears in a key in clear.
 */

/** Lower-case, trimmed, inner whitespace collapsed: "  Red  Dress" and "red dress" are one query. */
export function normalizeQuery(text: string): string {
  return text.normalize('NFKC').trim().toLowerCase().replace(/\s+/g, ' ')
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}

export const itemKey = (prefix: string, id: string) => `${prefix}i/${id}`
export const queryKey = async (prefix: string, text: string) => `${prefix}q/${await sha256Hex(normalizeQuery(text))}`
export const metaKey = (prefix: string) => `${prefix}meta`
/** The user's key is also the only form of the user id that may appear in logs. */
export const userHash = async (userId: string) => (await sha256Hex(`user:${userId}`)).slice(0, 32)
export const historyKey = async (userId: string) => `hist/${await userHash(userId)}`
