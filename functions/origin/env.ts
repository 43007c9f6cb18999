import type { TimingVariables } from 'hono/timing'
import type { LogVariables } from '../http/request-log.ts'
import type { RerankVariables } from '../http/rerank-input.ts'

/** The origin app's Hono environment (no bindings: its parts are built once, at start). */
export type OriginEnv = { Variables: LogVariables & TimingVariables & RerankVariables }
