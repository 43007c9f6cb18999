/** SHA-256 through Web Crypto (workerd and Node alike), as lower-case hex. */

const encoder = new TextEncoder()

/** Bytes as lower-case hex. */
export const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(text))
  return hex(new Uint8Array(digest))
}
