// The agent's Kubernetes source of desired VIPs: informers on core/v1 Services and
// discovery.k8s.io/v1 EndpointSlices (all namespaces); after every cache change (debounced) the
// announcer decides which LoadBalancer ingress IPs this node serves, and onChange gets the full
// set when it differs from the last one. Nothing is reported before both informers have
// listed once (an empty cache must not withdraw VIPs that are in fact still wanted).
import type { KubernetesObject } from '@kubernetes/client-node'
import type { Config } from '../config/index.ts'
import { realClock, type Clock } from '../base/index.ts'
import { decide, drainingVipsOf, groupSlices, vipsOf, type Decision, type Reason } from '../announce/index.ts'
import { apiClients, loadKubeConfig, type ApiClients } from './client.ts'
import { toEndpointSlice, toLbService } from './convert.ts'
import { ResilientInformer, type InformerLogger, type InformerStatus, type ListPage } from './informer.ts'
import { resolveNodeName } from './node.ts'

export interface SourceLogger extends InformerLogger { error(obj: object, msg?: string): void }

export interface KubernetesSourceOptions {
  config: Pick<Config['kubernetes'], 'enabled' | 'kubeconfig' | 'inCluster' | 'nodeName' | 'loadBalancerClass'>
  log: SourceLogger
  /** the full set of this node's Kubernetes VIPs, after each change */
  onChange(vips: string[]): void
  clock?: Clock
  env?: Readonly<Record<string, string | undefined>>
  hostname?: string
  /** merge bursts of informer events (default 50 ms) */
  debounceMs?: number
  /** list chunk size (default 500) */
  chunkSize?: number
  backoff?: { initialMs?: number; maxMs?: number }
  watchIdleTimeoutMs?: number
  /** replace the clients built from config (tests) */
  clients?: ApiClients
}

export interface KubernetesSourceStatus {
  server: string
  nodeName: string
  /** both informers' last requests succeeded */
  connected: boolean
  /** both informers listed at least once (VIPs are reported from then on) */
  synced: boolean
  lastError?: { at: string; resource: string; message: string; status?: number }
  /** Services of type LoadBalancer */
  services: number
  /** of those, announced from this node */
  announced: number
  /** not announced, by reason */
  reasons: Partial<Record<Reason, number>>
  endpointSlices: number
  vips: string[]
  /** ingress IPs that cannot be VIPs ("ns/name: why") */
  invalid: string[]
  informers: InformerStatus[]
}

export interface KubernetesVipSource {
  start(): void
  stop(): Promise<void>
  /** the current set; undefined until synced */
  vips(): string[] | undefined
  /** of those, the VIPs served only through serving-terminating endpoints (a rollout's leaving pods) */
  draining(): string[]
  /** resolves true once synced, false after timeoutMs */
  waitSynced(timeoutMs: number): Promise<boolean>
  status(): KubernetesSourceStatus
  readonly nodeName: string
}

export function createKubernetesVipSource(o: KubernetesSourceOptions): KubernetesVipSource {
  const clock = o.clock ?? realClock
  const log = o.log
  const debounceMs = o.debounceMs ?? 50
  const nodeName = resolveNodeName(o.config, o.env ?? {}, o.hostname ?? 'localhost')
  const clients = o.clients ?? apiClients(loadKubeConfig(o.config))
  const announceOpts = o.config.loadBalancerClass !== undefined ? { loadBalancerClass: o.config.loadBalancerClass } : {}

  let timer: unknown
  let last: string[] | undefined
  let lastDraining: string[] = []
  let decisions: Decision[] = []
  let running = false
  const syncWaiters = new Set<() => void>()

  const schedule = () => {
    if (!running || timer !== undefined) return
    timer = clock.setTimeout(() => { timer = undefined; recompute() }, debounceMs)
  }

  const common = { kubeConfig: clients.kubeConfig, clock, log, onChange: schedule, ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}), ...(o.backoff ? { backoff: o.backoff } : {}), ...(o.watchIdleTimeoutMs ? { watchIdleTimeoutMs: o.watchIdleTimeoutMs } : {}) }
  const services = new ResilientInformer<KubernetesObject>({
    ...common,
    name: 'services',
    path: '/api/v1/services',
    listPage: (limit, cont) => clients.core.listServiceForAllNamespaces({ limit, ...(cont ? { _continue: cont } : {}) }) as Promise<ListPage<KubernetesObject>>,
  })
  const slices = new ResilientInformer<KubernetesObject>({
    ...common,
    name: 'endpointslices',
    path: '/apis/discovery.k8s.io/v1/endpointslices',
    listPage: (limit, cont) => clients.discovery.listEndpointSliceForAllNamespaces({ limit, ...(cont ? { _continue: cont } : {}) }) as Promise<ListPage<KubernetesObject>>,
  })

  const synced = () => services.status().synced && slices.status().synced

  function recompute(): void {
    if (!running || !synced()) return
    const svcs = services.list().map(toLbService).filter((s) => s !== undefined)
    const sl = slices.list().map(toEndpointSlice).filter((s) => s !== undefined)
    decisions = decide(svcs, groupSlices(sl), nodeName, announceOpts)
    const vips = vipsOf(decisions)
    const draining = drainingVipsOf(decisions)
    const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i])
    if (last && same(last, vips) && same(lastDraining, draining)) return
    if (draining.length || lastDraining.length) log.info({ draining }, 'Kubernetes: VIPs this node serves only through terminating endpoints')
    lastDraining = draining
    const added = vips.filter((v) => !last?.includes(v))
    const removed = (last ?? []).filter((v) => !vips.includes(v))
    const invalid = decisions.flatMap((d) => d.invalid.map((i) => `${d.service}: ${i}`))
    if (invalid.length) log.warn({ invalid }, 'Kubernetes: ingress IPs that cannot be VIPs are left out')
    log.info({ vips: vips.length, added, removed, services: decisions.filter((d) => d.reason !== 'notLoadBalancer').length }, last ? 'Kubernetes: this node\'s VIPs changed' : 'Kubernetes: synced')
    last = vips
    try {
      o.onChange([...vips])
    } catch (e) {
      log.error({ error: (e as Error).message }, 'Kubernetes: applying the VIPs failed')
    }
    for (const w of [...syncWaiters]) w()
  }

  return {
    nodeName,
    start() {
      if (running) return
      running = true
      log.info({ server: clients.server, nodeName }, 'Kubernetes: watching Services and EndpointSlices')
      services.start()
      slices.start()
    },
    async stop() {
      running = false
      clock.clearTimeout(timer)
      timer = undefined
      for (const w of [...syncWaiters]) w()
      await Promise.all([services.stop(), slices.stop()])
    },
    vips: () => (last ? [...last] : undefined),
    draining: () => [...lastDraining],
    waitSynced(timeoutMs) {
      if (last) return Promise.resolve(true)
      return new Promise<boolean>((resolve) => {
        const done = () => { syncWaiters.delete(done); clock.clearTimeout(t); resolve(last !== undefined) }
        const t = clock.setTimeout(done, timeoutMs)
        syncWaiters.add(done)
      })
    },
    status() {
      const inf = [services.status(), slices.status()]
      const errs = inf.filter((i) => i.lastError).sort((a, b) => b.lastError!.at - a.lastError!.at)
      const lb = decisions.filter((d) => d.reason !== 'notLoadBalancer')
      const reasons: Partial<Record<Reason, number>> = {}
      for (const d of lb) if (d.reason) reasons[d.reason] = (reasons[d.reason] ?? 0) + 1
      const e = errs[0]
      return {
        server: clients.server,
        nodeName,
        connected: inf.every((i) => i.connected),
        synced: last !== undefined,
        ...(e ? { lastError: { at: new Date(e.lastError!.at).toISOString(), resource: e.name, message: e.lastError!.message, ...(e.lastError!.status !== undefined ? { status: e.lastError!.status } : {}) } } : {}),
        services: lb.length,
        announced: lb.filter((d) => d.reason === null).length,
        reasons,
        endpointSlices: inf[1]!.objects,
        vips: last ? [...last] : [],
        invalid: decisions.flatMap((d) => d.invalid.map((i) => `${d.service}: ${i}`)),
        informers: inf,
      }
    },
  }
}
