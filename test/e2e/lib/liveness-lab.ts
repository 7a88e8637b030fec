// Node liveness lab (issue 11), shared by test/e2e/node-liveness.test.ts and
// test/bench/node-failover.ts. The demo's topology with the built dist/porter everywhere:
//
//   client c (192.0.2.2) -- (192.0.2.1) router r [BIRD 2, ECMP] (198.51.100.1) -- bridge lan
//       lan: ctl 198.51.100.10 [porter controller, or gobgpd as the reference speaker]
//            h1..hN 198.51.100.11.. [porter agent (agent.liveness with the controller), HTTP on :80]
//   VIP 203.0.113.10 on each host's lo, announced with the hosts as next hops.
//
// Faults: `cut(i)` takes the bridge port of host i down (the host's cable: the router keeps its
// own link and cannot tell), `freeze(i)` stops host i's agent (SIGSTOP); `heal(i)` undoes both.
import type { ChildProcess } from 'node:child_process'
import { type Lab, waitFor } from './netns.ts'
import { Bird } from './bird.ts'
import { Gobgp } from './gobgp.ts'
import { gateways, routedLan } from './bgp-lab.ts'
import { PorterProc } from './porter.ts'
import { httpServer, requests } from '../../../build/demo/scenario.ts'

export { requests }
export const VIP = '203.0.113.10'
export const ROUTER = '198.51.100.1'
export const CTL = '198.51.100.10'
const LAN = '198.51.100.0/24'
export const HOSTS = ['198.51.100.11', '198.51.100.12', '198.51.100.13']
const ROUTER_AS = 65001
const SPEAKER_AS = 65002

/** how the speaker learns that a host died: `bfd` node liveness, a `tcp` check at its defaults, `none` (gobgpd) */
export type Liveness = 'bfd' | 'tcp' | 'none'

export interface LivenessLabOptions {
  /** the built porter executable */
  binary: string
  hosts?: number
  liveness: Liveness
  /** the speaker: porter controller (default), or gobgpd fed the same route (no node liveness) */
  speaker?: 'porter' | 'gobgp'
  /** BFD timers of both sides, ms (default 100 x 3) */
  bfd?: { interval: number; multiplier: number }
  /** hosts (indexes) whose agent accepts the controller's session from the lan's CIDR instead of naming its address */
  acceptingHosts?: number[]
  /** BFD authentication (meticulous keyed SHA1, key ID 1): the controller's key file, and each host's (undefined: none) */
  auth?: { controller?: string; hosts: (string | undefined)[] }
  /** hosts (indexes) the router must have as next hops once the lab is up (default: all) */
  live?: number[]
}

export interface LivenessLab {
  r: string
  /** the bridge's namespace (host i's cable is port p<i+2>) */
  lan: string
  c: string
  ctl: string
  hosts: string[]
  addresses: string[]
  bird: Bird
  controller?: PorterProc
  gobgp?: Gobgp
  agents: PorterProc[]
  servers: ChildProcess[]
  /** sorted next hops of the VIP in the router's kernel FIB */
  fib(): Promise<string[]>
  waitFib(want: string[], what: string, timeoutMs?: number): Promise<string[]>
  cut(i: number): Promise<void>
  freeze(i: number): void
  heal(i: number): Promise<void>
}

/** an `auth` field for a BFD block, or nothing */
const authField = (keyFile: string | undefined) => (keyFile ? `, auth: { keyFile: ${keyFile} }` : '')

export function controllerYaml(o: { liveness: Liveness; hosts: string[]; bfd: { interval: number; multiplier: number }; keyFile?: string }): string {
  const check = o.liveness === 'bfd' ? `{ type: bfd, minTx: ${o.bfd.interval}, minRx: ${o.bfd.interval}, multiplier: ${o.bfd.multiplier}${authField(o.keyFile)} }`
    : o.liveness === 'tcp' ? '{ type: tcp, port: 80 }' : undefined
  return `
bgp:
  localAs: ${SPEAKER_AS}
  routerId: ${CTL}
  listenPort: 0
  holdTime: 9
  connectRetry: 1
  peers:
    - { name: router, address: ${ROUTER}, peerAs: ${ROUTER_AS} }
vips:
  - name: web
    address: ${VIP}
    nextHops: [${o.hosts.join(', ')}]
${check ? `    check: ${check}\n` : ''}`
}

export function agentYaml(o: { address: string; liveness: boolean; hosts: string[]; bfd: { interval: number; multiplier: number }; accept?: boolean; keyFile?: string }): string {
  return `
vips:
  - { name: web, address: ${VIP}, nextHops: [${o.hosts.join(', ')}] }
agent:
  interface: lo
  firewall: none
  nodeAddresses: [${o.address}]
${o.liveness ? `  liveness: { peers: [${o.accept ? LAN : CTL}], minTx: ${o.bfd.interval}, minRx: ${o.bfd.interval}, multiplier: ${o.bfd.multiplier}${authField(o.keyFile)} }\n` : ''}`
}

/** Build the lab and wait until the router has the VIP with every host as a next hop. */
export async function startLivenessLab(lab: Lab, o: LivenessLabOptions): Promise<LivenessLab> {
  const n = o.hosts ?? 3
  const addresses = HOSTS.slice(0, n)
  const bfd = o.bfd ?? { interval: 100, multiplier: 3 }
  // bridge ports: p0 router, p1 ctl, p2.. the hosts
  const { r, c, ns, lan } = await routedLan(lab, { ctl: CTL, ...Object.fromEntries(addresses.map((a, i) => [`h${i + 1}`, a])) },
    { lan: ROUTER, client: ['192.0.2.1', '192.0.2.2'], names: ['router', 'client'] })
  const ctl = ns.ctl!
  const hosts = addresses.map((_, i) => ns[`h${i + 1}`]!)
  const speaker = o.speaker ?? 'porter'
  const ibgp = speaker === 'gobgp' // gobgpd keeps a third-party next hop on iBGP only
  const bird = new Bird(lab, { ns: r, as: ROUTER_AS, routerId: ROUTER, peers: [{ address: CTL, as: ibgp ? ROUTER_AS : SPEAKER_AS, passive: true, name: 'speaker', holdTime: 9 }] })
  await bird.start()

  const servers = hosts.map((h, i) => httpServer(lab, h, `h${i + 1}`))
  const agents: PorterProc[] = []
  for (const [i, h] of hosts.entries()) {
    const a = new PorterProc(lab, h, agentYaml({ address: addresses[i]!, liveness: o.liveness === 'bfd', hosts: addresses, bfd, accept: o.acceptingHosts?.includes(i), keyFile: o.auth?.hosts[i] }), 'agent', o.binary)
    agents.push(a)
    await a.start()
  }
  for (const h of hosts) await waitFor(async () => (await lab.exec(h, ['ip', '-4', 'addr', 'show', 'dev', 'lo'])).stdout.includes(VIP), { what: `VIP on ${h} lo` })

  let controller: PorterProc | undefined
  let gobgp: Gobgp | undefined
  if (speaker === 'porter') {
    controller = new PorterProc(lab, ctl, controllerYaml({ liveness: o.liveness, hosts: addresses, bfd, keyFile: o.auth?.controller }), 'controller', o.binary)
    await controller.start()
  } else {
    gobgp = new Gobgp(lab, { ns: ctl, as: ROUTER_AS, routerId: CTL, peers: [{ address: ROUTER, as: ROUTER_AS, passive: false, addPathTx: true, addPathRx: false, holdTime: 9 }] })
    await gobgp.start()
    for (const [i, a] of addresses.entries()) await gobgp.addRoute(`${VIP}/32`, { nextHop: a, pathId: i + 1 })
  }
  const fib = () => gateways(r, `${VIP}/32`)
  const sorted = addresses.filter((_, i) => o.live?.includes(i) ?? true).sort()
  const waitFib = (want: string[], what: string, timeoutMs = 60_000) =>
    waitFor(async () => { const g = await fib(); return g.join() === [...want].sort().join() ? g : undefined }, { timeoutMs, intervalMs: 20, what })
  await waitFib(sorted, `the router's FIB: ${VIP} via ${sorted.join(', ')}`)
  return {
    r, lan, c, ctl, hosts, addresses, bird, controller, gobgp, agents, servers, fib, waitFib,
    cut: async (i) => { await lab.exec(lan, ['ip', 'link', 'set', `p${i + 2}`, 'down']) },
    freeze: (i) => { process.kill(agents[i]!.child!.pid!, 'SIGSTOP') },
    heal: async (i) => {
      try { process.kill(agents[i]!.child!.pid!, 'SIGCONT') } catch { /* gone */ }
      await lab.exec(lan, ['ip', 'link', 'set', `p${i + 2}`, 'up'])
    },
  }
}
