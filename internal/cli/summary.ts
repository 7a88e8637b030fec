import type { Config } from '../config/index.ts'

/** A few human lines describing a valid config (porter validate). Never prints secrets. */
export function summarizeConfig(c: Config): string {
  const lines: string[] = []
  if (c.bgp) {
    const gs = c.bgp.gracefulShutdown
    lines.push(`bgp: AS ${c.bgp.localAs}, router id ${c.bgp.routerId}, listening on ${c.bgp.listenAddress} port ${c.bgp.listenPort}, ${c.bgp.peers.length} peer(s)${gs?.enabled ? `, graceful shutdown (wait ${gs.wait} ms)` : ''}`)
    for (const p of c.bgp.peers) {
      lines.push(`  peer ${p.name ?? p.address}: ${p.address} AS ${p.peerAs}${p.passive ? ' passive' : ''}${p.passwordFile ? ' md5' : ''}${p.addPath ? ' add-path' : ''}`)
    }
  } else lines.push('bgp: not configured (controller mode unavailable)')
  lines.push(`vips: ${c.vips.length}`)
  for (const v of c.vips) {
    const addrs = v.address.join(', ')
    lines.push(`  ${v.name ?? addrs}: ${addrs} via ${v.nextHops.map((n) => n.address).join(', ') || '(no next hops)'}`)
  }
  const nl = c.kubernetes.nodeLiveness
  lines.push(`kubernetes: ${c.kubernetes.enabled ? (c.kubernetes.inCluster ? 'in-cluster' : `kubeconfig ${c.kubernetes.kubeconfig ?? '(default)'}`) : 'disabled'}${c.kubernetes.enabled && nl ? `, node liveness (BFD ${nl.minTx}/${nl.minRx} ms x ${nl.multiplier}, agents on port ${nl.port}${nl.auth ? ', authenticated' : ''})` : ''}${c.kubernetes.enabled && c.kubernetes.drainCordoned?.enabled ? `, cordoned nodes drained after ${c.kubernetes.drainCordoned.wait} ms` : ''}${c.kubernetes.enabled && c.kubernetes.drainTerminating?.enabled ? `, terminating endpoints drained for at most ${c.kubernetes.drainTerminating.wait} ms` : ''}${c.kubernetes.enabled && c.kubernetes.bgpPeers ? ', per-node BgpPeers (agent)' : ''}`)
  const l = c.agent.liveness
  lines.push(`agent: interface ${c.agent.interface}, firewall ${c.agent.firewall}, node addresses ${c.agent.nodeAddresses.join(', ') || '(none)'}${l ? `, liveness with ${l.peers.join(', ')} (BFD ${l.minTx}/${l.minRx} ms x ${l.multiplier}, port ${l.port}${l.auth ? ', authenticated' : ''})` : ''}`)
  lines.push(`admin: socket ${c.admin.socket ?? '(mode default)'}${c.admin.metricsAddress ? `, metrics ${c.admin.metricsAddress}` : ''}`)
  return lines.join('\n')
}
