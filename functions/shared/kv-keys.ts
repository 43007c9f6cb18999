/**
 * The KV key layout, shared by the edge (reads) and the seeding scripts (writes).
 *
 * - `<kv_prefix>i/<item id>`            item record: vector + catalog price (embedding codec text)
 * - `<kv_prefix>q/<sha256(query)>`      query vector, by normalized query text
 * - `<kv_prefix>meta`                   JSON: what was uploaded under this prefix (written last)
 * - `hist/<version>/<hmac(secret, "user:" + user id)>`  JSON array of recent item ids, newest first
 *
 * Vectors live under the embedding version's prefix, so a new release's vectors can be uploaded
 * before the worker that reads them ships. Histories are item ids, independent of the model.
 * User ids are keyed with HMAC-SHA256 under a secret the edge and kv:seed share (USER_KEY_SECRET):
 * no user id appears in a key in clear, and without the secret a key cannot be traced back to an id
 * (a plain hash of sequential ids can be). The version names the secret, so keys can be rotated:
 * upload under a new version with a new secret, then deploy the edge that reads it.
 */
import { hex, sha256Hex } from './digest.ts'
import { hmacSign } from './hmac.ts'
import { normalizeQuery } from './query-text.ts'

export const itemKey = (prefix: string, id: string) => `${prefix}i/${id}`
export const queryKey = async (prefix: string, text: string) => `${prefix}q/${await sha256Hex(normalizeQuery(text))}`
export const metaKey = (prefix: string) => `${prefix}meta`
/** The secret user ids are keyed with, and the version that names it. */
export interface UserKeySecret {
  secret: string
  version: string
}

/** HMAC-SHA256(secret, "user:" + id), hex, 32 characters: the only form of a user id that leaves a request. */
export async function userHash(key: UserKeySecret, userId: string): Promise<string> {
  const mac = await hmacSign(key.secret, `user:${userId}`)
  return hex(mac.subarray(0, 16))
}

/** HMAC-SHA256(secret, "session:" + id), hex, 32 characters: an anonymous visit, keyed for the event log. */
export async function sessionHash(key: UserKeySecret, sessionId: string): Promise<string> {
  const mac = await hmacSign(key.secret, `session:${sessionId}`)
  return hex(mac.subarray(0, 16))
}

/** Where a user's stored history lives, from their keyed hash. */
export const historyKeyOf = (version: string, hash: string) => `hist/${version}/${hash}`

export const historyKey = async (key: UserKeySecret, userId: string) =>
  historyKeyOf(key.version, await userHash(key, userId))

/** Names a secret without revealing it (upload markers carry it, so a stale upload is noticed). */
export const userKeyFingerprint = async (key: UserKeySecret) =>
  `${key.version}:${(await userHash(key, '\u0000')).slice(0, 12)}`
