/**
 * Proof that a storefront issued a request naming `user.id`: a short-lived token its server signs
 * with the secret it shares with the edge (USER_TOKEN_SECRET), sent as `X-User-Token`. A browser can
 * be anyone; without valid proof a user id buys no personalization (its history stays unread).
 *
 *   token = "v1." + base64url(user id) + "." + expiry (epoch s) + "." + base64url(HMAC-SHA256(secret, the part before))
 *
 * The edge checks the signature (crypto.subtle.verify, constant time), the expiry and that the
 * token names the request's user.
 */
import { hmacSign, hmacVerify } from './hmac.ts'

const VERSION = 'v1'
const encoder = new TextEncoder()
/** Rejects malformed UTF-8 instead of replacing it. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
const fromB64url = (text: string) =>
  Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))

/**
 * Signs a token for `userId`, valid for `ttlSeconds` (default 300): the one call a storefront's
 * server makes per page.
 *
 * @example
 * const token = await signUserToken(process.env.USER_TOKEN_SECRET!, 'u00042')
 * // the page sends it: fetch(edge + '/v1/rerank', { headers: { 'X-User-Token': token }, … })
 */
export async function signUserToken(
  secret: string,
  userId: string,
  { ttlSeconds = 300, now = Date.now() }: { ttlSeconds?: number; now?: number } = {},
): Promise<string> {
  const body = `${VERSION}.${b64url(encoder.encode(userId))}.${Math.floor(now / 1000) + ttlSeconds}`
  const mac = await hmacSign(secret, body)
  return `${body}.${b64url(mac)}`
}

export type UserTokenCheck = 'valid' | 'missing' | 'malformed' | 'bad_signature' | 'expired' | 'other_user'

/** Whether `token` proves `userId` now. */
export async function checkUserToken(
  secret: string,
  token: string | undefined,
  userId: string,
  now = Date.now(),
): Promise<UserTokenCheck> {
  if (!token) return 'missing'
  const parts = token.split('.')
  if (parts.length !== 4 || parts[0] !== VERSION || !/^\d{1,12}$/.test(parts[2])) return 'malformed'
  let mac: Uint8Array
  let named: string
  try {
    mac = fromB64url(parts[3])
    named = strictUtf8.decode(fromB64url(parts[1]))
  } catch {
    return 'malformed'
  }
  const body = parts.slice(0, 3).join('.')
  if (!(await hmacVerify(secret, mac, body))) return 'bad_signature'
  if (Number(parts[2]) * 1000 <= now) return 'expired'
  return named === userId ? 'valid' : 'other_user'
}
