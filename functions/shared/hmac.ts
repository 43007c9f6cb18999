/**
 * HMAC-SHA256 under a secret, for the keyed user hash (kv-keys.ts) and signed user tokens
 * (user-token.ts): one imported key per secret per isolate, not one per call.
 */
const encoder = new TextEncoder()
const keys = new Map<string, Promise<CryptoKey>>()

function hmacKey(secret: string): Promise<CryptoKey> {
  let k = keys.get(secret)
  if (!k) {
    k = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ])
    keys.set(secret, k)
  }
  return k
}

export async function hmacSign(secret: string, text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(text)))
}

/** Constant-time check of `mac` over `text` (crypto.subtle.verify). */
export async function hmacVerify(secret: string, mac: Uint8Array, text: string): Promise<boolean> {
  return crypto.subtle.verify('HMAC', await hmacKey(secret), mac as Uint8Array<ArrayBuffer>, encoder.encode(text))
}
