// PURE next-hop selection: (Service, its EndpointSlices, the nodes) -> the nodes that should get
// the Service's traffic, or why none should.
//   externalTrafficPolicy Local:   the nodes with a ready endpoint; when none is ready anywhere,
//                                  the nodes with serving-but-terminating endpoints (kube-proxy's
//                                  fallback, so a rollout's last pods still get traffic)
//   externalTrafficPolicy Cluster: every Ready node, as long as some endpoint is usable
// Nodes labelled node.kubernetes.io/exclude-from-external-load-balancers are never next hops.
// No usable endpoint anywhere: withdraw (OpenELB keeps announcing; traffic would be dropped).
import type { EndpointSliceInfo, IpFamily, LbService, NodeInfo, SliceEndpoint } from './types.ts'

export type NextHopReason =
  /** no ready (or serving-terminating) endpoint anywhere */
  | 'noEndpoints'
  /** endpoints exist, but on no node that can be a next hop (unknown, excluded or not Ready) */
  | 'noEligibleNodes'

export interface NextHopNodes {
  /** node names, sorted */
  nodes: string[]
  /** null when nodes is not empty */
  reason: NextHopReason | null
  /** Local only: no ready endpoint, the serving-terminating ones were used */
  terminatingFallback: boolean
}

const usable = (e: SliceEndpoint) => e.addresses.length > 0

/** Endpoints that take traffic: the ready ones, else the serving-terminating ones. */
export function usableEndpoints(slices: readonly EndpointSliceInfo[]): { endpoints: SliceEndpoint[]; terminatingFallback: boolean } {
  const all = slices.filter((s) => s.addressType !== 'FQDN').flatMap((s) => s.endpoints).filter(usable)
  const ready = all.filter((e) => e.ready)
  if (ready.length > 0) return { endpoints: ready, terminatingFallback: false }
  const terminating = all.filter((e) => (e.serving ?? e.ready) && e.terminating === true)
  return { endpoints: terminating, terminatingFallback: terminating.length > 0 }
}

export function nextHopNodes(svc: Pick<LbService, 'externalTrafficPolicy'>, slices: readonly EndpointSliceInfo[], nodes: ReadonlyMap<string, NodeInfo>): NextHopNodes {
  const { endpoints, terminatingFallback } = usableEndpoints(slices)
  if (endpoints.length === 0) return { nodes: [], reason: 'noEndpoints', terminatingFallback: false }
  let names: string[]
  if (svc.externalTrafficPolicy === 'Local') {
    const set = new Set<string>()
    for (const e of endpoints) {
      const n = e.nodeName !== undefined ? nodes.get(e.nodeName) : undefined
      if (n && !n.excluded) set.add(n.name)
    }
    names = [...set]
  } else {
    names = [...nodes.values()].filter((n) => n.ready && !n.excluded).map((n) => n.name)
  }
  names.sort()
  return { nodes: names, reason: names.length ? null : 'noEligibleNodes', terminatingFallback: svc.externalTrafficPolicy === 'Local' && terminatingFallback }
}

/**
 * Local policy, while ready endpoints exist: the nodes whose endpoints there are all
 * serving-terminating (a rollout's leaving pods): they are no next hops any more, but still
 * serve (kubernetes.drainTerminating keeps them a while, tagged GRACEFUL_SHUTDOWN). Sorted.
 */
export function terminatingNodes(svc: Pick<LbService, 'externalTrafficPolicy'>, slices: readonly EndpointSliceInfo[], nodes: ReadonlyMap<string, NodeInfo>): string[] {
  if (svc.externalTrafficPolicy !== 'Local') return []
  return leavingNodeNames(slices).filter((name) => { const n = nodes.get(name); return n !== undefined && !n.excluded })
}

/** the node names of terminatingNodes, whatever the nodes (the agent knows only its own name) */
export function leavingNodeNames(slices: readonly EndpointSliceInfo[]): string[] {
  const all = slices.filter((s) => s.addressType !== 'FQDN').flatMap((s) => s.endpoints).filter(usable)
  const ready = new Set<string>()
  for (const e of all) if (e.ready && e.nodeName !== undefined) ready.add(e.nodeName)
  if (ready.size === 0) return [] // no ready endpoint anywhere: the serving-terminating ones are the next hops
  const out = new Set<string>()
  for (const e of all) if (e.nodeName !== undefined && !ready.has(e.nodeName) && e.terminating === true && (e.serving ?? e.ready)) out.add(e.nodeName)
  return [...out].sort()
}

/** The next-hop addresses of `names` for a VIP of `family`: each node's InternalIP of that family, sorted. */
export function nextHopAddresses(names: readonly string[], nodes: ReadonlyMap<string, NodeInfo>, family: IpFamily): string[] {
  const out: string[] = []
  for (const n of names) {
    const a = nodes.get(n)?.internalIPs[family]
    if (a !== undefined) out.push(a)
  }
  return out.sort()
}
