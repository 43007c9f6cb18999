/**
 * The origin on Node: its app over @hono/node-server, listening at once (health answers while the
 * model loads), ready once the backend is attached, and a graceful stop that lets in-flight
 * requests finish while refusing new ones.
 */
import { serve, type ServerType } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { createOriginApp } from './app.ts'
import type { InferenceBackend } from './backend.ts'
import type { OriginService } from './service.ts'

export interface StartOptions {
  service: OriginService
  /** Loads the backend (the app serves health meanwhile). */
  backend: () => Promise<InferenceBackend>
  token?: string
  port?: number
  host?: string
  /** How long a stop waits for in-flight requests before closing their connections, ms. */
  drainMs?: number
  /** Where the request log's lines go. @default console.log */
  log?: (line: string) => void
}

export interface RunningOrigin {
  url: string
  service: OriginService
  server: ServerType
  /** Resolves when the backend is loaded (rejects when it cannot load). */
  loaded: Promise<void>
  /** Refuses new requests, finishes in-flight ones, closes the backend. */
  stop: () => Promise<void>
}

export async function startOrigin({
  service,
  backend,
  token,
  port = 8788,
  host = '127.0.0.1',
  drainMs = 10_000,
  log,
}: StartOptions): Promise<RunningOrigin> {
  const app = createOriginApp(service, { token, log })
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s))
    s.once('error', reject)
  })
  const { port: bound } = server.address() as AddressInfo
  const loaded = backend().then((b) => service.teacher.attach(b))
  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      service.draining = true
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      if ('closeIdleConnections' in server) server.closeIdleConnections()
      const timer = setTimeout(() => 'closeAllConnections' in server && server.closeAllConnections(), drainMs)
      await closed
      clearTimeout(timer)
      await loaded.catch(() => {}) // a backend that never loaded has nothing to close
      await service.teacher.close()
    })())
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`, service, server, loaded, stop }
}
