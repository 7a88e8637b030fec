// PURE: which Services this node announces (programs as local VIPs), MetalLB-style.
// shouldAnnounce returns null (announce) or the reason not to; desiredVips is the full set of
// ingress IPs this node should serve, IPv4 and IPv6, canonical and sorted.
import { parseVip } from '../agent/index.ts'
import { serviceKey, type EndpointSliceInfo, type LbService } from './types.ts'
import { porterOwnership, type OwnershipOptions, type OwnershipReason } from './ownership.ts'
import { leavingNodeNames, usableEndpoints } from './nexthops.ts'

export type Reason =
  /** not Porter's (see ownership.ts) */
  | OwnershipReason
  /** status.loadBalancer.ingress has no IP yet */
  | 'noIngressIP'
  /** externalTrafficPolicy Local and no usable endpoint on this node */
  | 'noLocalEndpoints'
  /** no usable endpoint anywhere */
  | 'noEndpoints'

export type AnnounceOptions = OwnershipOptions

/** The agent's view: does this node serve the Service's VIPs (the same endpoints rule as the controller's next hops)? */
export function shouldAnnounce(svc: LbService, slices: readonly EndpointSliceInfo[], nodeName: string, opts: AnnounceOptions = {}): Reason | null {
  const own = porterOwnership(svc, opts)
  if (own !== null) return own
  if (svc.ingressIPs.length === 0) return 'noIngressIP'
  const { endpoints } = usableEndpoints(slices)
  if (endpoints.length === 0) return 'noEndpoints'
  if (svc.externalTrafficPolicy === 'Local') return endpoints.some((e) => e.nodeName === nodeName) || leaving(svc, slices, nodeName) ? null : 'noLocalEndpoints'
  return null
}

/**
 * Local: this node's endpoints are all serving-terminating while other nodes have ready ones (a
 * rollout's leaving pods). It keeps serving them, as kube-proxy does, while they serve: its VIPs
 * stay; a per-node speaker announces them tagged (kubernetes.drainTerminating) or not at all.
 */
export function leaving(svc: Pick<LbService, 'externalTrafficPolicy'>, slices: readonly EndpointSliceInfo[], nodeName: string): boolean {
  return svc.externalTrafficPolicy === 'Local' && leavingNodeNames(slices).includes(nodeName)
}

export interface Decision {
  /** "namespace/name" */
  service: string
  reason: Reason | null
  /** canonical VIPs announced for it (empty unless reason is null) */
  vips: string[]
  /** ingress IPs that cannot be VIPs (left out, with why) */
  invalid: string[]
  /** served only through serving-terminating endpoints (leaving) */
  draining?: true
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
    out.push({ service: key, reason, vips, invalid, ...(reason === null && leaving(svc, slicesByService.get(key) ?? [], nodeName) ? { draining: true as const } : {}) })
  }
  return out.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))
}

/** The ingress IPs this node serves: canonical, deduplicated, IPv4 before IPv6, sorted. */
export function desiredVips(services: Iterable<LbService>, slicesByService: ReadonlyMap<string, readonly EndpointSliceInfo[]>, nodeName: string, opts: AnnounceOptions = {}): string[] {
  return vipsOf(decide(services, slicesByService, nodeName, opts))
}

/** The VIPs this node serves only through leaving endpoints (no other Service serves them here), sorted as vipsOf. */
export function drainingVipsOf(decisions: readonly Decision[]): string[] {
  const full = new Set(vipsOf(decisions.filter((d) => !d.draining)))
  return vipsOf(decisions.filter((d) => d.draining)).filter((v) => !full.has(v))
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
