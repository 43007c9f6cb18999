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

/**
 * The order when no model scored a list, on the edge and the origin alike: by retrieval score when
 * every candidate has one (ties keep the given order: the sort is stable), else as given.
 */
export function retrievalOrder(candidates: { id: string; score?: number }[]): { id: string; score: number | null }[] {
  const ranked = candidates.every((c) => c.score !== undefined)
    ? [...candidates].sort((a, b) => b.score! - a.score!)
    : candidates
  return ranked.map(({ id, score }) => ({ id, score: score ?? null }))
}

/** An answer's items in the one ordering: scored ones by score (ties by id), then unscored ones by id. */
export function rankItems(items: { id: string; score: number | null }[]): { id: string; score: number | null }[] {
  const scored = items.filter((i): i is Scored => i.score !== null)
  const unscored = items.filter((i) => i.score === null).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return [...rankByScore(scored), ...unscored]
}
