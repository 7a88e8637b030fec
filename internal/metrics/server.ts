// The metrics listener (admin.metricsAddress), node:http only:
//   GET /metrics  Prometheus text exposition (one fresh snapshot of the mode's status)
//   GET /healthz  200 "ok" while the process runs
//   GET /readyz   200 "ok" when the mode reports ready, else 503 and a one-line reason
//   GET /, /events, /dashboard.js, /dashboard.css, /favicon.svg: the live dashboard
//                 (internal/dashboard), when the options carry `dashboard`
// Anything else (another path or method) is 404. HEAD is answered like GET, without a body.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { parseHostPort } from '../config/schema.ts'
import { errnoOf } from '../base/index.ts'
import { PorterError } from '../errors/index.ts'
import type { Readiness } from './collect.ts'
import type { Clock } from '../base/index.ts'
import { DashboardFeed, dashboardRoute, serveEvents } from '../dashboard/index.ts'

/** The metrics listener could not bind. `errno` is Node's code ("EADDRINUSE"), `address` the configured value. */
export class MetricsListenError extends PorterError {
  readonly errno: string | undefined
  readonly address: string
  constructor(address: string, errno: string | undefined, cause?: unknown) {
    const hint = errno === 'EADDRINUSE' ? ': another process (another porter?) is using this port; stop it or set admin.metricsAddress to a free port'
      : errno === 'EADDRNOTAVAIL' ? ': the address is not on this host; fix admin.metricsAddress (e.g. "127.0.0.1:9477")'
      : errno === 'EACCES' ? ': binding a port below 1024 needs root or CAP_NET_BIND_SERVICE; use a port above 1023'
      : ''
    super('PORTER_ERR_METRICS_LISTEN', `Cannot listen for metrics on admin.metricsAddress ${JSON.stringify(address)}: ${errno ?? (cause as Error | undefined)?.message ?? 'unknown error'}${hint}`, { cause })
    this.name = 'MetricsListenError'
    this.errno = errno
    this.address = address
  }
}

export interface MetricsServerOptions {
  /** admin.metricsAddress, "IP:PORT" or "[IPv6]:PORT" (validated by the config schema) */
  address: string
  /** the exposition text and its content type */
  exposition: { contentType: string; metrics(): Promise<string> }
  ready: () => Readiness
  log: Logger
  /** serve the live dashboard from this status (the status contract, internal/admin/status.ts) */
  dashboard?: { status: () => object; clock?: Clock; intervalMs?: number }
}

export interface MetricsServer {
  /** the address as configured */
  readonly address: string
  /** the port actually bound (differs from the configured one only for port 0 in tests) */
  readonly port: number
  close(): Promise<void>
}

function reply(res: ServerResponse, head: boolean, status: number, body: string, contentType = 'text/plain; charset=utf-8', headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' })
  res.end(head ? undefined : body)
}

export async function startMetricsServer(o: MetricsServerOptions): Promise<MetricsServer> {
  const hp = parseHostPort(o.address)
  if ('error' in hp) throw new MetricsListenError(o.address, undefined, new Error(hp.error))
  return listenMetrics(o, hp.host, hp.port)
}

/** startMetricsServer on `host` and `port` as given; tests pass port 0 (a free port, see `.port`). */
export async function listenMetrics(o: MetricsServerOptions, host: string, port: number): Promise<MetricsServer> {
  const readiness = (): Readiness => {
    try {
      return o.ready()
    } catch (e) {
      return { ready: false, reason: `readiness could not be read: ${(e as Error).message}` }
    }
  }
  const feed = o.dashboard ? new DashboardFeed({ status: o.dashboard.status, ready: readiness, clock: o.dashboard.clock, intervalMs: o.dashboard.intervalMs, log: o.log }) : undefined
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const head = req.method === 'HEAD'
    const path = (req.url ?? '/').split('?')[0]!
    if (req.method !== 'GET' && !head) return reply(res, head, 404, 'not found\n')
    const page = feed && dashboardRoute(path, req.headers.host)
    if (page?.kind === 'events') return serveEvents(req, res, { feed: feed!, headers: page.headers, head })
    if (page) return reply(res, head, page.status, page.body, page.contentType, page.headers)
    switch (path) {
      case '/metrics': {
        let text: string
        try {
          text = await o.exposition.metrics()
        } catch (e) {
          o.log.error({ error: { message: (e as Error).message } }, 'metrics: collecting failed')
          return reply(res, head, 500, `collecting metrics failed: ${(e as Error).message}\n`)
        }
        return reply(res, head, 200, text, o.exposition.contentType)
      }
      case '/healthz':
        return reply(res, head, 200, 'ok\n')
      case '/readyz': {
        const r = readiness()
        return reply(res, head, r.ready ? 200 : 503, `${r.ready ? 'ok' : r.reason.replace(/\s*\n\s*/g, ' ')}\n`)
      }
      default:
        return reply(res, head, 404, 'not found\n')
    }
  }
  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      o.log.error({ error: { message: (e as Error).message } }, 'metrics: request failed')
      if (!res.headersSent) reply(res, false, 500, 'internal error\n')
      else res.destroy()
    })
  })
  server.requestTimeout = 10_000
  server.headersTimeout = 5_000
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new MetricsListenError(o.address, errnoOf(e), e)))
    server.listen({ host, port, exclusive: true }, () => {
      server.removeAllListeners('error')
      server.on('error', (e) => o.log.error({ error: { message: e.message } }, 'metrics listener error'))
      resolve()
    })
  })
  feed?.start()
  const bound = server.address()
  return {
    address: o.address,
    port: bound && typeof bound === 'object' ? bound.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        feed?.stop()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
