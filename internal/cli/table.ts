// Plain-text tables for `porter status`. Pure.
import type { DaemonStatus } from '../admin/index.ts'
import type { BfdPeerStatus } from '../admin/status.ts'

export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined ? '-' : String(c))))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  return cells.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')
}

const fmtDur = (s: number | undefined) => {
  if (typeof s !== 'number') return undefined
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60)
  return h ? `${h}h${m}m` : m ? `${m}m${sec}s` : `${sec}s`
}

/** A BFD session in one cell: its state, and why when it is not Up */
const bfdCell = (b: BfdPeerStatus): string =>
  b.error ? `error: ${b.error}` : b.state === 'Up' ? `Up ${b.txIntervalMs}ms/${b.detectTimeMs}ms` : b.diag !== 'No Diagnostic' ? `${b.state} (${b.diag})` : b.state

/** Render the status a running porter returns over its admin socket. */
export function renderStatus(st: DaemonStatus): string {
  const out: string[] = []
  out.push(`porter ${st.version} (${st.commit}) ${st.mode}, pid ${st.pid}, up ${fmtDur(st.uptimeSeconds)}, config ${st.configFile}`)
  const lr = st.lastReload
  if (lr) out.push(`last reload ${lr.at}: ${lr.ok ? 'ok' : `FAILED: ${lr.error}`}`)
  if (st.bgpProblem) out.push(`BGP: ${st.bgpProblem}`)
  if (st.peers) {
    out.push('', 'PEERS')
    // a BFD column when some peer runs BFD
    const bfd = st.peers.some((p) => p.bfd)
    out.push(table(['PEER', 'AS', 'STATE', ...(bfd ? ['BFD'] : []), 'UPTIME', 'SENT', 'RECEIVED', 'ECMP', 'LAST ERROR'],
      st.peers.map((p) => [p.name ?? p.address, p.peerAs, p.state, ...(bfd ? [p.bfd ? bfdCell(p.bfd) : undefined] : []), fmtDur(p.uptimeSeconds), p.prefixesSent, p.prefixesReceived, p.ecmp, p.lastError])))
  }
  if (st.vips) {
    out.push('', 'VIPS')
    const rows: (string | undefined)[][] = []
    let notSent = false
    // ANNOUNCED: "yes" only when some peer has it; "not sent" when Porter announces it but no peer got it
    const announced = (wanted: boolean, peers: string[] | undefined): string => {
      if (!wanted) return 'no'
      if (peers === undefined || peers.length > 0) return 'yes' // undefined: a porter without per-peer status
      notSent = true
      return 'not sent'
    }
    const names = (peers: string[] | undefined) => (peers?.length ? peers.join(',') : undefined)
    // a BFD column when some next hop has a bfd check (node liveness)
    const bfd = st.vips.some((v) => v.nextHops.some((nh) => nh.bfd))
    for (const v of st.vips) {
      if (v.nextHops.length === 0) rows.push([v.address, '-', '-', ...(bfd ? ['-'] : []), announced(v.announced, v.peers), names(v.peers)])
      for (const nh of v.nextHops) rows.push([v.address, nh.address, nh.health, ...(bfd ? [nh.bfd ? bfdCell(nh.bfd) : undefined] : []), announced(nh.announced, nh.peers), names(nh.peers)])
    }
    out.push(table(['VIP', 'NEXT HOP', 'HEALTH', ...(bfd ? ['BFD'] : []), 'ANNOUNCED', 'PEERS'], rows))
    if (notSent) out.push('not sent: healthy, but no peer has this next hop (no session, or no ADD-PATH: see ECMP under PEERS)')
  }
  const kube = st.kubernetes
  if (kube) {
    out.push('', 'KUBERNETES')
    const leader = 'disabled' in kube.leader ? 'leader election off' : kube.leader.leader ? 'LEADER' : `follower (leader ${kube.leader.holder ?? 'unknown'})`
    const na = Object.entries(kube.notAnnounced).map(([r, n]) => `${r} ${n}`).join(', ')
    out.push(`${kube.server}: ${kube.connected ? 'connected' : `DISCONNECTED${kube.staleSince ? ` since ${kube.staleSince}, announcing the last known state` : ''}`}${kube.synced ? '' : ', not synced yet'}; ${leader}`)
    out.push(`${kube.services} Porter service(s), ${kube.announced} announced${na ? ` (not: ${na})` : ''}, ${kube.allocated} allocated by this replica${kube.lastPass ? `; last pass ${kube.lastPass.at} ${kube.lastPass.durationMs} ms` : ''}`)
    if (kube.pools.length) out.push(table(['POOL', 'SIZE', 'USED', 'PROBLEM'], kube.pools.map((p) => [p.name, p.size, p.used, p.error])))
    // with kubernetes.nodeLiveness: the next hops left out because their node's BFD session is not Up
    const live = kube.nodeLiveness !== undefined
    if (kube.vips.length) out.push(table(['SERVICE VIP', 'NEXT HOPS', 'NOT SENT TO ANY PEER', ...(live ? ['NOT LIVE (BFD)'] : [])], kube.vips.map((v) => [v.prefix, v.nextHops.join(', '), v.notSent?.join(', '), ...(live ? [v.notLive?.join(', ')] : [])])))
    if (kube.nodeLiveness?.length) out.push(table(['NODE', 'BFD', 'DOWNS'], kube.nodeLiveness.map((n) => [n.address, bfdCell(n), n.downs])))
  }
  const agent = st.agent
  if (agent) {
    out.push('', 'AGENT')
    const last = agent.lastReconcile
    out.push(`firewall ${agent.backend ?? '-'}, interface ${agent.interface ?? '-'}, mode ${agent.mode}, last reconcile ${last ? `${last.at}: ${last.ok ? 'ok' : `FAILED: ${last.error}`}` : '-'}`)
    const c = agent.counters
    out.push(`changes ${c.changes}, failures ${c.failures}, drift repairs ${c.driftRepairs}`)
    const k = agent.kubernetes
    if (k) {
      const err = k.lastError
      const reasons = Object.entries(k.reasons).map(([r, n]) => `${r} ${n}`).join(', ')
      out.push(`kubernetes ${k.server} as node ${k.nodeName}: ${k.connected ? 'connected' : 'DISCONNECTED'}${k.synced ? '' : ', not synced yet'}; ${k.services} LoadBalancer service(s), ${k.announced} announced here${reasons ? ` (not: ${reasons})` : ''}${err ? `; last error ${err.at}: ${err.message}` : ''}`)
    }
    if (agent.liveness) out.push(table(['LIVENESS PEER', 'BFD', 'DOWNS'], agent.liveness.map((l) => [`${l.address}${l.accepted ? ' (accepted)' : ''}`, bfdCell(l), l.downs])))
    out.push(table(['PROGRAMMED VIP'], agent.vips.map((v) => [v])))
  }
  return out.join('\n')
}
