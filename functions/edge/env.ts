import type { TimingVariables } from 'hono/timing'
import type { LogVariables } from '../http/request-log.ts'
import type { RerankVariables } from '../http/rerank-input.ts'
import type { Bindings } from './config.ts'
import type { HeadBackends } from './parts.ts'

/** The edge app's Hono environment: wrangler bindings, and what middleware leaves for handlers. */
export type EdgeEnv = {
  Bindings: Bindings
  Variables: LogVariables & TimingVariables & RerankVariables & { heads: HeadBackends }
}
