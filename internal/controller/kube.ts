// The Kubernetes side of controller mode (I/O around the pure plan.ts):
//   informers on Services, EndpointSlices, Nodes, Namespaces and the CRDs (Eip, BgpConf,
//   BgpPeer) only schedule a pass; a pass reads the caches and
//     - on every replica: computes the advertisements from Service statuses (onAdvertisements)
//       and the BGP settings from the CRDs (onBgp)
//     - on the leader (Lease): rebuilds the allocator from the statuses once, then allocates and
//       writes only differences: Service status (resourceVersion, retry on 409), finalizer,
//       Events, Eip / BgpPeer / BgpConf status
// Nothing is announced or allocated before every informer has listed once; when the API server
// goes away the caches stay and the last known state keeps being announced.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node'
import { randomBytes } from 'node:crypto'
import type { Clock, Logger } from '../base/index.ts'
import { backoffInit, backoffOnFailure, backoffOnSuccess, backoffPolicy, type BackoffState } from '../base/index.ts'
import { Allocator } from '../ipam/index.ts'
import { cordonPhases, drainAdvertisements, serviceKey, terminatingAdvertisements, terminatingPhases, type CordonPhases, type TerminatingPhases, type LbService, type NodeInfo, type OwnershipOptions } from '../announce/index.ts'
import type { Advertisement } from '../bgp/speaker.ts'
import { ResilientInformer } from '../k8s/informer.ts'
import { obj, arr, str, strMap, toEndpointSlice, toLbService, toNodeInfo } from '../k8s/convert.ts'
import { toBgpConfInfo, toBgpPeerInfo, toEipInfo, matchesSelector, BGPCONF_NAME, type BgpPeerInfo, type CrdBgp, type EipInfo, type FieldError } from '../k8s/crd.ts'
import { KubeRest, ApiError, JSON_PATCH, MERGE_PATCH } from '../k8s/rest.ts'
import { readPeerKey, KEY_REFRESH_MS } from '../k8s/peer-key.ts'
import { LeaderElector } from '../k8s/lease.ts'
import type { KubeControllerStatus } from '../admin/status.ts'
import { describeError } from '../k8s/errors.ts'
import {
  advertisementsOf, planAllocations, terminatingCandidates, poolsOf, rebuildAllocations, releaseGone, serviceRoutes, FINALIZER,
  type Condition, type PlannedEvent, type ServicePlan, type ServiceRoutes,
} from './plan.ts'

export type KubeLogger = Logger

export type { CrdBgp }

export interface PeerView { state: string; prefixesSent: number; establishedSince?: string; lastError?: string }

export interface KubeControllerOptions {
  kubeConfig: KubeConfig
  log: KubeLogger
  clock: Clock
  ownership: OwnershipOptions
  leaderElection: { enabled: boolean; namespace: string; name: string; identity: string; leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number }
  onAdvertisements(advs: Advertisement[]): void
  onBgp(bgp: CrdBgp): void
  /** the speaker's view of a BgpPeer's session, for its status */
  peerView(name: string): PeerView | undefined
  debounceMs?: number
  /** list page size (default 500, like client-go) */
  chunkSize?: number
  /** kubernetes.drainCordoned: a cordoned node's next hops are tagged GRACEFUL_SHUTDOWN for waitMs, then leave */
  drainCordoned?: { waitMs: number }
  /** kubernetes.drainTerminating: a node whose endpoints of a Service all terminate keeps its next hop for that VIP, tagged, for up to waitMs while they serve */
  drainTerminating?: { waitMs: number }
}


type Obj = KubernetesObject & Record<string, unknown>

/** a drain's state between passes: when each key was first seen, the last phases' key, the timer of the next wait's end */
interface Wait { since: ReadonlyMap<string, number>; key: string; timer: unknown }
const newWait = (): Wait => ({ since: new Map(), key: '', timer: undefined })

const WRITE_BACKOFF = backoffPolicy({ initialMs: 200, maxMs: 30_000 })
/** Eip / BgpPeer / BgpConf statuses are written at most this often */
const CR_STATUS_MS = 1000

/** fn(o), computed once per object */
function memo<T>(fn: (o: unknown) => T | undefined): (o: object) => T | undefined {
  const m = new WeakMap<object, T | undefined>()
  return (o) => {
    if (m.has(o)) return m.get(o)
    const v = fn(o)
    m.set(o, v)
    return v
  }
}

/**
 * What the controller never reads, dropped before caching (about half of a Service kept in
 * memory): managedFields and kubectl's last-applied copy of the whole object. Writes are merge
 * patches of the fields Porter owns, so nothing dropped here is ever written back.
 */
function trimObject(o: Obj): void {
  const m = o.metadata as Record<string, unknown> | undefined
  if (!m) return
  delete m.managedFields
  const a = m.annotations as Record<string, unknown> | undefined
  if (a) delete a['kubectl.kubernetes.io/last-applied-configuration']
}

const sameObjects = (a: readonly object[], b: readonly object[]) => a.length === b.length && a.every((x, i) => x === b[i])
const EVENT_NAMESPACE_FOR_CLUSTER_OBJECTS = 'default'

export class KubeController {
  readonly rest: KubeRest
  private readonly informers: Record<'services' | 'slices' | 'nodes' | 'namespaces' | 'eips' | 'bgpconfs' | 'bgppeers', ResilientInformer<Obj>>
  private alloc = new Allocator()
  private readonly elector: LeaderElector | undefined
  private timer: unknown
  private running = false
  private rebuilt = false
  private leading: boolean
  private inFlight = new Set<string>()
  private lastEvent = new Map<string, string>()
  private lastRoutes = new Map<string, string>()
  private lastBgp = ''
  private lastOutOfPool = new Set<string>()
  private crStatus = new Map<string, string>()
  private writeBackoff: BackoffState = backoffInit(WRITE_BACKOFF)
  private lastPass: KubeControllerStatus['lastPass']
  private staleSince: number | undefined
  private keyTimer: unknown
  private keys = new Map<string, Uint8Array>()
  private keyErrors = new Map<string, string>()
  // incremental passes: conversions memoised per object, next hops per Service, plans per object
  private readonly svcOf = memo(toLbService)
  private readonly sliceOf = memo(toEndpointSlice)
  private readonly nodeOf = memo(toNodeInfo)
  private readonly eipOf = memo(toEipInfo)
  private nodes = new Map<string, NodeInfo>()
  /** drainCordoned (per node) and drainTerminating (per "prefix next-hop") */
  private readonly cordonWait = newWait()
  private readonly termWait = newWait()
  private lastNodes: readonly object[] = []
  private lastGlobal: readonly object[] = []
  private routeCache = new Map<string, { svc: object; slices: readonly object[]; routes: ServiceRoutes | null }>()
  private planned = new Map<string, object>()
  private waiting = new Set<string>()
  private announcedOnce = false
  /** allocations or Eips changed since the Eip statuses were last written */
  private eipsDirty = true
  private crTimer: unknown

  constructor(private readonly o: KubeControllerOptions) {
    this.rest = new KubeRest(o.kubeConfig)
    const mk = (name: string, path: string) => new ResilientInformer<Obj>({
      name, path, kubeConfig: o.kubeConfig, clock: o.clock, log: o.log, onChange: () => this.schedule(),
      listPage: (limit, cont) => this.rest.listPage<Obj>(path, limit, cont),
      trim: trimObject,
      ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}),
    })
    const crd = '/apis/network.kubesphere.io/v1alpha2'
    this.informers = {
      services: mk('services', '/api/v1/services'),
      slices: mk('endpointslices', '/apis/discovery.k8s.io/v1/endpointslices'),
      nodes: mk('nodes', '/api/v1/nodes'),
      namespaces: mk('namespaces', '/api/v1/namespaces'),
      eips: mk('eips', `${crd}/eips`),
      bgpconfs: mk('bgpconfs', `${crd}/bgpconfs`),
      bgppeers: mk('bgppeers', `${crd}/bgppeers`),
    }
    const le = o.leaderElection
    this.leading = !le.enabled
    if (le.enabled) {
      this.elector = new LeaderElector({
        rest: this.rest, clock: o.clock, log: o.log, namespace: le.namespace, name: le.name, identity: le.identity,
        leaseDurationMs: le.leaseDurationMs, renewDeadlineMs: le.renewDeadlineMs, retryPeriodMs: le.retryPeriodMs,
        onStartedLeading: () => { this.alloc = new Allocator(); this.leading = true; this.rebuilt = false; this.eipsDirty = true; this.schedule() },
        onStoppedLeading: () => { this.leading = false },
      })
    }
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.o.log.info({ server: this.server }, 'Kubernetes: watching Services, EndpointSlices, Nodes, Namespaces, Eips, BgpConfs, BgpPeers')
    for (const i of Object.values(this.informers)) i.start()
    this.elector?.start()
    this.refreshKeysLater(KEY_REFRESH_MS)
  }

  async stop(): Promise<void> {
    this.running = false
    this.o.clock.clearTimeout(this.timer)
    this.o.clock.clearTimeout(this.keyTimer)
    this.o.clock.clearTimeout(this.crTimer)
    this.o.clock.clearTimeout(this.cordonWait.timer)
    this.o.clock.clearTimeout(this.termWait.timer)
    await this.elector?.stop()
    await Promise.all(Object.values(this.informers).map((i) => i.stop()))
    this.rest.close()
  }

  get server(): string { return this.o.kubeConfig.getCurrentCluster()?.server ?? '' }
  get isLeader(): boolean { return this.leading }

  synced(): boolean {
    return Object.values(this.informers).every((i) => i.status().synced)
  }

  /** Resolves once every informer listed (true) or after timeoutMs (false). */
  async waitSynced(timeoutMs: number): Promise<boolean> {
    const end = this.o.clock.now() + timeoutMs
    while (!this.synced() && this.o.clock.now() < end) await new Promise<void>((r) => { this.o.clock.setTimeout(r, 50) })
    return this.synced()
  }

  schedule(delayMs = this.o.debounceMs ?? 5): void {
    if (!this.running || this.timer !== undefined) return
    this.timer = this.o.clock.setTimeout(() => { this.timer = undefined; this.pass() }, delayMs)
  }

  // ---- the pass ------------------------------------------------------------------------------

  private pass(): void {
    if (!this.running || !this.synced()) return
    const t0 = this.o.clock.now()
    const inf = this.informers
    const connected = Object.values(inf).every((i) => i.status().connected)
    if (!connected) this.staleSince ??= this.o.clock.wallNow()
    else this.staleSince = undefined

    // the caches, converted once per object (an update replaces the object, never mutates it)
    const services = new Map<string, { raw: Obj; svc: LbService }>()
    for (const o of inf.services.list()) {
      const svc = this.svcOf(o)
      if (svc) services.set(serviceKey(svc), { raw: o, svc })
    }
    const slicesRaw = new Map<string, Obj[]>()
    for (const o of inf.slices.list()) {
      const sl = this.sliceOf(o)
      if (!sl?.serviceName) continue
      const k = serviceKey({ namespace: sl.namespace, name: sl.serviceName })
      const list = slicesRaw.get(k)
      if (list) list.push(o)
      else slicesRaw.set(k, [o])
    }
    const nodeObjs = inf.nodes.list()
    const nodesChanged = !sameObjects(nodeObjs, this.lastNodes)
    if (nodesChanged) {
      this.lastNodes = nodeObjs
      this.nodes = new Map()
      for (const o of nodeObjs) { const n = this.nodeOf(o); if (n) this.nodes.set(n.name, n) }
    }

    // every replica: next hops of the Services whose object, slices or nodes changed
    const changed: ServiceRoutes[] = []
    let routesChanged = false
    for (const [key, { raw, svc }] of services) {
      const sl = slicesRaw.get(key) ?? []
      const c = this.routeCache.get(key)
      if (!nodesChanged && c && c.svc === raw && sameObjects(c.slices, sl)) continue
      const routes = serviceRoutes(svc, sl.map((o) => this.sliceOf(o)!), this.nodes, this.o.ownership)
      this.routeCache.set(key, { svc: raw, slices: sl, routes })
      if (routes) changed.push(routes)
      if (routes || c?.routes) routesChanged = true
    }
    for (const [key, c] of this.routeCache) {
      if (services.has(key)) continue
      this.routeCache.delete(key)
      if (c.routes) routesChanged = true
    }
    const cordon = this.cordonPass()
    // every Service's routes: built when announcing, or every pass with drainTerminating (its waits end between changes)
    let routesNow: ServiceRoutes[] | undefined
    const term = this.o.drainTerminating ? this.terminatingPass((routesNow = this.routesNow())) : { changed: false }
    if (routesChanged || !this.announcedOnce || cordon.changed || term.changed) {
      this.announcedOnce = true
      let advs = advertisementsOf(routesNow ?? this.routesNow())
      if ('phases' in term && term.phases) advs = terminatingAdvertisements(advs, term.phases.draining)
      this.o.onAdvertisements(cordon.phases ? drainAdvertisements(advs, cordon.phases) : advs)
    }
    this.applyBgp(this.nodes)

    let writes = 0
    let errors = 0
    if (this.leading) {
      const nsObjs = inf.namespaces.list()
      const eipObjs = inf.eips.list()
      const globalObjs = [...eipObjs, ...nsObjs]
      const globalChanged = !sameObjects(globalObjs, this.lastGlobal)
      const eips = eipObjs.map((o) => this.eipOf(o)).filter((e) => e !== undefined)
      const nsLabels = new Map<string, Record<string, string>>()
      for (const o of nsObjs) { const m = obj(o.metadata); const n = str(m.name); if (n) nsLabels.set(n, strMap(m.labels)) }
      const all = [...services.values()].map((x) => x.svc)
      if (globalChanged || !this.rebuilt) {
        this.lastGlobal = globalObjs
        const { outOfPool } = this.alloc.setPools(poolsOf(eips))
        this.reportOutOfPool(outOfPool)
        this.planned.clear() // pools or namespaces changed: every Service is planned again
        this.eipsDirty = true
      }
      if (!this.rebuilt) {
        const conflicts = rebuildAllocations(this.alloc, { services: all, namespaceLabels: nsLabels, ownership: this.o.ownership }, eips)
        for (const c of conflicts) this.o.log.warn(c, 'Kubernetes: an IP in a Service status could not be taken back (held by another Service)')
        this.o.log.info({ services: services.size, allocations: this.alloc.keys().length, conflicts: conflicts.length }, 'Kubernetes: allocations rebuilt from Service statuses')
        this.rebuilt = true
      }
      if (services.size < this.planned.size || [...this.planned.keys()].some((k) => !services.has(k))) {
        if (releaseGone(this.alloc, (k) => services.has(k)).length) this.eipsDirty = true
        for (const k of [...this.planned.keys()]) if (!services.has(k)) this.planned.delete(k)
      }
      // Services whose object changed, and those still waiting for an IP (one may have been freed)
      const toPlan = [...services.values()].filter((x) => this.planned.get(serviceKey(x.svc)) !== x.raw || this.waiting.has(serviceKey(x.svc))).map((x) => x.svc)
      const plans = planAllocations(this.alloc, { services: toPlan, namespaceLabels: nsLabels, ownership: this.o.ownership })
      for (const svc of toPlan) {
        this.planned.set(serviceKey(svc), services.get(serviceKey(svc))!.raw)
        this.waiting.delete(serviceKey(svc))
      }
      for (const p of plans) if (p.conditions.some((c) => c.status === 'False')) this.waiting.add(p.key)
      if (plans.some((p) => p.ips !== undefined || p.events.length > 0)) this.eipsDirty = true
      for (const p of plans) {
        const raw = services.get(p.key)?.raw
        if (!raw) continue
        if (this.inFlight.has(p.key) || !this.needsWrite(p, raw)) continue
        writes++
        this.inFlight.add(p.key)
        this.applyPlan(p, raw).then(
          () => { this.writeBackoff = backoffOnSuccess(WRITE_BACKOFF, this.writeBackoff, this.o.clock.now()) },
          (e) => { errors++; this.planned.delete(p.key); this.onWriteError(p.key, e) },
        ).finally(() => { this.inFlight.delete(p.key); this.schedule() })
      }
      this.nextHopEvents(changed, services)
      this.scheduleCrStatuses()
    }
    this.lastPass = { at: new Date(this.o.clock.wallNow()).toISOString(), durationMs: Math.round((this.o.clock.now() - t0) * 10) / 10, writes, errors }
  }

  /** kubernetes.drainCordoned: where the cordoned nodes are; a pass runs again when the next one's wait ends */
  private cordonPass(): { phases?: CordonPhases; changed: boolean } {
    const d = this.o.drainCordoned
    if (!d) return { changed: false }
    const { phases, changed } = this.waitPass(this.cordonWait, (since, now) => cordonPhases(this.nodes, since, now, d.waitMs))
    if (changed) {
      const nodes = [...phases.since.keys()]
      this.o.log.info({ cordoned: nodes, draining: [...phases.draining], drained: [...phases.drained], waitMs: d.waitMs },
        nodes.length ? 'cordoned nodes: their next hops are announced with GRACEFUL_SHUTDOWN, then withdrawn after the wait (never a VIP\'s last)' : 'no cordoned node left')
    }
    return { phases, changed }
  }

  /**
   * kubernetes.drainTerminating: each VIP's next hops whose nodes' endpoints all terminate (and
   * are not its next hops through another Service), tagged within the wait; a pass runs again
   * when the next wait ends
   */
  private terminatingPass(routes: readonly ServiceRoutes[]): { phases?: TerminatingPhases; changed: boolean } {
    const d = this.o.drainTerminating!
    const candidates = terminatingCandidates(routes)
    const { phases, changed } = this.waitPass(this.termWait, (since, now) => terminatingPhases(candidates, since, now, d.waitMs))
    if (changed) {
      this.o.log.info({ draining: Object.fromEntries(phases.draining), waitMs: d.waitMs },
        phases.draining.size ? 'nodes whose endpoints terminate: their paths are announced with GRACEFUL_SHUTDOWN while they serve, at most the wait' : 'no node with only terminating endpoints is draining')
    }
    return { phases, changed }
  }

  /** phases from `w`'s first-seen times and now; a pass runs again when the next wait ends */
  private waitPass<P extends { since: Map<string, number>; nextAt?: number; key: string }>(w: Wait, compute: (since: ReadonlyMap<string, number>, now: number) => P): { phases: P; changed: boolean } {
    const now = this.o.clock.now()
    const phases = compute(w.since, now)
    w.since = phases.since
    this.o.clock.clearTimeout(w.timer)
    w.timer = phases.nextAt === undefined ? undefined : this.o.clock.setTimeout(() => { w.timer = undefined; this.schedule(0) }, phases.nextAt - now)
    const changed = phases.key !== w.key
    w.key = phases.key
    return { phases, changed }
  }

  private routesNow(): ServiceRoutes[] {
    const out: ServiceRoutes[] = []
    for (const c of this.routeCache.values()) if (c.routes) out.push(c.routes)
    return out
  }

  /** CR statuses (Eip usage, BgpPeer sessions) at most every CR_STATUS_MS, and periodically while leading. */
  private scheduleCrStatuses(): void {
    if (this.crTimer !== undefined || !this.running) return
    this.crTimer = this.o.clock.setTimeout(() => {
      this.crTimer = undefined
      if (!this.running || !this.leading) return
      const eips = this.informers.eips.list().map((o) => this.eipOf(o)).filter((e) => e !== undefined)
      const withEips = this.eipsDirty
      this.eipsDirty = false
      this.writeCrStatuses(eips, withEips)
      this.scheduleCrStatuses()
    }, CR_STATUS_MS)
  }

  private onWriteError(key: string, e: unknown): void {
    const d = describeError(e)
    if (d.status === 409) { this.o.log.debug({ service: key }, 'Kubernetes: write conflict (409), retrying with the newer object'); return }
    if (d.status === 404) return
    const r = backoffOnFailure(WRITE_BACKOFF, this.writeBackoff, this.o.clock.now())
    this.writeBackoff = r.state
    this.o.log.error({ service: key, error: d.message, retryInMs: r.delayMs }, 'Kubernetes: writing a Service failed; the last good state stays')
    this.o.clock.setTimeout(() => this.schedule(), r.delayMs)
  }

  private needsWrite(p: ServicePlan, raw: Obj): boolean {
    if (p.finalizer || p.ips !== undefined) return true
    if (p.events.some((e) => this.lastEvent.get(`${p.key}/${e.reason}`) !== e.message)) return true
    return !sameConditions(ourConditions(raw), p.conditions)
  }

  private async applyPlan(p: ServicePlan, raw: Obj): Promise<void> {
    const m = obj(raw.metadata)
    const [ns, name] = [str(m.namespace) ?? '', str(m.name) ?? '']
    const path = `/api/v1/namespaces/${ns}/services/${name}`
    let rv = str(m.resourceVersion) ?? ''
    const finalizers = arr(m.finalizers).filter((f): f is string => typeof f === 'string')
    const status = obj(raw.status)
    const curConds = arr(status.conditions).map(obj)
    const condsChanged = p.owned && !sameConditions(ourConditions(raw), p.conditions)
    if (p.ips !== undefined || condsChanged) {
      const now = new Date(this.o.clock.wallNow()).toISOString()
      const others = curConds.filter((c) => !String(c.type).startsWith('porter.kubesphere.io/'))
      const conds = p.conditions.map((c) => {
        const old = curConds.find((x) => x.type === c.type)
        return { ...c, lastTransitionTime: old && old.status === c.status ? (str(old.lastTransitionTime) ?? now) : now }
      })
      const body: Record<string, unknown> = { metadata: { resourceVersion: rv }, status: { conditions: [...others, ...conds] } }
      if (p.ips !== undefined) (body.status as Record<string, unknown>).loadBalancer = { ingress: p.ips.map((ip) => ({ ip, ipMode: 'VIP' })) }
      const r = await this.rest.call<Obj>('PATCH', `${path}/status`, body, MERGE_PATCH)
      rv = str(obj(r.metadata).resourceVersion) ?? rv
    }
    // the finalizer after the status: the IP reaches the routers one API round trip sooner; a
    // Service deleted in between loses its IP through releaseGone, as one deleted while we were away
    if (p.finalizer === 'add') {
      const r = await this.rest.call<Obj>('PATCH', path, { metadata: { resourceVersion: rv, finalizers: [...finalizers, FINALIZER] } }, MERGE_PATCH)
      rv = str(obj(r.metadata).resourceVersion) ?? rv
    }
    if (p.finalizer === 'remove') {
      await this.rest.call('PATCH', path, { metadata: { resourceVersion: rv, finalizers: finalizers.filter((f) => f !== FINALIZER) } }, MERGE_PATCH)
    }
    for (const e of p.events) await this.event(e, { kind: 'Service', apiVersion: 'v1', namespace: ns, name, uid: str(m.uid) }, `${p.key}/${e.reason}`)
  }

  /** Post an Event unless the same one (key/reason, message) was the last posted. */
  private async event(e: PlannedEvent, ref: { kind: string; apiVersion: string; namespace?: string; name: string; uid?: string }, dedupeKey: string): Promise<void> {
    if (this.lastEvent.get(dedupeKey) === e.message) return
    this.lastEvent.set(dedupeKey, e.message)
    const ns = ref.namespace || EVENT_NAMESPACE_FOR_CLUSTER_OBJECTS
    const now = new Date(this.o.clock.wallNow()).toISOString()
    try {
      await this.rest.call('POST', `/api/v1/namespaces/${ns}/events`, {
        apiVersion: 'v1', kind: 'Event',
        metadata: { name: `${ref.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
        involvedObject: { kind: ref.kind, apiVersion: ref.apiVersion, name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}), ...(ref.uid ? { uid: ref.uid } : {}) },
        reason: e.reason, message: e.message, type: e.type, source: { component: 'porter-controller' },
        firstTimestamp: now, lastTimestamp: now, count: 1, reportingComponent: 'porter-controller', reportingInstance: this.o.leaderElection.identity,
      })
    } catch (err) {
      this.o.log.warn({ error: describeError(err).message, reason: e.reason }, 'Kubernetes: posting an Event failed')
    }
    if (e.type === 'Warning') this.o.log.warn({ object: `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`, reason: e.reason }, e.message)
    else this.o.log.info({ object: `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`, reason: e.reason }, e.message)
  }

  private nextHopEvents(routes: ServiceRoutes[], services: Map<string, { raw: Obj }>): void {
    for (const k of [...this.lastRoutes.keys()]) if (!services.has(k)) this.lastRoutes.delete(k)
    for (const r of routes) {
      const desc = [...r.nextHops].map(([ip, hops]) => `${ip} via ${hops.length ? hops.join(', ') : 'none'}`).join('; ')
      const prev = this.lastRoutes.get(r.key)
      this.lastRoutes.set(r.key, desc)
      if (prev === undefined || prev === desc) continue
      const m = obj(services.get(r.key)?.raw.metadata)
      void this.event({ type: 'Normal', reason: 'NextHopsChanged', message: r.reason ? `Withdrawn (${r.reason})` : desc }, { kind: 'Service', apiVersion: 'v1', namespace: str(m.namespace) ?? '', name: str(m.name) ?? '', uid: str(m.uid) }, `${r.key}/NextHopsChanged`)
    }
  }

  private reportOutOfPool(out: { key: string; ip: string }[]): void {
    const now = new Set(out.map((o) => `${o.key} ${o.ip}`))
    for (const o of out) {
      if (this.lastOutOfPool.has(`${o.key} ${o.ip}`)) continue
      const [ns, name] = o.key.split('/') as [string, string]
      void this.event({ type: 'Warning', reason: 'IPNotInPool', message: `${o.ip} is in no Eip any more (the pool shrank or was deleted); the Service keeps it, nothing moves` }, { kind: 'Service', apiVersion: 'v1', namespace: ns, name }, `${o.key}/IPNotInPool`)
    }
    this.lastOutOfPool = now
  }

  // ---- CRD statuses (leader) --------------------------------------------------------------------

  /** Eip statuses (only after allocations or Eips changed: building them costs O(allocations)), BgpPeer and BgpConf statuses. */
  private writeCrStatuses(eips: EipInfo[], withEips: boolean): void {
    const crd = '/apis/network.kubesphere.io/v1alpha2'
    for (const e of withEips ? eips : []) {
      const ps = e.pool ? this.alloc.poolStatus(e.name) : undefined
      const conditions = crConditions(e.errors, e.ignored, e.unsupported)
      const status: Record<string, unknown> = { ready: e.pool !== undefined, conditions }
      if (ps) {
        const size = ps.size > 9223372036854775807n ? 9223372036854775807 : Number(ps.size)
        Object.assign(status, { occupied: BigInt(ps.usage) >= ps.size, usage: ps.usage, poolSize: size, used: ps.used, firstIP: ps.firstIP, lastIP: ps.lastIP, v4: ps.family === 'IPv4' })
      }
      this.writeCrStatus('eips', e.name, `${crd}/eips/${e.name}/status`, status)
    }
    for (const p of this.informers.bgppeers.list().map(toBgpPeerInfo)) {
      if (!p) continue
      const v = this.o.peerView(p.name)
      const keyErr = this.keyErrors.get(p.name)
      const errors = keyErr ? [...p.errors, { path: 'spec.conf.authPasswordSecretRef', message: keyErr }] : p.errors
      const status: Record<string, unknown> = { sessionState: v?.state ?? (errors.length ? 'Invalid' : p.perNode ? 'PerNode' : 'NotConfigured'), prefixesSent: v?.prefixesSent ?? 0, conditions: crConditions(errors, p.ignored) }
      if (v?.establishedSince) status.establishedSince = v.establishedSince
      if (v?.lastError) status.lastError = v.lastError
      this.writeCrStatus('bgppeers', p.name, `${crd}/bgppeers/${p.name}/status`, status)
      if (p.inlinePassword) void this.event({ type: 'Warning', reason: 'InlinePassword', message: 'spec.conf.authPassword keeps the TCP MD5 key in the object; move it to a Secret and use spec.conf.authPasswordSecretRef' }, { kind: 'BgpPeer', apiVersion: 'network.kubesphere.io/v1alpha2', name: p.name }, `bgppeer/${p.name}/InlinePassword`)
    }
    for (const c of this.informers.bgpconfs.list().map(toBgpConfInfo)) {
      if (!c) continue
      const conds = c.name === BGPCONF_NAME ? crConditions(c.errors, c.ignored) : [{ type: 'Ready', status: 'False' as const, reason: 'NotDefault', message: `Porter reads only the BgpConf named "${BGPCONF_NAME}"` }]
      this.writeCrStatus('bgpconfs', c.name, `${crd}/bgpconfs/${c.name}/status`, { conditions: conds })
    }
  }

  /**
   * Patch a CR status when it differs from the last one written, in one request: a merge patch
   * (used map: removed IPs as null), or, for the first write of this process with a used map, a
   * JSON patch that replaces the status whole (the map there may hold IPs this process never
   * knew). Never two requests: a reader between them would see the Eip without its used map.
   */
  private writeCrStatus(kind: string, name: string, path: string, status: Record<string, unknown>): void {
    const key = `${kind}/${name}`
    const text = JSON.stringify(status)
    const prev = this.crStatus.get(key)
    if (prev === text || this.inFlight.has(key)) return
    const body = { ...status }
    if (status.used && prev) {
      const old = (JSON.parse(prev) as { used?: Record<string, string> }).used ?? {}
      const used: Record<string, string | null> = { ...(status.used as Record<string, string>) }
      for (const ip of Object.keys(old)) if (!(ip in used)) used[ip] = null
      body.used = used
    }
    this.inFlight.add(key)
    const write = () => status.used && !prev
      ? this.rest.call('PATCH', path, [{ op: 'add', path: '/status', value: status }], JSON_PATCH)
      : this.rest.call('PATCH', path, { status: body }, MERGE_PATCH)
    write().then(
      () => { this.crStatus.set(key, text) },
      (e) => {
        if (kind === 'eips') this.eipsDirty = true // try again at the next round
        if (!(e instanceof ApiError && e.status === 404)) this.o.log.warn({ object: key, error: describeError(e).message }, 'Kubernetes: writing a status failed')
      },
    ).finally(() => this.inFlight.delete(key))
  }

  // ---- BGP from CRDs (every replica) --------------------------------------------------------

  private applyBgp(nodes: Map<string, NodeInfo>): void {
    const confs = this.informers.bgpconfs.list().map(toBgpConfInfo).filter((c) => c !== undefined)
    const conf = confs.find((c) => c.name === BGPCONF_NAME)
    const peers = this.informers.bgppeers.list().map(toBgpPeerInfo).filter((p) => p !== undefined).sort((a, b) => (a.name < b.name ? -1 : 1))
    const filters = new Map<string, ReadonlySet<string>>()
    for (const p of peers) {
      if (!p.nodeSelector) continue
      const set = new Set<string>()
      for (const n of nodes.values()) if (matchesSelector(p.nodeSelector, n.labels)) for (const a of Object.values(n.internalIPs)) set.add(a)
      filters.set(p.name, set)
    }
    const wanted = peers.filter((p) => p.secretRef)
    const missing = wanted.filter((p) => !this.keys.has(p.name) && !this.keyErrors.has(p.name))
    if (missing.length) void this.loadKeys(peers)
    const text = JSON.stringify([conf, peers, [...filters].map(([k, v]) => [k, [...v].sort()]), [...this.keys].map(([k, v]) => [k, Buffer.from(v).toString('base64')])])
    if (text === this.lastBgp) return
    this.lastBgp = text
    this.o.onBgp({ ...(conf ? { conf } : {}), peers, keys: new Map(this.keys), nextHopFilters: filters })
  }

  /** Read the MD5 keys of BgpPeers from their Secrets. */
  private async loadKeys(peers: BgpPeerInfo[]): Promise<void> {
    for (const p of peers) {
      if (!p.secretRef) { this.keys.delete(p.name); this.keyErrors.delete(p.name); continue }
      try {
        this.keys.set(p.name, await readPeerKey(this.rest, p.secretRef))
        this.keyErrors.delete(p.name)
      } catch (e) {
        const msg = (e as Error).message
        if (this.keyErrors.get(p.name) !== msg) this.o.log.error({ bgpPeer: p.name, error: msg }, 'Kubernetes: cannot read the TCP MD5 key of a BgpPeer; its session stays down')
        this.keyErrors.set(p.name, msg)
        this.keys.delete(p.name)
      }
    }
    this.lastBgp = ''
    this.schedule()
  }

  private refreshKeysLater(ms: number): void {
    this.keyTimer = this.o.clock.setTimeout(() => {
      if (!this.running) return
      const peers = this.informers.bgppeers.list().map(toBgpPeerInfo).filter((p) => p !== undefined)
      void this.loadKeys(peers).finally(() => this.refreshKeysLater(ms))
    }, ms)
  }

  keyError(peer: string): string | undefined { return this.keyErrors.get(peer) }

  status(): KubeControllerStatus {
    const inf = Object.values(this.informers).map((i) => i.status())
    // an informer error schedules no pass: notice staleness here too
    if (!inf.every((i) => i.connected)) this.staleSince ??= this.o.clock.wallNow()
    else this.staleSince = undefined
    const routes = this.routesNow()
    const notAnnounced: Record<string, number> = {}
    for (const r of routes) if (r.reason) notAnnounced[r.reason] = (notAnnounced[r.reason] ?? 0) + 1
    const eips = this.informers.eips.list().map((o) => this.eipOf(o)).filter((e) => e !== undefined)
    return {
      server: this.server,
      synced: this.synced(),
      connected: inf.every((i) => i.connected),
      ...(this.staleSince !== undefined ? { staleSince: new Date(this.staleSince).toISOString() } : {}),
      leader: this.elector ? this.elector.status() : { leader: true, disabled: true },
      services: routes.length,
      allocated: this.alloc.keys().length,
      announced: routes.filter((r) => r.reason === null).length,
      notAnnounced,
      pools: eips.map((e) => {
        const ps = e.pool ? this.alloc.poolStatus(e.name) : undefined
        return { name: e.name, size: ps ? ps.size.toString() : '0', used: ps?.usage ?? 0, ...(e.unsupported || e.errors.length ? { error: e.unsupported ?? e.errors.map((x) => `${x.path}: ${x.message}`).join('; ') } : {}) }
      }),
      ...(this.lastPass ? { lastPass: this.lastPass } : {}),
      informers: inf,
    }
  }
}

function ourConditions(raw: Obj): Condition[] {
  return arr(obj(raw.status).conditions).map(obj).filter((c) => String(c.type).startsWith('porter.kubesphere.io/'))
    .map((c) => ({ type: String(c.type), status: c.status as Condition['status'], reason: String(c.reason ?? ''), message: String(c.message ?? '') }))
}

function sameConditions(a: Condition[], b: Condition[]): boolean {
  if (a.length !== b.length) return false
  const key = (c: Condition) => `${c.type}\u0000${c.status}\u0000${c.reason}\u0000${c.message}`
  const sa = a.map(key).sort()
  return b.map(key).sort().every((k, i) => k === sa[i])
}

/** Conditions of a CR: Ready (False with the field errors), IgnoredFields (the paths Porter does not act on). */
function crConditions(errors: FieldError[], ignored: string[], unsupported?: string): Condition[] {
  const out: Condition[] = []
  if (errors.length) out.push({ type: 'Ready', status: 'False', reason: 'InvalidSpec', message: errors.map((e) => `${e.path}: ${e.message}`).join('; ') })
  else if (unsupported) out.push({ type: 'Ready', status: 'False', reason: 'Unsupported', message: unsupported })
  else out.push({ type: 'Ready', status: 'True', reason: 'Accepted', message: 'Porter uses this object' })
  if (ignored.length) out.push({ type: 'IgnoredFields', status: 'True', reason: 'NotImplemented', message: `Porter accepts but does not act on: ${ignored.join(', ')}` })
  return out
}
