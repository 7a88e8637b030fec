// PURE: kubernetes.drainCordoned (issue 11, planned changes lose nothing). A cordoned node
// (spec.unschedulable: `kubectl cordon`, the first step of `kubectl drain`) keeps its next hops
// for `waitMs` with the GRACEFUL_SHUTDOWN community (RFC 8326; LOCAL_PREF 0 to iBGP peers), so
// routers move new traffic to the other nodes while it still serves; then its next hops leave.
// Never the last one: a VIP whose next hops are all cordoned keeps them (tagged), since
// withdrawing would black-hole it.
import type { NodeInfo } from './types.ts'
import { GRACEFUL_SHUTDOWN_ATTRS } from '../bgp/rib/index.ts'

export interface CordonPhases {
  /** node name -> when it was first seen cordoned (the clock's monotonic ms) */
  since: Map<string, number>
  /** next-hop addresses of cordoned nodes within their wait: tagged */
  draining: Set<string>
  /** next-hop addresses of cordoned nodes past their wait: left out (unless the last) */
  drained: Set<string>
  /** when the next node passes its wait (undefined: none is waiting) */
  nextAt?: number
  /** equal keys, equal sets */
  key: string
}

/** Where each cordoned node is, from the nodes, when each was first seen cordoned, and now. */
export function cordonPhases(nodes: ReadonlyMap<string, NodeInfo>, prevSince: ReadonlyMap<string, number>, now: number, waitMs: number): CordonPhases {
  const since = new Map<string, number>()
  const draining = new Set<string>()
  const drained = new Set<string>()
  let nextAt: number | undefined
  const names: string[] = []
  for (const n of nodes.values()) {
    if (!n.unschedulable) continue
    const t = prevSince.get(n.name) ?? now
    since.set(n.name, t)
    const done = now >= t + waitMs
    names.push(`${n.name}${done ? '-' : '~'}`)
    for (const a of Object.values(n.internalIPs)) (done ? drained : draining).add(a)
    if (!done) nextAt = Math.min(nextAt ?? Infinity, t + waitMs)
  }
  return { since, draining, drained, ...(nextAt !== undefined ? { nextAt } : {}), key: names.sort().join(',') }
}

interface Adv { prefix: string; nextHops: readonly string[]; attrs?: object }

/**
 * Advertisements with the cordoned nodes' next hops split off: the others as they were, the
 * draining ones in a second advertisement of the same prefix with GRACEFUL_SHUTDOWN_ATTRS, the drained
 * ones gone, unless nothing else is left (then they stay, tagged).
 */
export function drainAdvertisements<A extends Adv>(advs: readonly A[], p: Pick<CordonPhases, 'draining' | 'drained'>): (A | (A & { attrs: typeof GRACEFUL_SHUTDOWN_ATTRS }))[] {
  if (p.draining.size === 0 && p.drained.size === 0) return [...advs]
  const out: (A | (A & { attrs: typeof GRACEFUL_SHUTDOWN_ATTRS }))[] = []
  for (const a of advs) {
    const keep = a.nextHops.filter((n) => !p.draining.has(n) && !p.drained.has(n))
    if (keep.length === a.nextHops.length) { out.push(a); continue }
    let tagged = a.nextHops.filter((n) => p.draining.has(n))
    if (keep.length === 0 && tagged.length === 0) tagged = [...a.nextHops] // all drained: the last ones stay
    if (keep.length) out.push({ ...a, nextHops: keep })
    if (tagged.length) out.push({ ...a, nextHops: tagged, attrs: GRACEFUL_SHUTDOWN_ATTRS })
  }
  return out
}
