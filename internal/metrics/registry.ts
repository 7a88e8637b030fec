// The process's prom-client Registry: prom-client's default process and Node.js metrics
// (porter_process_*, porter_nodejs_*) and one metric per row of FAMILIES, filled at scrape time
// from the running mode's status. One Registry per process, created by the daemon and injected;
// prom-client's global registry is never used. This module is loaded only by the daemon modes
// (internal/daemon/run.ts imports internal/metrics dynamically): `porter version` stays light.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import { FAMILIES, collect, type FamilyName, type Mode, type Readiness } from './collect.ts'

export const PREFIX = 'porter_'

export interface PorterRegistryOptions {
  mode: Mode
  /** the running mode's status, read once per scrape */
  status: () => object
  /** what /readyz answers for this status (default: the mode's readiness from it) */
  ready?: (status: object) => Readiness
  /** wall-clock milliseconds (default Date.now) */
  now?: () => number
  /** prom-client's default process and Node.js metrics (default true; tests may turn them off) */
  defaultMetrics?: boolean
}

export interface PorterRegistry {
  readonly registry: Registry
  readonly contentType: string
  /** Prometheus text exposition of one fresh snapshot */
  metrics(): Promise<string>
}

export function createPorterRegistry(o: PorterRegistryOptions): PorterRegistry {
  const registry = new Registry()
  if (o.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: PREFIX })
  const now = o.now ?? Date.now
  // registers: []: a family is registered only while it has samples, so a section that is off
  // (no Kubernetes, no peers) shows no series rather than misleading zeros
  const metrics = new Map<FamilyName, Gauge | Counter>()
  for (const [name, def] of Object.entries(FAMILIES) as [FamilyName, (typeof FAMILIES)[FamilyName]][]) {
    const cfg = { name, help: def.help, labelNames: [...def.labelNames], registers: [] }
    metrics.set(name, def.type === 'counter' ? new Counter(cfg) : new Gauge(cfg))
  }

  // one snapshot at a time: two concurrent scrapes never interleave a fill and a read
  let queue: Promise<unknown> = Promise.resolve()
  const scrape = async (): Promise<string> => {
    const status = o.status()
    const samples = collect(o.mode, status, now(), o.ready?.(status))
    for (const [name, m] of metrics) {
      const list = samples[name] ?? []
      const registered = registry.getSingleMetric(name) !== undefined
      if (list.length === 0) {
        if (registered) registry.removeSingleMetric(name)
        continue
      }
      m.reset()
      for (const s of list) {
        if (m instanceof Counter) m.inc(s.labels, Math.max(0, s.value)) // a counter never goes below 0
        else m.set(s.labels, s.value)
      }
      if (!registered) registry.registerMetric(m)
    }
    return registry.metrics()
  }

  return {
    registry,
    contentType: registry.contentType,
    metrics() {
      const r = queue.then(scrape)
      queue = r.catch(() => undefined)
      return r
    },
  }
}
