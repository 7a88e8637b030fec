// Shared pieces of the Porter-vs-router BGP tests: a two-namespace topology (router r, Porter p
// on one link), Porter's config, and FIB queries.
import { type Lab } from './netns.ts'
import { kernelRoute } from './fib.ts'
import { Bird } from './bird.ts'

export const ROUTER_AS = 65001
export const PORTER_AS = 65002
export const HOPS4 = ['192.0.2.11', '192.0.2.12', '192.0.2.13']
export const HOPS6 = ['2001:db8::11', '2001:db8::12', '2001:db8::13']

export async function routerAndPorter(lab: Lab): Promise<{ r: string; p: string }> {
  const r = await lab.ns('r')
  const p = await lab.ns('p')
  await lab.veth({ ns: r, ifname: 'eth0' }, { ns: p, ifname: 'eth0' })
  await lab.addr(r, 'eth0', '192.0.2.1/24')
  await lab.addr(r, 'eth0', '2001:db8::1/64')
  await lab.addr(p, 'eth0', '192.0.2.2/24')
  await lab.addr(p, 'eth0', '2001:db8::2/64')
  return { r, p }
}

export interface PorterYamlOptions {
  v4hops: string[]
  v6hops: string[]
  routerAs?: number
  /** extra fields for both peers, YAML flow-map text, e.g. 'export: { localPref: 200 }' */
  peerExtra?: string
  vipExport?: string
  /** more fields of the VIP, YAML text on one line, e.g. 'check: { type: tcp, port: 80 }' */
  vipExtra?: string
}

/** Porter config: peers bird4/bird6 (IPv4 and IPv6 sessions) and one dual-stack VIP. */
export function porterYaml(o: PorterYamlOptions): string {
  const extra = o.peerExtra ? `, ${o.peerExtra}` : ''
  return `
bgp:
  localAs: ${PORTER_AS}
  routerId: 192.0.2.2
  listenPort: 0
  holdTime: 9
  connectRetry: 1
  peers:
    - { name: r4, address: 192.0.2.1, peerAs: ${o.routerAs ?? ROUTER_AS}, families: [ipv4-unicast]${extra} }
    - { name: r6, address: "2001:db8::1", peerAs: ${o.routerAs ?? ROUTER_AS}, families: [ipv6-unicast]${extra} }
vips:
  - name: web
    address: [203.0.113.10, "2001:db8:100::10"]
    nextHops: [${[...o.v4hops, ...o.v6hops].map((h) => JSON.stringify(h)).join(', ')}]
    export: ${o.vipExport ?? '{ communities: ["65002:200"], largeCommunities: ["65002:1:2"], med: 50 }'}
${o.vipExtra ? `    ${o.vipExtra}\n` : ''}`
}

/**
 * The `bgp` section of a porter at `self` (AS PORTER_AS, graceful restart on, 120 s) with one
 * peer, the router 192.0.2.1 (AS ROUTER_AS). `extra`: more lines of the section (indented two
 * spaces, newline-ended); `peerExtra`: more fields of the peer, YAML flow-map text.
 */
export function bgpSection(self: string, extra = '', peerExtra = ''): string {
  return `bgp:
  localAs: ${PORTER_AS}
  routerId: ${self}
  listenPort: 0
  holdTime: 9
  connectRetry: 1
  gracefulRestart: { enabled: true, restartTime: 120 }
${extra}  peers:
    - { name: r, address: 192.0.2.1, peerAs: ${ROUTER_AS}${peerExtra ? `, ${peerExtra}` : ''} }
`
}

export interface RoutedLanOptions {
  /** the router's address on the LAN, a /24 (default 192.0.2.1) */
  lan?: string
  /** the client link: the router's and the client's address, a /24 (default 198.51.100.1, .2) */
  client?: [string, string]
  /** labels of the router's and the client's namespaces (default r, c) */
  names?: [string, string]
}

/**
 * A client behind a router, and a LAN: client -- router (forwarding, L4 ECMP hash: lab.ns sets
 * both) -- bridge `lan` holding one namespace per `members` entry (label -> its LAN address), in
 * that order (bridge port p0 is the router's, p1.. the members'). The client routes through the
 * router; a member whose label starts with "h" (a host) routes back through it too.
 */
export async function routedLan(lab: Lab, members: Record<string, string>, o: RoutedLanOptions = {}): Promise<{ r: string; c: string; ns: Record<string, string>; lan: string }> {
  const lanRouter = o.lan ?? '192.0.2.1'
  const [routerSide, clientSide] = o.client ?? ['198.51.100.1', '198.51.100.2']
  const [rName, cName] = o.names ?? ['r', 'c']
  const r = await lab.ns(rName)
  const c = await lab.ns(cName)
  const ns: Record<string, string> = {}
  for (const label of Object.keys(members)) ns[label] = await lab.ns(label)
  const lan = await lab.bridge('lan', [{ ns: r, ifname: 'eth0' }, ...Object.values(ns).map((n) => ({ ns: n, ifname: 'eth0' }))])
  await lab.veth({ ns: r, ifname: 'eth1' }, { ns: c, ifname: 'eth0' })
  await lab.addr(r, 'eth0', `${lanRouter}/24`)
  await lab.addr(r, 'eth1', `${routerSide}/24`)
  await lab.addr(c, 'eth0', `${clientSide}/24`)
  await lab.exec(c, ['ip', 'route', 'add', 'default', 'via', routerSide])
  for (const [label, address] of Object.entries(members)) {
    await lab.addr(ns[label]!, 'eth0', `${address}/24`)
    if (label.startsWith('h')) await lab.exec(ns[label]!, ['ip', 'route', 'add', 'default', 'via', lanRouter])
  }
  return { r, c, ns, lan }
}

/** Sorted next-hop gateways of `prefix` in the kernel FIB of `ns` (none when absent). */
export async function gateways(ns: string, prefix: string): Promise<string[]> {
  return (await kernelRoute(ns, prefix))?.gateways ?? []
}

/** BIRD 2 in `r` (router ID 192.0.2.1) waiting for Porter's two sessions: porter4 (IPv4) and porter6 (IPv6). */
export async function birdForPorter(lab: Lab, r: string): Promise<Bird> {
  const bird = new Bird(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4' },
    { address: '2001:db8::2', as: PORTER_AS, passive: true, name: 'porter6', families: ['ipv6'] },
  ] })
  return bird.start()
}
