/**
 * A re-rank request as the edge resolved it, once, before anything acts on it: what was asked
 * (the validated request: normalized query, candidates in the storefront's order with their
 * retrieval scores), whose history it reads, who asked and how that is proven, the keyed user, and
 * the answer cache's key. Every later step reads this; none re-derives it. It is also what an
 * impression log records beside the answer.
 */
import { historyKeyOf, userHash } from '../shared/kv-keys.ts'
import { historySource, type HistorySource, type RerankRequest } from '../shared/rerank-api.ts'
import { checkUserToken, type UserTokenCheck } from '../shared/user-token.ts'
import type { EdgeConfig } from './config.ts'

/** What proves a request's user id: a checked X-User-Token, or `trusted` (TRUST_USER_IDS=1). */
export type UserProof = UserTokenCheck | 'trusted'

/** A proven user, keyed under USER_KEY_SECRET: the only form of a user id past this point. */
export interface KeyedUser {
  /** HMAC of the user id (kv-keys.ts `userHash`). */
  hash: string
  /** Which USER_KEY_SECRET keyed it. */
  version: string
  /** Where their stored history lives in KV. */
  historyKey: string
}

/** Who asked: nobody in particular, a caller-given history, or a user id (with its stored history). */
export type Asker = 'anonymous' | 'history' | 'user_id'

export interface ResolvedRequest {
  /** The validated request. */
  request: RerankRequest
  /** Where the history comes from: given (its newest HISTORY_LIMIT items), a user id, or nowhere. */
  history: HistorySource
  asker: Asker
  /** Present only when the request names a user id to look up (no given history). */
  proof?: UserProof
  /** The user id is proven (a valid token, or trusted). */
  proven: boolean
  /** Present when proven and the edge holds USER_KEY_SECRET. */
  user?: KeyedUser
  /** The answer cache's key; absent when there is no cache to ask, or the user is unproven. */
  cacheKey?: string
}

export interface ResolveOptions {
  config: EdgeConfig
  /** The request's `X-User-Token` header. */
  userToken: string | undefined
  /** The answer cache's key for the rest of the resolution (answer-cache.ts `AnswerCache.keyFor`). */
  cacheKey: (resolved: Omit<ResolvedRequest, 'cacheKey'>) => Promise<string | undefined>
}

/**
 * Resolves a validated request.
 *
 * @example
 * const resolved = await resolveRequest(req, { config, userToken: c.req.header('X-User-Token'), cacheKey: (r) => cache.keyFor(r) })
 */
export async function resolveRequest(
  request: RerankRequest,
  { config, userToken, cacheKey }: ResolveOptions,
): Promise<ResolvedRequest> {
  const history = historySource(request, config.HISTORY_LIMIT)
  const asker: Asker = history === null ? 'anonymous' : 'given' in history ? 'history' : 'user_id'
  const userId = history !== null && 'userId' in history ? history.userId : undefined
  const { proof, proven, user } = await resolveUser(config, userId, userToken)
  const resolved: ResolvedRequest = { request, history, asker, proof, proven, user }
  resolved.cacheKey = await cacheKey(resolved)
  return resolved
}

/** A user id's proof and, when proven, its keyed form: the one rule for /v1/rerank and /v1/events. */
export async function resolveUser(
  config: EdgeConfig,
  userId: string | undefined,
  token: string | undefined,
): Promise<{ proof?: UserProof; proven: boolean; user?: KeyedUser }> {
  if (userId === undefined) return { proven: false }
  const proof = await proveUser(config, userId, token)
  const proven = proof === 'valid' || proof === 'trusted'
  return { proof, proven, user: proven ? await keyUser(config, userId) : undefined }
}

async function proveUser(config: EdgeConfig, userId: string, token: string | undefined): Promise<UserProof> {
  if (config.TRUST_USER_IDS) return 'trusted'
  if (!config.USER_TOKEN_SECRET) return 'missing'
  return checkUserToken(config.USER_TOKEN_SECRET, token, userId)
}

async function keyUser(config: EdgeConfig, userId: string): Promise<KeyedUser | undefined> {
  if (!config.USER_KEY_SECRET) return undefined
  const hash = await userHash({ secret: config.USER_KEY_SECRET, version: config.USER_KEY_VERSION }, userId)
  return { hash, version: config.USER_KEY_VERSION, historyKey: historyKeyOf(config.USER_KEY_VERSION, hash) }
}
