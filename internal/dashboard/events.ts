// PURE: the dashboard's "recent events", found by comparing two successive status snapshots
// (the status contract, internal/admin/status.ts): BGP sessions up and down, VIPs announced and
// withdrawn, next hops entering and leaving an announcement, health checks going down and back
// up, the BGP problem and the agent's reconcile result. No clock, no I/O: the caller stamps the
// time (EventLog.push takes it).
//
// The status is read defensively (it arrives as `object`): a missing or odd-typed field yields no
// event rather than a wrong one.
import type { DaemonStatus, PeerStatus, VipStatus, NextHopStatus } from '../admin/index.ts'

/** Any daemon's status: the controller's or the agent's fields, with or without the daemon info. */
export type AnyStatus = Partial<DaemonStatus>

export type EventKind =
  | 'session-up' | 'session-down' | 'peer-added' | 'peer-removed'
  | 'vip-announced' | 'vip-withdrawn' | 'nexthop-announced' | 'nexthop-withdrawn'
  | 'health-down' | 'health-up'
  | 'bgp-problem' | 'bgp-ok'
  | 'reconcile-failed' | 'reconcile-ok' | 'vip-programmed' | 'vip-unprogrammed'

export type Severity = 'info' | 'warning'

/** One change, as `statusEvents` finds it. */
export interface StatusChange {
  kind: EventKind
  severity: Severity
  /** what changed: a peer name, a VIP, "VIP via next hop" */
  subject: string
  /** one sentence for people */
  message: string
}

/** A change stamped by the EventLog: `seq` grows by one per event for the life of the log. */
export interface DashboardEvent extends StatusChange {
  seq: number
  /** ISO 8601 wall-clock time of the sample that found it */
  at: string
}

const arr = <T>(x: unknown): T[] => (Array.isArray(x) ? (x as T[]) : [])
const peerKey = (p: PeerStatus) => String(p.name ?? p.address)
const vipLabel = (v: VipStatus) => (v.name ? `${v.name} ${v.address}` : String(v.address))
const ESTABLISHED = 'Established'

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function byKey<T>(xs: T[], key: (x: T) => string): Map<string, T> {
  const m = new Map<string, T>()
  for (const x of xs) m.set(key(x), x)
  return m
}

function peerChanges(prev: PeerStatus[], next: PeerStatus[]): StatusChange[] {
  const out: StatusChange[] = []
  const before = byKey(prev, peerKey)
  const after = byKey(next, peerKey)
  for (const [k, p] of after) {
    const b = before.get(k)
    const who = `${k} (${p.address}, AS ${p.peerAs})`
    if (!b) {
      out.push({ kind: 'peer-added', severity: 'info', subject: k, message: `Peer ${who} configured, state ${p.state}` })
      if (p.state === ESTABLISHED) out.push({ kind: 'session-up', severity: 'info', subject: k, message: `Session with ${who} Established` })
      continue
    }
    if (b.state !== ESTABLISHED && p.state === ESTABLISHED) {
      out.push({ kind: 'session-up', severity: 'info', subject: k, message: `Session with ${who} Established` })
    } else if (b.state === ESTABLISHED && p.state !== ESTABLISHED) {
      out.push({ kind: 'session-down', severity: 'warning', subject: k, message: `Session with ${who} went down to ${p.state}${p.lastError ? `: ${p.lastError}` : ''}` })
    }
  }
  for (const k of before.keys()) {
    if (!after.has(k)) out.push({ kind: 'peer-removed', severity: 'info', subject: k, message: `Peer ${k} removed from the config` })
  }
  return out
}

function nextHopChanges(v: VipStatus, prev: NextHopStatus[], next: NextHopStatus[]): StatusChange[] {
  const out: StatusChange[] = []
  const before = byKey(prev, (n) => String(n.address))
  for (const n of next) {
    const b = before.get(String(n.address))
    const subject = `${v.address} via ${n.address}`
    const bHealth = b?.health ?? 'no check'
    if (n.health === 'down' && bHealth !== 'down') {
      out.push({ kind: 'health-down', severity: 'warning', subject, message: `Health check of ${n.address} for ${vipLabel(v)} failed${n.lastError ? `: ${n.lastError}` : ''}` })
    } else if (n.health === 'up' && bHealth === 'down') {
      out.push({ kind: 'health-up', severity: 'info', subject, message: `Health check of ${n.address} for ${vipLabel(v)} passes again` })
    }
    const bAnnounced = b?.announced ?? false
    if (n.announced && !bAnnounced) out.push({ kind: 'nexthop-announced', severity: 'info', subject, message: `Next hop ${n.address} announced for ${vipLabel(v)}` })
    else if (!n.announced && bAnnounced) out.push({ kind: 'nexthop-withdrawn', severity: 'warning', subject, message: `Next hop ${n.address} withdrawn from ${vipLabel(v)}${n.health === 'down' ? ' (health check down)' : ''}` })
  }
  const now = new Set(next.map((n) => String(n.address)))
  for (const b of prev) {
    if (!now.has(String(b.address)) && b.announced) {
      out.push({ kind: 'nexthop-withdrawn', severity: 'warning', subject: `${v.address} via ${b.address}`, message: `Next hop ${b.address} removed from ${vipLabel(v)}` })
    }
  }
  return out
}

function vipChanges(prev: VipStatus[], next: VipStatus[]): StatusChange[] {
  const out: StatusChange[] = []
  const before = byKey(prev, (v) => String(v.address))
  for (const v of next) {
    const b = before.get(String(v.address))
    const bAnnounced = b?.announced ?? false
    if (v.announced && !bAnnounced) out.push({ kind: 'vip-announced', severity: 'info', subject: String(v.address), message: `VIP ${vipLabel(v)} announced` })
    else if (!v.announced && bAnnounced) out.push({ kind: 'vip-withdrawn', severity: 'warning', subject: String(v.address), message: `VIP ${vipLabel(v)} withdrawn: no healthy next hop` })
    out.push(...nextHopChanges(v, arr<NextHopStatus>(b?.nextHops), arr<NextHopStatus>(v.nextHops)))
  }
  const now = new Set(next.map((v) => String(v.address)))
  for (const b of prev) {
    if (!now.has(String(b.address)) && b.announced) out.push({ kind: 'vip-withdrawn', severity: 'info', subject: String(b.address), message: `VIP ${vipLabel(b)} removed from the config` })
  }
  return out
}

/** Kubernetes VIPs: prefix -> next hops, as the controller announces them. */
function kubeVipChanges(prev: { prefix: string; nextHops: string[] }[], next: { prefix: string; nextHops: string[] }[]): StatusChange[] {
  const out: StatusChange[] = []
  const before = byKey(prev, (v) => String(v.prefix))
  for (const v of next) {
    const b = before.get(String(v.prefix))
    const hops = arr<string>(v.nextHops)
    if (b && sameList(arr<string>(b.nextHops), hops)) continue // the usual case, cheaply
    if (!b) out.push({ kind: 'vip-announced', severity: 'info', subject: v.prefix, message: `Service VIP ${v.prefix} announced via ${hops.join(', ') || 'no next hop'}` })
    const had = new Set(arr<string>(b?.nextHops))
    const has = new Set(hops)
    if (b) for (const h of hops) if (!had.has(h)) out.push({ kind: 'nexthop-announced', severity: 'info', subject: `${v.prefix} via ${h}`, message: `Next hop ${h} announced for Service VIP ${v.prefix}` })
    for (const h of had) if (!has.has(h)) out.push({ kind: 'nexthop-withdrawn', severity: 'warning', subject: `${v.prefix} via ${h}`, message: `Next hop ${h} withdrawn from Service VIP ${v.prefix}` })
  }
  const now = new Set(next.map((v) => String(v.prefix)))
  for (const b of prev) if (!now.has(String(b.prefix))) out.push({ kind: 'vip-withdrawn', severity: 'warning', subject: b.prefix, message: `Service VIP ${b.prefix} withdrawn` })
  return out
}

function agentChanges(prev: AnyStatus['agent'], next: AnyStatus['agent']): StatusChange[] {
  if (!next) return []
  const out: StatusChange[] = []
  const b = prev?.lastReconcile
  const r = next.lastReconcile
  if (r && r.at !== b?.at) {
    if (!r.ok && (b === undefined || b.ok)) out.push({ kind: 'reconcile-failed', severity: 'warning', subject: next.interface, message: `Agent reconcile failed${r.error ? `: ${r.error}` : ''}` })
    else if (r.ok && b !== undefined && !b.ok) out.push({ kind: 'reconcile-ok', severity: 'info', subject: next.interface, message: 'Agent reconcile succeeds again' })
  }
  const had = new Set(arr<string>(prev?.vips))
  const has = new Set(arr<string>(next.vips))
  for (const v of has) if (!had.has(v)) out.push({ kind: 'vip-programmed', severity: 'info', subject: v, message: `VIP ${v} programmed on ${next.interface}` })
  for (const v of had) if (!has.has(v)) out.push({ kind: 'vip-unprogrammed', severity: 'info', subject: v, message: `VIP ${v} removed from ${next.interface}` })
  return out
}

/**
 * What changed between two snapshots. `prev` undefined (the first sample) reports what is up
 * already: Established sessions, announced VIPs and next hops, failing checks, programmed VIPs.
 */
export function statusEvents(prev: AnyStatus | undefined, next: AnyStatus): StatusChange[] {
  const p = prev ?? {}
  const out: StatusChange[] = []
  // "added" only next to peers that were there: not at the first sample, nor when BGP starts
  // (the daemon's listener samples before the mode has configured any peer)
  const before = arr<PeerStatus>(p.peers)
  const peers = peerChanges(before, arr<PeerStatus>(next.peers))
  out.push(...(before.length === 0 ? peers.filter((c) => c.kind !== 'peer-added') : peers))
  if (next.bgpProblem && next.bgpProblem !== p.bgpProblem) out.push({ kind: 'bgp-problem', severity: 'warning', subject: 'bgp', message: `BGP is not running: ${next.bgpProblem}` })
  else if (!next.bgpProblem && p.bgpProblem) out.push({ kind: 'bgp-ok', severity: 'info', subject: 'bgp', message: 'BGP is running again' })
  out.push(...vipChanges(arr<VipStatus>(p.vips), arr<VipStatus>(next.vips)))
  out.push(...kubeVipChanges(arr(p.kubernetes?.vips), arr(next.kubernetes?.vips)))
  out.push(...agentChanges(p.agent, next.agent))
  return out
}

/** The last `max` events, oldest first, each with a sequence number and its time. Pure: the caller passes the time. */
export class EventLog {
  private events: DashboardEvent[] = []
  private seq = 0
  constructor(readonly max = 200) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`EventLog max must be a positive integer, got ${max}`)
  }

  /** Stamp and keep `changes`; returns the stamped events. */
  push(changes: readonly StatusChange[], at: string): DashboardEvent[] {
    const stamped = changes.map((c) => ({ seq: ++this.seq, at, ...c }))
    this.events.push(...stamped)
    if (this.events.length > this.max) this.events = this.events.slice(this.events.length - this.max)
    return stamped
  }

  /** oldest first */
  list(): DashboardEvent[] {
    return [...this.events]
  }
}
