// PURE: a running mode's status object (what `porter status --json` shows) -> metric samples,
// and the mode's readiness. No prom-client here: registry.ts turns the samples into series.
// The status is Record<string, unknown>: every field is read defensively, a missing or odd-typed
// field gives no sample rather than a wrong one.

export type Mode = 'controller' | 'agent'
export type Labels = Record<string, string>
export interface Sample { labels: Labels; value: number }

export interface FamilyDef {
  type: 'gauge' | 'counter'
  help: string
  labelNames: readonly string[]
}

/** RFC 4271 session states: porter_bgp_session_state has one series per peer and state. */
export const BGP_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const

/** Every series Porter exports besides prom-client's default process metrics. One row per family. */
export const FAMILIES = {
  porter_ready: { type: 'gauge', help: 'Whether the mode reports ready (what /readyz answers): 1 ready, 0 not', labelNames: [] },
  porter_bgp_session_state: { type: 'gauge', help: 'BGP session state per peer: 1 for the current RFC 4271 state, 0 for the others', labelNames: ['peer', 'state'] },
  porter_bgp_session_uptime_seconds: { type: 'gauge', help: 'Seconds since the BGP session reached Established (0 when it is not)', labelNames: ['peer'] },
  porter_bgp_session_flaps_total: { type: 'counter', help: 'Times the BGP session went down from Established', labelNames: ['peer'] },
  porter_bgp_prefixes_sent: { type: 'gauge', help: 'Paths (prefix and ADD-PATH id) currently advertised to the peer', labelNames: ['peer'] },
  porter_bgp_prefixes_received: { type: 'gauge', help: 'Prefixes received from the peer (counted and discarded)', labelNames: ['peer'] },
  porter_bgp_updates_received_total: { type: 'counter', help: 'BGP UPDATE messages received from the peer', labelNames: ['peer'] },
  porter_bgp_refused_connections_total: { type: 'counter', help: 'Incoming BGP connections refused because their source is not a configured peer', labelNames: [] },
  porter_vip_announced: { type: 'gauge', help: 'Whether the VIP is announced with at least one next hop: 1 yes, 0 withdrawn', labelNames: ['vip'] },
  porter_vip_nexthop_healthy: { type: 'gauge', help: 'Health of a configured VIP next hop: 1 up (or no check), 0 down or not checked yet', labelNames: ['vip', 'nexthop'] },
  porter_vip_nexthop_announced: { type: 'gauge', help: 'Whether the next hop is in the VIP\'s announcement: 1 yes, 0 no', labelNames: ['vip', 'nexthop'] },
  porter_ipam_pool_size: { type: 'gauge', help: 'Addresses in the Eip pool', labelNames: ['pool'] },
  porter_ipam_pool_used: { type: 'gauge', help: 'Addresses of the Eip pool assigned to Services', labelNames: ['pool'] },
  porter_ipam_allocated: { type: 'gauge', help: 'Services with an allocation held by this replica', labelNames: [] },
  porter_kubernetes_connected: { type: 'gauge', help: 'Whether every informer\'s last request to the API server succeeded: 1 yes, 0 no', labelNames: [] },
  porter_kubernetes_synced: { type: 'gauge', help: 'Whether every informer has listed at least once: 1 yes, 0 no', labelNames: [] },
  porter_kubernetes_stale_seconds: { type: 'gauge', help: 'Seconds since the API server became unreachable (the last known state is announced); 0 when connected', labelNames: [] },
  porter_kubernetes_leader: { type: 'gauge', help: 'Whether this replica holds the leader Lease (1 also when leader election is off)', labelNames: [] },
  porter_kubernetes_services: { type: 'gauge', help: 'Porter LoadBalancer Services seen', labelNames: [] },
  porter_kubernetes_services_announced: { type: 'gauge', help: 'Porter LoadBalancer Services announced (controller) or announced from this node (agent)', labelNames: [] },
  porter_kubernetes_last_pass_writes: { type: 'gauge', help: 'API writes of the controller\'s last Kubernetes reconcile pass', labelNames: [] },
  porter_kubernetes_last_pass_errors: { type: 'gauge', help: 'Failed API writes of the controller\'s last Kubernetes reconcile pass', labelNames: [] },
  porter_reconcile_duration_ms: { type: 'gauge', help: 'Duration of the last reconcile in milliseconds (controller: Kubernetes pass; agent: kernel reconcile)', labelNames: ['mode'] },
  porter_agent_reconciles_total: { type: 'counter', help: 'Agent reconciles run', labelNames: [] },
  porter_agent_changes_total: { type: 'counter', help: 'Kernel changes (addresses, routes, firewall elements) the agent made', labelNames: [] },
  porter_agent_failures_total: { type: 'counter', help: 'Agent reconciles that failed', labelNames: [] },
  porter_agent_drift_repairs_total: { type: 'counter', help: 'Agent reconciles that repaired drift (kernel state changed behind Porter\'s back)', labelNames: [] },
  porter_agent_last_reconcile_ok: { type: 'gauge', help: 'Whether the agent\'s last reconcile succeeded: 1 yes, 0 no', labelNames: [] },
  porter_agent_vips_programmed: { type: 'gauge', help: 'VIPs the agent has programmed into the kernel', labelNames: [] },
} as const satisfies Record<string, FamilyDef>

export type FamilyName = keyof typeof FAMILIES

/** Samples per family; a family without samples is left out of the exposition. */
export type Samples = Partial<Record<FamilyName, Sample[]>>

export interface Readiness { ready: boolean; reason: string }

type Obj = Record<string, unknown>
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x)
const obj = (x: unknown): Obj | undefined => (isObj(x) ? x : undefined)
const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : [])
const str = (x: unknown): string | undefined => (typeof x === 'string' && x !== '' ? x : undefined)
const num = (x: unknown): number | undefined => {
  if (typeof x === 'number' && Number.isFinite(x)) return x
  if (typeof x === 'string' && /^\d+$/.test(x)) return Number(x) // pool sizes are decimal strings (IPv6 pools exceed 2^53)
  return undefined
}
const bool = (x: unknown): number | undefined => (typeof x === 'boolean' ? (x ? 1 : 0) : undefined)

class Builder {
  readonly out: Samples = {}
  add(name: FamilyName, value: number | undefined, labels: Labels = {}): void {
    if (value === undefined) return
    ;(this.out[name] ??= []).push({ labels, value })
  }
  has(name: FamilyName, labels: Labels): boolean {
    return (this.out[name] ?? []).some((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  }
}

/**
 * The samples of one scrape. `status` is the mode's `service.status()`; `nowMs` is wall-clock
 * time (for porter_kubernetes_stale_seconds); `ready` is what /readyz answers (default: the
 * mode's readiness from this status). Pure.
 */
export function collect(mode: Mode, typed: object, nowMs: number, ready: Readiness = readiness(mode, typed)): Samples {
  const status = typed as Obj // read defensively, as the header says
  const b = new Builder()
  b.add('porter_ready', ready.ready ? 1 : 0)
  if (mode === 'controller') controller(b, status, nowMs)
  else agent(b, status)
  return b.out
}

function controller(b: Builder, st: Obj, nowMs: number): void {
  arr(st.peers).forEach((x, i) => {
    const p = obj(x)
    if (!p) return
    const peer = str(p.name) ?? str(p.address) ?? `peer${i}`
    const state = str(p.state)
    if (state !== undefined) {
      const states: string[] = [...BGP_STATES]
      if (!states.includes(state)) states.push(state)
      for (const s of states) b.add('porter_bgp_session_state', s === state ? 1 : 0, { peer, state: s })
    }
    b.add('porter_bgp_session_uptime_seconds', num(p.uptimeSeconds) ?? (state !== undefined ? 0 : undefined), { peer })
    b.add('porter_bgp_session_flaps_total', num(p.flaps), { peer })
    b.add('porter_bgp_prefixes_sent', num(p.prefixesSent), { peer })
    b.add('porter_bgp_prefixes_received', num(p.prefixesReceived), { peer })
    b.add('porter_bgp_updates_received_total', num(p.updatesReceived), { peer })
  })
  b.add('porter_bgp_refused_connections_total', num(st.refusedConnections))

  for (const x of arr(st.vips)) {
    const v = obj(x)
    const vip = str(v?.address)
    if (!v || !vip) continue
    b.add('porter_vip_announced', bool(v.announced), { vip })
    for (const y of arr(v.nextHops)) {
      const n = obj(y)
      const nexthop = str(n?.address)
      if (!n || !nexthop) continue
      const health = str(n.health)
      // "no check": always healthy; "pending": not checked often enough yet
      b.add('porter_vip_nexthop_healthy', health === undefined ? undefined : health === 'up' || health === 'no check' ? 1 : 0, { vip, nexthop })
      b.add('porter_vip_nexthop_announced', bool(n.announced), { vip, nexthop })
    }
  }

  const k = obj(st.kubernetes)
  if (!k) return
  // Services' VIPs: announced by definition while listed with next hops
  for (const x of arr(k.vips)) {
    const v = obj(x)
    const vip = str(v?.prefix)?.split('/')[0]
    if (!v || !vip || b.has('porter_vip_announced', { vip })) continue
    b.add('porter_vip_announced', arr(v.nextHops).length > 0 ? 1 : 0, { vip })
  }
  b.add('porter_kubernetes_connected', bool(k.connected))
  b.add('porter_kubernetes_synced', bool(k.synced))
  if (typeof k.connected === 'boolean' || k.staleSince !== undefined) {
    const since = typeof k.staleSince === 'string' ? Date.parse(k.staleSince) : NaN
    b.add('porter_kubernetes_stale_seconds', Number.isFinite(since) ? Math.max(0, Math.round((nowMs - since) / 1000)) : 0)
  }
  const leader = obj(k.leader)
  b.add('porter_kubernetes_leader', leader ? bool(leader.leader) : undefined)
  b.add('porter_kubernetes_services', num(k.services))
  b.add('porter_kubernetes_services_announced', num(k.announced))
  b.add('porter_ipam_allocated', num(k.allocated))
  for (const x of arr(k.pools)) {
    const p = obj(x)
    const pool = str(p?.name)
    if (!p || !pool) continue
    b.add('porter_ipam_pool_size', num(p.size), { pool })
    b.add('porter_ipam_pool_used', num(p.used), { pool })
  }
  const pass = obj(k.lastPass)
  if (pass) {
    b.add('porter_reconcile_duration_ms', num(pass.durationMs), { mode: 'controller' })
    b.add('porter_kubernetes_last_pass_writes', num(pass.writes))
    b.add('porter_kubernetes_last_pass_errors', num(pass.errors))
  }
}

function agent(b: Builder, st: Obj): void {
  const a = obj(st.agent)
  if (!a) return
  const c = obj(a.counters)
  if (c) {
    b.add('porter_agent_reconciles_total', num(c.reconciles))
    b.add('porter_agent_changes_total', num(c.changes))
    b.add('porter_agent_failures_total', num(c.failures))
    b.add('porter_agent_drift_repairs_total', num(c.driftRepairs))
  }
  const last = obj(a.lastReconcile)
  if (last) {
    b.add('porter_reconcile_duration_ms', num(last.durationMs), { mode: 'agent' })
    b.add('porter_agent_last_reconcile_ok', bool(last.ok))
  }
  if (Array.isArray(a.vips)) b.add('porter_agent_vips_programmed', a.vips.length)
  const k = obj(a.kubernetes)
  if (k) {
    b.add('porter_kubernetes_connected', bool(k.connected))
    b.add('porter_kubernetes_synced', bool(k.synced))
    b.add('porter_kubernetes_services', num(k.services))
    b.add('porter_kubernetes_services_announced', num(k.announced))
  }
}

/**
 * Whether the mode is ready, with a one-line reason when it is not. Pure.
 * controller: Kubernetes off, or Kubernetes synced (the config is in force once the service started);
 * agent: the last reconcile succeeded, and Kubernetes off or synced.
 */
export function readiness(mode: Mode, typed: object): Readiness {
  const st = typed as Obj
  if (mode === 'controller') {
    const k = obj(st.kubernetes)
    if (k && k.synced !== true) return { ready: false, reason: 'Kubernetes has not synced yet' }
    return { ready: true, reason: 'ok' }
  }
  const a = obj(st.agent)
  if (!a) return { ready: false, reason: 'the agent has not started' }
  const last = obj(a.lastReconcile)
  if (!last) return { ready: false, reason: 'no reconcile has run yet' }
  if (last.ok !== true) return { ready: false, reason: `the last reconcile failed${str(last.error) ? `: ${oneLine(str(last.error)!)}` : ''}` }
  const k = obj(a.kubernetes)
  if (k && k.synced !== true) return { ready: false, reason: 'Kubernetes has not synced yet' }
  return { ready: true, reason: 'ok' }
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').slice(0, 300)
