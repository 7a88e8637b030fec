// PURE core of the Kubernetes controller: from the caches (Services, EndpointSlices, Nodes,
// Namespaces, Eips) to
//   - what the leader must write: each Porter Service's IPs, conditions, events, finalizer
//     (planAllocations, with the in-memory allocator of internal/ipam as the only state)
//   - what every replica announces: each VIP in a Service status with its next hops
//     (advertisementsFor), so a replica that is not the leader announces the same paths
// Running either twice on the same input changes nothing.
import { Allocator, type Family, type ServiceRequest } from '../ipam/index.ts'
import {
  nextHopAddresses, nextHopNodes, porterOwnership, serviceKey, terminatingNodes,
  type EndpointSliceInfo, type LbService, type NodeInfo, type OwnershipOptions,
} from '../announce/index.ts'
import { canonicalIp } from '../ip/index.ts'
import type { Advertisement } from '../bgp/speaker.ts'
import type { EipInfo } from '../k8s/crd.ts'

export const FINALIZER = 'finalizer.lb.kubesphere.io/v1alpha1'
export const POOL_ANNOTATION = 'eip.openelb.kubesphere.io/v1alpha2'
export const IP_ANNOTATION = 'eip.openelb.kubesphere.io/v1alpha1'
/** condition types Porter owns on a Service (other controllers' conditions are kept as they are) */
export const CONDITION_ALLOCATED = 'porter.kubesphere.io/IPAllocated'
export const CONDITION_ANNOUNCED = 'porter.kubesphere.io/Announced'

export interface Condition { type: string; status: 'True' | 'False' | 'Unknown'; reason: string; message: string }
export interface PlannedEvent { type: 'Normal' | 'Warning'; reason: string; message: string }

export interface ServicePlan {
  key: string
  /** the Service is Porter's and not being deleted */
  owned: boolean
  /** status.loadBalancer.ingress IPs to write (undefined: leave the status as it is) */
  ips?: string[]
  conditions: Condition[]
  events: PlannedEvent[]
  finalizer: 'add' | 'remove' | null
}

export interface PlanInput {
  services: Iterable<LbService>
  namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>
  ownership: OwnershipOptions
}

/** Which families a Service asks for (one IP each), from spec.ipFamilies and ipFamilyPolicy. */
export function familiesOf(svc: LbService): { families: Family[]; preferDualStack: boolean } {
  const listed = svc.ipFamilies?.length ? [...svc.ipFamilies] : ['IPv4' as Family]
  const policy = svc.ipFamilyPolicy ?? 'SingleStack'
  if (policy === 'SingleStack') return { families: [listed[0]!], preferDualStack: false }
  const both: Family[] = [...listed]
  for (const f of ['IPv4', 'IPv6'] as Family[]) if (!both.includes(f)) both.push(f)
  return { families: both, preferDualStack: policy === 'PreferDualStack' }
}

/** Requested IPs: the OpenELB annotation (comma-separated, one per family) or spec.loadBalancerIP. */
export function requestedIps(svc: LbService): string[] | undefined {
  const a = svc.annotations?.[IP_ANNOTATION]?.trim()
  const src = a ? a : svc.loadBalancerIP?.trim()
  if (!src) return undefined
  return src.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

export function requestOf(svc: LbService, namespaceLabels: Readonly<Record<string, string>>): ServiceRequest {
  const { families, preferDualStack } = familiesOf(svc)
  const ips = requestedIps(svc)
  const pool = svc.annotations?.[POOL_ANNOTATION]?.trim()
  return {
    key: serviceKey(svc),
    namespace: svc.namespace,
    namespaceLabels: { ...namespaceLabels },
    ...(pool ? { pool } : {}),
    ...(ips ? { ips } : {}),
    families,
    ...(preferDualStack ? { preferDualStack } : {}),
    ports: (svc.ports ?? []).map((p) => ({ protocol: p.protocol, port: p.port })),
    trafficPolicy: svc.externalTrafficPolicy,
    ...(svc.selector !== undefined ? { sharingKey: svc.selector } : {}),
  }
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i])
const canonicalList = (ips: readonly string[]) => ips.map((ip) => canonicalIp(ip) ?? ip)

/** Services sorted by key: every replica and every restart walks them in the same order. */
function sorted(services: Iterable<LbService>): LbService[] {
  return [...services].sort((a, b) => { const x = serviceKey(a); const y = serviceKey(b); return x < y ? -1 : x > y ? 1 : 0 })
}

/**
 * After a start, before anything new is assigned: every IP already in a Porter Service's status
 * goes back into the allocator (MetalLB bugs #1774/#2443 came from skipping this). IPs that
 * cannot be taken back (now held by another Service it may not share with) are returned.
 */
export function rebuildAllocations(alloc: Allocator, input: PlanInput, eips: Iterable<EipInfo> = []): { key: string; ips: string[]; message: string }[] {
  const conflicts: { key: string; ips: string[]; message: string }[] = []
  // second source: Eip status.used, for a Service whose own status lost its IPs (cleared by
  // hand, or a status write that never landed): it gets the same IPs back, not new ones
  const fromEips = new Map<string, string[]>()
  for (const e of eips) {
    for (const [ip, holders] of Object.entries(e.used)) {
      for (const key of holders.split(',').map((h) => h.trim()).filter((h) => h !== '')) {
        const list = fromEips.get(key)
        if (list) list.push(ip)
        else fromEips.set(key, [ip])
      }
    }
  }
  for (const svc of sorted(input.services)) {
    if (porterOwnership(svc, input.ownership) !== null || svc.deleting) continue
    const key = serviceKey(svc)
    const ips = svc.ingressIPs.length ? canonicalList(svc.ingressIPs) : canonicalList(fromEips.get(key) ?? [])
    if (ips.length === 0) continue
    const req = requestOf(svc, input.namespaceLabels.get(svc.namespace) ?? {})
    const r = alloc.assign(req, ips)
    if (!r.ok) conflicts.push({ key, ips, message: r.message })
  }
  return conflicts
}

/**
 * The leader's plan for every Service it has seen: allocation, status, finalizer. `eips` gives
 * the allocator's pools (setPools is the caller's: it reports pools that shrank).
 */
export function planAllocations(alloc: Allocator, input: PlanInput): ServicePlan[] {
  const plans: ServicePlan[] = []
  for (const svc of sorted(input.services)) {
    const key = serviceKey(svc)
    const own = porterOwnership(svc, input.ownership)
    const hasFinalizer = svc.finalizers?.includes(FINALIZER) ?? false
    if (own !== null || svc.deleting) {
      // not (or no longer) Porter's: give its IPs back, clear what we wrote, drop the finalizer
      const held = alloc.ipsOf(key)
      const released = held.length ? alloc.unassign(key) : []
      const plan: ServicePlan = { key, owned: false, conditions: [], events: [], finalizer: hasFinalizer ? 'remove' : null }
      if (released.length) plan.events.push({ type: 'Normal', reason: 'IPReleased', message: `Released ${released.join(', ')} (${svc.deleting ? 'Service deleted' : `no longer Porter's: ${own}`})` })
      // a Service that stopped being Porter's (type or class changed) loses the ingress Porter wrote
      if (!svc.deleting && hasFinalizer && svc.ingressIPs.length) plan.ips = []
      if (plan.finalizer || plan.events.length || plan.ips) plans.push(plan)
      continue
    }
    const plan: ServicePlan = { key, owned: true, conditions: [], events: [], finalizer: hasFinalizer ? null : 'add' }
    const req = requestOf(svc, input.namespaceLabels.get(svc.namespace) ?? {})
    const r = alloc.allocate(req)
    if (r.ok) {
      const ips = r.ips
      if (!sameList(ips, canonicalList(svc.ingressIPs))) {
        plan.ips = ips
        if (r.changed || svc.ingressIPs.length === 0) plan.events.push({ type: 'Normal', reason: 'IPAllocated', message: `Assigned ${ips.map((ip, i) => `${ip} from pool ${JSON.stringify(r.pools[i] ?? '')}`).join(', ')}` })
      }
      const outside = ips.filter((_, i) => r.pools[i] === '')
      plan.conditions.push(outside.length
        ? { type: CONDITION_ALLOCATED, status: 'True', reason: 'IPNotInPool', message: `${outside.join(', ')} is in no Eip any more (the pool shrank or was deleted); the Service keeps it until it is deleted or asks for another` }
        : { type: CONDITION_ALLOCATED, status: 'True', reason: 'Allocated', message: `${ips.join(', ')} from ${[...new Set(r.pools)].map((p) => JSON.stringify(p)).join(', ')}` })
    } else {
      plan.conditions.push({ type: CONDITION_ALLOCATED, status: 'False', reason: r.reason, message: r.message })
      plan.events.push({ type: 'Warning', reason: 'AllocationFailed', message: `${r.reason}: ${r.message}` })
    }
    plans.push(plan)
  }
  return plans
}

/**
 * Services gone from the cache without passing through a deleting state (deleted while the
 * controller was down, or the finalizer removed by hand): their IPs go back to the pool.
 */
export function releaseGone(alloc: Allocator, present: (key: string) => boolean): string[] {
  const gone = alloc.keys().filter((k) => !present(k))
  for (const k of gone) alloc.unassign(k)
  return gone
}

export interface ServiceRoutes {
  key: string
  /** VIP -> next-hop addresses */
  nextHops: Map<string, string[]>
  /** why nothing is announced, when nothing is */
  reason: string | null
  terminatingFallback: boolean
  /** VIP -> next-hop addresses of the nodes whose endpoints are all serving-terminating (Local; absent: none) */
  terminating?: Map<string, string[]>
}

/** One Service's VIPs with their next hops; null when it announces nothing (not Porter's, no IP, deleting). */
export function serviceRoutes(
  svc: LbService,
  slices: readonly EndpointSliceInfo[],
  nodes: ReadonlyMap<string, NodeInfo>,
  ownership: OwnershipOptions,
): ServiceRoutes | null {
  if (svc.ingressIPs.length === 0 || svc.deleting || porterOwnership(svc, ownership) !== null) return null
  const hop = nextHopNodes(svc, slices, nodes)
  const r: ServiceRoutes = { key: serviceKey(svc), nextHops: new Map(), reason: hop.reason, terminatingFallback: hop.terminatingFallback }
  for (const raw of svc.ingressIPs) {
    const ip = canonicalIp(raw)
    if (ip === undefined) continue
    r.nextHops.set(ip, nextHopAddresses(hop.nodes, nodes, ip.includes(':') ? 'IPv6' : 'IPv4'))
  }
  const leaving = terminatingNodes(svc, slices, nodes)
  if (leaving.length) {
    r.terminating = new Map()
    for (const ip of r.nextHops.keys()) r.terminating.set(ip, nextHopAddresses(leaving, nodes, ip.includes(':') ? 'IPv6' : 'IPv4'))
  }
  if (r.reason === null && [...r.nextHops.values()].every((a) => a.length === 0)) r.reason = 'noNextHopAddress'
  return r
}

/** The advertisements of many Services' routes: a VIP shared by several gets the union of their next hops; VIPs without next hops are not announced. */
export function advertisementsOf(routes: Iterable<ServiceRoutes>): Advertisement[] {
  const byVip = new Map<string, Set<string>>()
  for (const r of routes) {
    for (const [ip, addrs] of r.nextHops) {
      if (addrs.length === 0) continue
      let set = byVip.get(ip)
      if (!set) byVip.set(ip, (set = new Set()))
      for (const a of addrs) set.add(a)
    }
  }
  const out: Advertisement[] = []
  for (const [ip, set] of byVip) out.push({ prefix: `${ip}/${ip.includes(':') ? 128 : 32}`, nextHops: [...set].sort() })
  return out
}

/**
 * kubernetes.drainTerminating: prefix -> the next hops of nodes whose endpoints of a Service of
 * that VIP all terminate, less the VIP's next hops (through any Service). Sorted.
 */
export function terminatingCandidates(routes: Iterable<ServiceRoutes>): Map<string, string[]> {
  const list = [...routes]
  const normal = new Map<string, Set<string>>()
  for (const r of list) for (const [ip, hops] of r.nextHops) { let set = normal.get(ip); if (!set) normal.set(ip, (set = new Set())); for (const h of hops) set.add(h) }
  const out = new Map<string, Set<string>>()
  for (const r of list) {
    for (const [ip, hops] of r.terminating ?? []) {
      const prefix = `${ip}/${ip.includes(':') ? 128 : 32}`
      for (const h of hops) {
        if (normal.get(ip)?.has(h)) continue
        let set = out.get(prefix)
        if (!set) out.set(prefix, (set = new Set()))
        set.add(h)
      }
    }
  }
  return new Map([...out].map(([k, v]) => [k, [...v].sort()]))
}

/**
 * Every replica: each Porter Service's status IPs with their next hops (serviceRoutes), and the
 * advertisements of them all (advertisementsOf).
 */
export function advertisementsFor(
  services: Iterable<LbService>,
  slicesByService: ReadonlyMap<string, readonly EndpointSliceInfo[]>,
  nodes: ReadonlyMap<string, NodeInfo>,
  ownership: OwnershipOptions,
): { advertisements: Advertisement[]; services: ServiceRoutes[] } {
  const routes: ServiceRoutes[] = []
  for (const svc of sorted(services)) {
    const r = serviceRoutes(svc, slicesByService.get(serviceKey(svc)) ?? [], nodes, ownership)
    if (r) routes.push(r)
  }
  return { advertisements: advertisementsOf(routes), services: routes }
}

/** Eip pools for the allocator: valid, supported Eips only. */
export function poolsOf(eips: Iterable<EipInfo>) {
  return [...eips].flatMap((e) => (e.pool ? [e.pool] : []))
}
