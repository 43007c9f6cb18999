/**
 * The one ordering of scored items, shared by the edge, the fixtures' expected answers and any
 * client: score descending, ties by id. Ties are real (two variants with one embedding score the
 * same), and breaking them by id keeps an answer independent of the candidates' input order — which
 * the answer cache's key relies on.
 */
export interface Scored {
  id: string
  score: number
}

export function rankByScore<T extends Scored>(items: T[]): T[] {
  return [...items].sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}
