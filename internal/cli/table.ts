// Plain-text tables for `porter status`. Pure.
import type { KubeControllerStatus } from '../controller/kube.ts'
export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined ? '-' : String(c))))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  return cells.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')
}

type Obj = Record<string, unknown>
const fmtDur = (s: unknown) => {
  if (typeof s !== 'number') return undefined
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60)
  return h ? `${h}h${m}m` : m ? `${m}m${sec}s` : `${sec}s`
}

/** Render the status object a running porter returns over its admin socket. */
export function renderStatus(st: Obj): string {
  const out: string[] = []
  out.push(`porter ${st.version} (${st.commit}) ${st.mode}, pid ${st.pid}, up ${fmtDur(st.uptimeSeconds)}, config ${st.configFile}`)
  const lr = st.lastReload as Obj | undefined
  if (lr) out.push(`last reload ${lr.at}: ${lr.ok ? 'ok' : `FAILED: ${lr.error}`}`)
  const peers = st.peers as Obj[] | undefined
  if (peers) {
    out.push('', 'PEERS')
    out.push(table(['PEER', 'AS', 'STATE', 'UPTIME', 'SENT', 'RECEIVED', 'ECMP', 'LAST ERROR'],
      peers.map((p) => [p.name as string ?? p.address as string, p.peerAs as number, p.state as string, fmtDur(p.uptimeSeconds), p.prefixesSent as number, p.prefixesReceived as number, p.ecmp as string, p.lastError as string])))
  }
  const vips = st.vips as Obj[] | undefined
  if (vips) {
    out.push('', 'VIPS')
    const rows: (string | undefined)[][] = []
    for (const v of vips) {
      const nhs = (v.nextHops as Obj[] | undefined) ?? []
      if (nhs.length === 0) rows.push([v.address as string, '-', '-', v.announced ? 'yes' : 'no'])
      for (const nh of nhs) rows.push([v.address as string, nh.address as string, nh.health as string, nh.announced ? 'yes' : 'no'])
    }
    out.push(table(['VIP', 'NEXT HOP', 'HEALTH', 'ANNOUNCED'], rows))
  }
  const kube = st.kubernetes as (KubeControllerStatus & { vips: { prefix: string; nextHops: string[] }[] }) | undefined
  if (kube) {
    out.push('', 'KUBERNETES')
    const leader = 'disabled' in kube.leader ? 'leader election off' : kube.leader.leader ? 'LEADER' : `follower (leader ${kube.leader.holder ?? 'unknown'})`
    const na = Object.entries(kube.notAnnounced).map(([r, n]) => `${r} ${n}`).join(', ')
    out.push(`${kube.server}: ${kube.connected ? 'connected' : `DISCONNECTED${kube.staleSince ? ` since ${kube.staleSince}, announcing the last known state` : ''}`}${kube.synced ? '' : ', not synced yet'}; ${leader}`)
    out.push(`${kube.services} Porter service(s), ${kube.announced} announced${na ? ` (not: ${na})` : ''}, ${kube.allocated} allocated by this replica${kube.lastPass ? `; last pass ${kube.lastPass.at} ${kube.lastPass.durationMs} ms` : ''}`)
    if (kube.pools.length) out.push(table(['POOL', 'SIZE', 'USED', 'PROBLEM'], kube.pools.map((p) => [p.name, p.size, p.used, p.error])))
    if (kube.vips.length) out.push(table(['SERVICE VIP', 'NEXT HOPS'], kube.vips.map((v) => [v.prefix, v.nextHops.join(', ')])))
  }
  const agent = st.agent as Obj | undefined
  if (agent) {
    out.push('', 'AGENT')
    const last = agent.lastReconcile as Obj | undefined
    out.push(`firewall ${agent.backend ?? '-'}, interface ${agent.interface ?? '-'}, last reconcile ${last ? `${last.at}: ${last.ok ? 'ok' : `FAILED: ${last.error}`}` : '-'}`)
    const c = agent.counters as Obj | undefined
    if (c) out.push(`changes ${c.changes ?? 0}, failures ${c.failures ?? 0}, drift repairs ${c.driftRepairs ?? 0}`)
    const k = agent.kubernetes as Obj | undefined
    if (k) {
      const err = k.lastError as Obj | undefined
      const reasons = Object.entries((k.reasons as Record<string, number> | undefined) ?? {}).map(([r, n]) => `${r} ${n}`).join(', ')
      out.push(`kubernetes ${k.server} as node ${k.nodeName}: ${k.connected ? 'connected' : 'DISCONNECTED'}${k.synced ? '' : ', not synced yet'}; ${k.services} LoadBalancer service(s), ${k.announced} announced here${reasons ? ` (not: ${reasons})` : ''}${err ? `; last error ${err.at}: ${err.message}` : ''}`)
    }
    const programmed = agent.vips as string[] | undefined
    if (programmed) out.push(table(['PROGRAMMED VIP'], programmed.map((v) => [v])))
  }
  return out.join('\n')
}
