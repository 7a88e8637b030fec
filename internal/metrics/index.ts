// Prometheus metrics for a running mode: a per-process prom-client Registry filled at scrape time
// from `service.status()`, served on admin.metricsAddress (/metrics, /healthz, /readyz), and the
// live dashboard (/, internal/dashboard) on the same listener.
// Import this module dynamically (internal/daemon/run.ts does): it loads prom-client.
import type { Logger } from 'pino'
import { readiness, type Mode, type Readiness } from './collect.ts'
import { createPorterRegistry, type PorterRegistry } from './registry.ts'
import { startMetricsServer, type MetricsServer } from './server.ts'

export { collect, readiness, FAMILIES, BGP_STATES, type Mode, type Readiness, type Samples, type Sample } from './collect.ts'
export { createPorterRegistry, PREFIX, type PorterRegistry, type PorterRegistryOptions } from './registry.ts'
export { startMetricsServer, listenMetrics, MetricsListenError, type MetricsServer, type MetricsServerOptions } from './server.ts'

/** Where the daemon is: only a running mode can be ready. */
export type Phase = 'starting' | 'running' | 'stopping'

export interface MetricsOptions {
  mode: Mode
  /** admin.metricsAddress */
  address: string
  status: () => object
  phase: () => Phase
  log: Logger
}

export interface Metrics extends MetricsServer {
  readonly registry: PorterRegistry
}

/** The daemon's readiness: its phase first, then the mode's own rule over its status. */
export function daemonReadiness(mode: Mode, phase: Phase, status: () => object): Readiness {
  if (phase === 'starting') return { ready: false, reason: `the ${mode} is starting` }
  if (phase === 'stopping') return { ready: false, reason: `the ${mode} is shutting down` }
  return readiness(mode, status())
}

/** Create this process's Registry and serve it. Throws MetricsListenError (PORTER_ERR_METRICS_LISTEN) when the address cannot be bound. */
export async function startMetrics(o: MetricsOptions): Promise<Metrics> {
  const registry = createPorterRegistry({ mode: o.mode, status: o.status, ready: (st) => daemonReadiness(o.mode, o.phase(), () => st) })
  const server = await startMetricsServer({ address: o.address, exposition: registry, ready: () => daemonReadiness(o.mode, o.phase(), o.status), log: o.log, dashboard: { status: o.status } })
  return { registry, address: server.address, port: server.port, close: () => server.close() }
}
