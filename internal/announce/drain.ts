// PURE: kubernetes.drainCordoned (issue 11, planned changes lose nothing). A cordoned node
// (spec.unschedulable: `kubectl cordon`, the first step of `kubectl drain`) keeps its next hops
// for `waitMs` with the GRACEFUL_SHUTDOWN community (RFC 8326; LOCAL_PREF 0 to iBGP peers), so
// routers move new traffic to the other nodes while it still serves; then its next hops leave.
// Never the last one: a VIP whose next hops are all cordoned keeps them (tagged), since
// withdrawing would black-hole it.
// kubernetes.drainTerminating, the same for a rollout: a node whose endpoints of a Service all
// terminate keeps that VIP's path, tagged, for at most the wait (terminatingPhases). Both track
// their waits with waitPhases; the caller holds the timer.
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

/**
 * Keys in a wait that began when each was first seen (kept from prevSince): those within it and
 * those past it; nextAt: when the next one passes (undefined: none is waiting).
 */
export function waitPhases(keys: Iterable<string>, prevSince: ReadonlyMap<string, number>, now: number, waitMs: number): { since: Map<string, number>; within: Set<string>; past: Set<string>; nextAt?: number } {
  const since = new Map<string, number>()
  const within = new Set<string>()
  const past = new Set<string>()
  let nextAt: number | undefined
  for (const k of keys) {
    const t = prevSince.get(k) ?? now
    since.set(k, t)
    if (now >= t + waitMs) past.add(k)
    else {
      within.add(k)
      nextAt = Math.min(nextAt ?? Infinity, t + waitMs)
    }
  }
  return { since, within, past, ...(nextAt !== undefined ? { nextAt } : {}) }
}

/** Where each cordoned node is, from the nodes, when each was first seen cordoned, and now. */
export function cordonPhases(nodes: ReadonlyMap<string, NodeInfo>, prevSince: ReadonlyMap<string, number>, now: number, waitMs: number): CordonPhases {
  const cordoned = [...nodes.values()].filter((n) => n.unschedulable)
  const w = waitPhases(cordoned.map((n) => n.name), prevSince, now, waitMs)
  const draining = new Set<string>()
  const drained = new Set<string>()
  for (const n of cordoned) for (const a of Object.values(n.internalIPs)) (w.past.has(n.name) ? drained : draining).add(a)
  const key = cordoned.map((n) => `${n.name}${w.past.has(n.name) ? '-' : '~'}`).sort().join(',')
  return { since: w.since, draining, drained, ...(w.nextAt !== undefined ? { nextAt: w.nextAt } : {}), key }
}

export interface TerminatingPhases {
  /** "prefix next-hop" -> when that node's endpoints were first seen all terminating */
  since: Map<string, number>
  /** prefix -> next hops within their wait: announced tagged */
  draining: Map<string, string[]>
  nextAt?: number
  /** equal keys, equal phases */
  key: string
}

/**
 * kubernetes.drainTerminating: `candidates` are each VIP's next hops whose nodes only have
 * serving-terminating endpoints of its Service (a rollout's leaving pods) while other nodes have
 * ready ones; within `waitMs` of being first seen so they stay, tagged; past it, or once their
 * endpoints stop serving (no longer candidates), they leave.
 */
export function terminatingPhases(candidates: ReadonlyMap<string, readonly string[]>, prevSince: ReadonlyMap<string, number>, now: number, waitMs: number): TerminatingPhases {
  const keys: string[] = []
  for (const [prefix, hops] of candidates) for (const h of hops) keys.push(`${prefix} ${h}`)
  const w = waitPhases(keys, prevSince, now, waitMs)
  const draining = new Map<string, string[]>()
  for (const k of [...w.within].sort()) {
    const [prefix, hop] = k.split(' ') as [string, string]
    let l = draining.get(prefix)
    if (!l) draining.set(prefix, (l = []))
    l.push(hop)
  }
  const key = keys.sort().map((k) => `${k}${w.past.has(k) ? '-' : '~'}`).join(',')
  return { since: w.since, draining, ...(w.nextAt !== undefined ? { nextAt: w.nextAt } : {}), key }
}

/** `advs` plus, for each prefix with draining next hops, a second advertisement of them with GRACEFUL_SHUTDOWN_ATTRS. */
export function terminatingAdvertisements<A extends Adv>(advs: readonly A[], draining: ReadonlyMap<string, readonly string[]>): (A | Adv)[] {
  if (draining.size === 0) return [...advs]
  const out: (A | Adv)[] = [...advs]
  for (const [prefix, hops] of draining) out.push({ prefix, nextHops: [...hops], attrs: GRACEFUL_SHUTDOWN_ATTRS })
  return out
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
