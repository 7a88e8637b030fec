// The binary benchmark's config (test/bench/binary.ts): `n` VIPs as a user with many would write
// them, one `vips` entry whose `address:` is a list (block style, one address a line), one next
// hop, and the BGP section for one router. `hosts` picks the addresses (IPv4 /32 from
// 198.18.0.0/15 by default, see prefixes.ts).
import { hostAt } from './prefixes.ts'

export interface VipConfigSpec {
  n: number
  localAs: number
  routerId: string
  peerAddress: string
  peerAs: number
  nextHop: string
  /** the listen address (the speaker's own) and whether Porter waits for the router */
  listenAddress?: string
  passive?: boolean
  addPath?: boolean
  holdTime?: number
  adminSocket?: string
  /** address i (default: the i-th /32 of 198.18.0.0/15) */
  host?: (i: number) => string
  /** first address index (a config that differs from another by one VIP) */
  offset?: number
}

export function vipConfig(s: VipConfigSpec): string {
  const host = s.host ?? hostAt
  const off = s.offset ?? 0
  const lines: string[] = []
  if (s.adminSocket) lines.push(`admin: { socket: ${s.adminSocket} }`)
  lines.push('shutdownTimeout: 5s', 'log: { level: info }', 'bgp:', `  localAs: ${s.localAs}`, `  routerId: ${s.routerId}`)
  if (s.listenAddress) lines.push(`  listenAddress: ${s.listenAddress}`)
  lines.push(`  holdTime: ${s.holdTime ?? 90}`, '  gracefulRestart: { enabled: false }', '  peers:')
  lines.push(`    - { address: ${s.peerAddress}, peerAs: ${s.peerAs}, passive: ${s.passive ?? true}, addPath: ${s.addPath ?? false} }`)
  lines.push('vips:')
  if (s.n > 0) {
    lines.push('  - name: bench', `    nextHops: [${s.nextHop}]`, '    address:')
    for (let i = 0; i < s.n; i++) lines.push(`      - ${host(off + i)}`)
  } else lines[lines.length - 1] = 'vips: []'
  return lines.join('\n') + '\n'
}
