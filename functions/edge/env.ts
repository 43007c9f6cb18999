import type { RequestIdVariables } from 'hono/request-id'
import type { TimingVariables } from 'hono/timing'
import type { Bindings } from './config.ts'

/** The edge app's Hono environment: wrangler bindings, and what middleware leaves for handlers. */
export type EdgeEnv = {
  Bindings: Bindings
  Variables: RequestIdVariables &
    TimingVariables & {
      /** Epoch ms the request arrived: deadlines count from here. */
      arrivedAt: number
      /** Fields for the request's one structured log line. */
      log: Record<string, unknown>
    }
}
