/**
 * The one normal form of a query's text. The API schema applies it, and with it the answer
 * cache's key, the KV query key and the origin's catalog lookup all agree on what "one query" is.
 */

/** Lower-case, trimmed, inner whitespace collapsed: "  Red  Dress" and "red dress" are one query. */
export function normalizeQuery(text: string): string {
  return text.normalize('NFKC').trim().toLowerCase().replace(/\s+/g, ' ')
}
