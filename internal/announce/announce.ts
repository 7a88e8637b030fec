// PURE: which Services this node announces (programs as local VIPs), MetalLB-style.
// shouldAnnounce returns null (announce) or the reason not to; desiredVips is the full set of
// ingress IPs this node should serve, IPv4 and IPv6, canonical and sorted.
import { parseVip } from '../agent/vips.ts'
import { serviceKey, type EndpointSliceInfo, type LbService } from './types.ts'

export type Reason =
  /** spec.type is not LoadBalancer */
  | 'notLoadBalancer'
  /** spec.loadBalancerClass names another implementation */
  | 'otherLoadBalancerClass'
  /** status.loadBalancer.ingress has no IP yet */
  | 'noIngressIP'
  /** externalTrafficPolicy Local and no ready endpoint on this node */
  | 'noLocalEndpoints'
  /** externalTrafficPolicy Cluster and no ready endpoint anywhere */
  | 'noEndpoints'

export interface AnnounceOptions {
  /** the loadBalancerClass Porter serves; undefined: only Services without a class */
  loadBalancerClass?: string
}

/** Ready endpoints with an address, optionally only those on `node`. */
function hasReadyEndpoint(slices: readonly EndpointSliceInfo[], node?: string): boolean {
  return slices.some((s) => s.addressType !== 'FQDN' && s.endpoints.some((e) => e.ready && e.addresses.length > 0 && (node === undefined || e.nodeName === node)))
}

export function shouldAnnounce(svc: LbService, slices: readonly EndpointSliceInfo[], nodeName: string, opts: AnnounceOptions = {}): Reason | null {
  if (svc.type !== 'LoadBalancer') return 'notLoadBalancer'
  if ((svc.loadBalancerClass ?? undefined) !== (opts.loadBalancerClass ?? undefined)) return 'otherLoadBalancerClass'
  if (svc.ingressIPs.length === 0) return 'noIngressIP'
  if (svc.externalTrafficPolicy === 'Local') return hasReadyEndpoint(slices, nodeName) ? null : 'noLocalEndpoints'
  return hasReadyEndpoint(slices) ? null : 'noEndpoints'
}

export interface Decision {
  /** "namespace/name" */
  service: string
  reason: Reason | null
  /** canonical VIPs announced for it (empty unless reason is null) */
  vips: string[]
  /** ingress IPs that cannot be VIPs (left out, with why) */
  invalid: string[]
}

/** Slices grouped by their Service's key ("namespace/name"); slices without a Service are left out. */
export function groupSlices(slices: Iterable<EndpointSliceInfo>): Map<string, EndpointSliceInfo[]> {
  const m = new Map<string, EndpointSliceInfo[]>()
  for (const s of slices) {
    if (s.serviceName === undefined) continue
    const k = serviceKey({ namespace: s.namespace, name: s.serviceName })
    const list = m.get(k)
    if (list) list.push(s)
    else m.set(k, [s])
  }
  return m
}

/** One decision per Service, sorted by key. */
export function decide(services: Iterable<LbService>, slicesByService: ReadonlyMap<string, readonly EndpointSliceInfo[]>, nodeName: string, opts: AnnounceOptions = {}): Decision[] {
  const out: Decision[] = []
  for (const svc of services) {
    const key = serviceKey(svc)
    const reason = shouldAnnounce(svc, slicesByService.get(key) ?? [], nodeName, opts)
    const vips: string[] = []
    const invalid: string[] = []
    if (reason === null) {
      for (const ip of svc.ingressIPs) {
        const v = parseVip(ip)
        if (typeof v === 'string') invalid.push(v)
        else if (!vips.includes(v.address)) vips.push(v.address)
      }
    }
    out.push({ service: key, reason, vips, invalid })
  }
  return out.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))
}

/** The ingress IPs this node serves: canonical, deduplicated, IPv4 before IPv6, sorted. */
export function desiredVips(services: Iterable<LbService>, slicesByService: ReadonlyMap<string, readonly EndpointSliceInfo[]>, nodeName: string, opts: AnnounceOptions = {}): string[] {
  return vipsOf(decide(services, slicesByService, nodeName, opts))
}

export function vipsOf(decisions: readonly Decision[]): string[] {
  const all = new Set<string>()
  for (const d of decisions) for (const v of d.vips) all.add(v)
  const v4 = [...all].filter((a) => !a.includes(':')).sort(cmpV4)
  const v6 = [...all].filter((a) => a.includes(':')).sort()
  return [...v4, ...v6]
}

function cmpV4(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!
  return 0
}
