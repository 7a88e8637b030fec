// Capture golden BGP byte vectors from real sessions between BIRD 2, FRR and GoBGP.
// Run by hand (root; not part of npm test):
//
//   npx tsx test/golden/capture.ts                 # run every scenario, then write the corpus
//   npx tsx test/golden/capture.ts --only bird-gobgp-v4
//   npx tsx test/golden/capture.ts --process-only  # re-extract from the pcaps of an earlier run
//
// Each scenario runs two routers in a lab (two namespaces joined by a veth), records the session
// with tcpdump, and drives it through the events we want on the wire. Afterwards every pcap is
// read (test/golden/lib/pcap.ts), each TCP direction is reassembled, split into BGP messages and
// annotated independently of Porter's codec (test/golden/lib/annotate.ts). A non-redundant set
// (first message per sender and feature signature) is written to test/golden/<sender>/<name>.json.
// `expected` fields already in a file are kept (they are reviewed by hand).

import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLab, waitFor, type Lab } from '../e2e/lib/netns.ts'
import { Bird } from '../e2e/lib/bird.ts'
import { Frr } from '../e2e/lib/frr.ts'
import { Gobgp } from '../e2e/lib/gobgp.ts'
import { tcpdump } from '../e2e/lib/tcpdump.ts'
import { readPcap, reassemble, splitBgp, toHex } from './lib/pcap.ts'
import { annotate, type GoldenCtx } from './lib/annotate.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
const PCAP_DIR = join(HERE, '..', '.tmp', 'golden-pcap')

type RouterName = 'bird' | 'frr' | 'gobgp'
interface Meta { scenario: string; endpoints: Record<string, RouterName>; notes: string[] }

function versions(): Record<RouterName, string> {
  const bird = execFileSync('bird', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const birdV = /(\d+\.\d+\.\d+)/.exec(bird)?.[1]
    ?? /(\d+\.\d+\.\d+)/.exec(execFileSync('sh', ['-c', 'bird --version 2>&1'], { encoding: 'utf8' }))?.[1] ?? '?'
  const frrV = /(\d+\.\d+(\.\d+)?)/.exec(execFileSync('/usr/lib/frr/bgpd', ['-v'], { encoding: 'utf8' }))?.[1] ?? '?'
  const gobgpV = /(\d+\.\d+\.\d+)/.exec(execFileSync('gobgpd', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?'
  return { bird: `bird ${birdV}`, frr: `frr ${frrV}`, gobgp: `gobgp ${gobgpV}` }
}

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

/** Two namespaces a, b on one veth: a = .1 / ::1, b = .2 (+ .3) / ::2. */
async function pair(lab: Lab): Promise<{ a: string; b: string }> {
  const a = await lab.ns('a')
  const b = await lab.ns('b')
  await lab.veth({ ns: a, ifname: 'eth0' }, { ns: b, ifname: 'eth0' })
  await lab.addr(a, 'eth0', '192.0.2.1/24')
  await lab.addr(a, 'eth0', '2001:db8::1/64')
  await lab.addr(b, 'eth0', '192.0.2.2/24')
  await lab.addr(b, 'eth0', '192.0.2.3/24')
  await lab.addr(b, 'eth0', '2001:db8::2/64')
  await lab.addr(b, 'eth0', '2001:db8::3/64')
  return { a, b }
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  await waitFor(fn, { timeoutMs, intervalMs: 250, what })
}

const GOBGP_AS = 4200000002 // > 65535: AS_TRANS in OPEN, 4-octet AS numbers in paths

type Scenario = (lab: Lab, pcap: string, notes: string[]) => Promise<Record<string, RouterName>>

const scenarios: Record<string, Scenario> = {
  /** eBGP IPv4, 4-octet AS, ADD-PATH both ways, GR, extended messages, BGP role/OTC, MD5,
   *  communities/large/extended/MED/aggregator, route refresh both ways, GR restart of GoBGP,
   *  path withdrawal, Cease/admin shutdown with a message. */
  'bird-gobgp-v4': async (lab, pcap, notes) => {
    const { a, b } = await pair(lab)
    const cap = await tcpdump(lab, a, 'eth0', pcap)
    const bird = new Bird(lab, {
      ns: a, as: 65001, routerId: '192.0.2.1',
      extra: [
        'protocol static st4 { ipv4; route 198.51.100.0/24 blackhole; route 198.51.100.128/25 blackhole; }',
      ],
      peers: [{
        name: 'gobgp', address: '192.0.2.2', as: GOBGP_AS, passive: true, password: 'golden-md5',
        addPathRx: true, addPathTx: true, gracefulRestart: true, extendedMessages: true,
        extra: ['local role provider;'],
        exportFilter: 'if net = 198.51.100.0/24 then { bgp_med = 50; bgp_community.add((65001,100)); ' +
          'bgp_community.add((65001,200)); bgp_large_community.add((65001,1,2)); ' +
          'bgp_ext_community.add((rt,65001,100)); } accept;',
      }],
    })
    await bird.start()
    const gobgp = new Gobgp(lab, {
      ns: b, as: GOBGP_AS, routerId: '192.0.2.2', listenPort: -1,
      peers: [{ address: '192.0.2.1', as: 65001, passive: false, localAddress: '192.0.2.2', password: 'golden-md5', addPathRx: true, addPathTx: true, gracefulRestart: true }],
    })
    await gobgp.start()
    await bird.waitEstablished()
    await gobgp.waitEstablished()
    await until('BIRD routes at GoBGP', async () => (await gobgp.routes('ipv4')).length >= 2)
    await gobgp.addRoute('203.0.113.0/24', {
      nextHop: '192.0.2.2', pathId: 1, origin: 'igp', asPath: [65100, 4200000100], med: 10,
      communities: ['65100:1'], largeCommunities: ['4200000002:1:1'],
    })
    await gobgp.addRoute('203.0.113.0/24', { nextHop: '192.0.2.3', pathId: 2, origin: 'egp' })
    await gobgp.addRoute('203.0.113.64/26', {
      nextHop: '192.0.2.2', pathId: 7, origin: 'incomplete', aggregator: `${GOBGP_AS}:192.0.2.2`,
    })
    await until('3 GoBGP paths at BIRD', async () => (await bird.routes(['protocol', 'gobgp'])).length >= 3)
    notes.push('gobgp softresetin -> ROUTE-REFRESH from GoBGP')
    await gobgp.softResetIn('192.0.2.1', 'ipv4')
    await sleep(1000)
    notes.push('birdc reload in -> ROUTE-REFRESH from BIRD')
    await bird.birdc(['reload', 'in', 'gobgp'])
    await sleep(1000)
    notes.push('gobgp del path id 2 -> withdrawal with path id')
    await gobgp.delRoute('203.0.113.0/24', 2)
    await until('path 2 withdrawn at BIRD', async () => (await bird.routes(['protocol', 'gobgp'])).length === 2)
    notes.push('gobgpd restarted with -r (GR restarting bit)')
    await gobgp.stop()
    await gobgp.start(['-r'])
    await bird.waitEstablished()
    await gobgp.addRoute('203.0.113.0/24', { nextHop: '192.0.2.2', pathId: 1 })
    await sleep(3000)
    notes.push('birdc disable with shutdown message -> Cease/Administrative Shutdown')
    await bird.birdc(['disable', 'gobgp', '"golden: maintenance"'])
    await sleep(1500)
    await cap.stop()
    return { '192.0.2.1': 'bird', '192.0.2.2': 'gobgp' }
  },

  /** eBGP IPv6 on global addresses: MP_REACH with link-local next hop, ADD-PATH, MP_UNREACH, EoR. */
  'bird-gobgp-v6': async (lab, pcap, notes) => {
    const { a, b } = await pair(lab)
    const cap = await tcpdump(lab, a, 'eth0', pcap)
    const bird = new Bird(lab, {
      ns: a, as: 65001, routerId: '192.0.2.1',
      extra: ['protocol static st6 { ipv6; route 2001:db8:200::/48 blackhole; route 2001:db8:201::/48 blackhole; }'],
      peers: [{
        name: 'gobgp6', address: '2001:db8::2', as: GOBGP_AS, passive: true, addPathRx: true, addPathTx: true, gracefulRestart: true,
        exportFilter: 'if net = 2001:db8:200::/48 then { bgp_large_community.add((65001,6,6)); } accept;',
      }],
    })
    await bird.start()
    const gobgp = new Gobgp(lab, {
      ns: b, as: GOBGP_AS, routerId: '192.0.2.2', listenPort: -1,
      peers: [{ address: '2001:db8::1', as: 65001, passive: false, localAddress: '2001:db8::2', addPathRx: true, addPathTx: true, gracefulRestart: true }],
    })
    await gobgp.start()
    await bird.waitEstablished()
    await gobgp.waitEstablished()
    await until('BIRD v6 routes at GoBGP', async () => (await gobgp.routes('ipv6')).length >= 2)
    await gobgp.addRoute('2001:db8:100::/48', { nextHop: '2001:db8::2', pathId: 1, communities: ['65100:6'] })
    await gobgp.addRoute('2001:db8:100::/48', { nextHop: '2001:db8::3', pathId: 2 })
    await until('2 GoBGP v6 paths at BIRD', async () => (await bird.routes(['protocol', 'gobgp6'])).length >= 2)
    notes.push('gobgp del path 2 -> MP_UNREACH with path id')
    await gobgp.delRoute('2001:db8:100::/48', 2)
    await until('v6 path withdrawn at BIRD', async () => (await bird.routes(['protocol', 'gobgp6'])).length === 1)
    notes.push('BIRD withdraws a static route (static disabled) -> MP_UNREACH from BIRD')
    await bird.birdc(['disable', 'st6'])
    await until('BIRD v6 routes withdrawn at GoBGP', async () => (await gobgp.routes('ipv6')).length === 1)
    notes.push('gobgpd shutdown neighbor with message')
    await gobgp.shutdownNeighbor('2001:db8::1', 'golden: gobgp going away')
    await sleep(1500)
    await cap.stop()
    return { '2001:db8::1': 'bird', '2001:db8::2': 'gobgp' }
  },

  /** BIRD without 4-octet AS (enable as4 off) vs GoBGP AS 65002 whose routes carry 4-octet ASNs:
   *  GoBGP (NEW) -> BIRD (OLD) sends AS_TRANS in AS_PATH/AGGREGATOR plus AS4_PATH, AS4_AGGREGATOR. */
  'bird-gobgp-as2': async (lab, pcap, notes) => {
    const { a, b } = await pair(lab)
    const cap = await tcpdump(lab, a, 'eth0', pcap)
    const bird = new Bird(lab, {
      ns: a, as: 65001, routerId: '192.0.2.1',
      extra: ['protocol static st4 { ipv4; route 198.51.100.0/24 blackhole; }'],
      peers: [{ name: 'gobgp', address: '192.0.2.2', as: 65002, passive: true, addPathRx: false, extra: ['enable as4 off;'] }],
    })
    await bird.start()
    const gobgp = new Gobgp(lab, {
      ns: b, as: 65002, routerId: '192.0.2.2', listenPort: -1,
      peers: [{ address: '192.0.2.1', as: 65001, passive: false, localAddress: '192.0.2.2', addPathRx: false }],
    })
    await gobgp.start()
    await bird.waitEstablished()
    await gobgp.waitEstablished()
    await gobgp.addRoute('203.0.113.0/24', {
      nextHop: '192.0.2.2', asPath: [4200000100, 65100], aggregator: '4200000002:192.0.2.2',
    })
    await until('GoBGP route at BIRD', async () => (await bird.routes(['protocol', 'gobgp'])).length >= 1)
    await until('BIRD route at GoBGP', async () => (await gobgp.routes('ipv4')).some(r => r.prefix === '198.51.100.0/24'))
    notes.push('gobgp del -> plain IPv4 withdrawal (no ADD-PATH)')
    await gobgp.delRoute('203.0.113.0/24')
    await until('route withdrawn at BIRD', async () => (await bird.routes(['protocol', 'gobgp'])).length === 0)
    await sleep(1000)
    await cap.stop()
    return { '192.0.2.1': 'bird', '192.0.2.2': 'gobgp' }
  },

  /** FRR with `dont-capability-negotiate` (OPEN without optional parameters) vs GoBGP AS 4200000002:
   *  GoBGP sends 2-octet AS_PATH with AS_TRANS and AS4_PATH to the OLD speaker. */
  'frr-gobgp-nocap': async (lab, pcap, notes) => {
    const { a, b } = await pair(lab)
    const cap = await tcpdump(lab, a, 'eth0', pcap)
    const frr = new Frr(lab, {
      ns: a, as: 65003, routerId: '192.0.2.1',
      networks: [{ prefix: '198.51.100.0/24' }],
      peers: [{ address: '192.0.2.2', as: GOBGP_AS, passive: true, extra: ['dont-capability-negotiate'] }],
    })
    await frr.start()
    const gobgp = new Gobgp(lab, {
      ns: b, as: GOBGP_AS, routerId: '192.0.2.2', listenPort: -1,
      peers: [{ address: '192.0.2.1', as: 65003, passive: false, localAddress: '192.0.2.2', addPathRx: false }],
    })
    await gobgp.start()
    await frr.waitEstablished()
    await gobgp.waitEstablished()
    await gobgp.addRoute('203.0.113.0/24', { nextHop: '192.0.2.2', asPath: [65100, 4200000100], med: 7 })
    await until('GoBGP route at FRR', async () => (await frr.routes('ipv4')).some(r => r.prefix === '203.0.113.0/24'))
    await until('FRR route at GoBGP', async () => (await gobgp.routes('ipv4')).some(r => r.prefix === '198.51.100.0/24'))
    notes.push('no capabilities: FRR OPEN has no optional parameters')
    await sleep(1000)
    await cap.stop()
    return { '192.0.2.1': 'frr', '192.0.2.2': 'gobgp' }
  },

  /** FRR vs GoBGP IPv4: FRR OPEN (FQDN, enhanced RR, ...), FRR UPDATEs with ADD-PATH tx and
   *  community/large/ext/MED, route refresh both ways, FRR withdrawal, FRR shutdown message. */
  'frr-gobgp-v4': async (lab, pcap, notes) => {
    const { a, b } = await pair(lab)
    const cap = await tcpdump(lab, a, 'eth0', pcap)
    const frr = new Frr(lab, {
      ns: a, as: 65003, routerId: '192.0.2.1', gracefulRestart: true,
      preamble: [
        'route-map SETATTR permit 10',
        ' set community 65003:100 65003:200',
        ' set large-community 65003:1:2',
        ' set metric 70',
        ' set extcommunity rt 65003:100',
        ' set origin incomplete',
        ' set atomic-aggregate',
        ' set aggregator as 65003 192.0.2.1',
        'exit',
      ],
      networks: [{ prefix: '198.51.100.0/24', routeMap: 'SETATTR' }, { prefix: '198.51.100.128/25' }],
      peers: [{ address: '192.0.2.2', as: GOBGP_AS, passive: true, addPathTx: true, gracefulRestart: true }],
    })
    await frr.start()
    const gobgp = new Gobgp(lab, {
      ns: b, as: GOBGP_AS, routerId: '192.0.2.2', listenPort: -1,
      peers: [{ address: '192.0.2.1', as: 65003, passive: false, localAddress: '192.0.2.2', addPathRx: true, addPathTx: true, gracefulRestart: true }],
    })
    await gobgp.start()
    await frr.waitEstablished()
    await gobgp.waitEstablished()
    await until('FRR routes at GoBGP', async () => (await gobgp.routes('ipv4')).length >= 2)
    await gobgp.addRoute('203.0.113.0/24', { nextHop: '192.0.2.2', pathId: 1, largeCommunities: ['4200000002:3:3'] })
    await gobgp.addRoute('203.0.113.0/24', { nextHop: '192.0.2.3', pathId: 2 })
    await until('2 GoBGP paths at FRR', async () => (await frr.routes('ipv4')).filter(r => r.prefix === '203.0.113.0/24').length >= 2)
    notes.push('gobgp softresetin -> ROUTE-REFRESH to FRR')
    await gobgp.softResetIn('192.0.2.1', 'ipv4')
    await sleep(1000)
    notes.push('clear bgp soft in -> ROUTE-REFRESH from FRR')
    await frr.vtysh('bgpd', ['clear bgp ipv4 unicast 192.0.2.2 soft in'])
    await sleep(1500)
    notes.push('FRR no network -> withdrawal with path id')
    await frr.configure(['router bgp 65003', 'address-family ipv4 unicast', 'no network 198.51.100.128/25'])
    await until('FRR route withdrawn at GoBGP', async () => !(await gobgp.routes('ipv4')).some(r => r.prefix === '198.51.100.128/25'))
    notes.push('FRR neighbor shutdown message')
    await frr.configure(['router bgp 65003', 'neighbor 192.0.2.2 shutdown message golden: frr maintenance'])
    await sleep(1500)
    await cap.stop()
    return { '192.0.2.1': 'frr', '192.0.2.2': 'gobgp' }
  },

  /** FRR vs GoBGP IPv6: MP_REACH with link-local next hop from FRR, MP_UNREACH, IPv6 EoR. */
  'frr-gobgp-v6': async (lab, pcap, notes) => {
    const { a, b } = await pair(lab)
    const cap = await tcpdump(lab, a, 'eth0', pcap)
    const frr = new Frr(lab, {
      ns: a, as: 65003, routerId: '192.0.2.1', gracefulRestart: true,
      networks: [{ prefix: '2001:db8:300::/48' }, { prefix: '2001:db8:301::/48' }],
      peers: [{ address: '2001:db8::2', as: GOBGP_AS, passive: true, addPathTx: true, gracefulRestart: true }],
    })
    await frr.start()
    const gobgp = new Gobgp(lab, {
      ns: b, as: GOBGP_AS, routerId: '192.0.2.2', listenPort: -1,
      peers: [{ address: '2001:db8::1', as: 65003, passive: false, localAddress: '2001:db8::2', addPathRx: true, addPathTx: true, gracefulRestart: true }],
    })
    await gobgp.start()
    await frr.waitEstablished()
    await gobgp.waitEstablished()
    await until('FRR v6 routes at GoBGP', async () => (await gobgp.routes('ipv6')).length >= 2)
    await gobgp.addRoute('2001:db8:100::/48', { nextHop: '2001:db8::2', pathId: 1 })
    await until('GoBGP v6 route at FRR', async () => (await frr.routes('ipv6')).some(r => r.prefix === '2001:db8:100::/48'))
    notes.push('FRR no network -> MP_UNREACH')
    await frr.configure(['router bgp 65003', 'address-family ipv6 unicast', 'no network 2001:db8:301::/48'])
    await until('FRR v6 route withdrawn at GoBGP', async () => !(await gobgp.routes('ipv6')).some(r => r.prefix === '2001:db8:301::/48'))
    await sleep(1000)
    await cap.stop()
    return { '2001:db8::1': 'frr', '2001:db8::2': 'gobgp' }
  },

  /** iBGP BIRD <-> FRR: LOCAL_PREF both ways, short hold time, then hold timer expiry (FRR frozen). */
  'bird-frr-ibgp': async (lab, pcap, notes) => {
    const { a, b } = await pair(lab)
    const cap = await tcpdump(lab, a, 'eth0', pcap)
    const bird = new Bird(lab, {
      ns: a, as: 65010, routerId: '192.0.2.1',
      extra: ['protocol static st4 { ipv4; route 203.0.113.0/24 blackhole; }'],
      peers: [{
        // no (LL)GR: with LLGR negotiated BIRD enters long-lived GR on hold timer expiry and sends no NOTIFICATION
        name: 'frr', address: '192.0.2.2', as: 65010, passive: false, holdTime: 6, addPathRx: true, gracefulRestart: false,
        extra: ['long lived graceful restart off;'],
        exportFilter: 'bgp_local_pref = 300; bgp_community.add((65010,3)); accept;',
        familyExtra: ['next hop self;'],
      }],
    })
    const frr = new Frr(lab, {
      ns: b, as: 65010, routerId: '192.0.2.2',
      extra: ['bgp default local-preference 200'],
      networks: [{ prefix: '198.51.100.0/24' }],
      peers: [{ address: '192.0.2.1', as: 65010, passive: true, holdTime: 6, addPathTx: true }],
    })
    await frr.start()
    await bird.start()
    await bird.waitEstablished()
    await frr.waitEstablished()
    await until('FRR route at BIRD', async () => (await bird.routes(['protocol', 'frr'])).length >= 1)
    await until('BIRD route at FRR', async () => (await frr.routes('ipv4')).some(r => r.prefix === '203.0.113.0/24'))
    notes.push('birdc reload in -> ROUTE-REFRESH; FRR answers with enhanced route refresh BoRR ... EoRR')
    await bird.birdc(['reload', 'in', 'frr'])
    await sleep(1500)
    notes.push('FRR bgpd SIGSTOPped -> BIRD hold timer expires -> NOTIFICATION 4/0')
    const pid = frr.bgpdPid!
    process.kill(pid, 'SIGSTOP')
    await until('BIRD session down', async () => (await bird.protocols()).find(p => p.name === 'frr')?.state !== 'established', 20_000)
    await sleep(500)
    process.kill(pid, 'SIGCONT')
    await sleep(2000)
    await cap.stop()
    return { '192.0.2.1': 'bird', '192.0.2.2': 'frr' }
  },

  /** OPEN errors: BIRD expects the wrong peer AS -> NOTIFICATION 2/2 from BIRD; GoBGP likewise. */
  'open-errors': async (lab, pcap, notes) => {
    const { a, b } = await pair(lab)
    const cap = await tcpdump(lab, a, 'eth0', pcap)
    const bird = new Bird(lab, {
      ns: a, as: 65001, routerId: '192.0.2.1',
      peers: [{ name: 'gobgp', address: '192.0.2.2', as: 65999, passive: true }],
    })
    await bird.start()
    const gobgp = new Gobgp(lab, {
      ns: b, as: 65002, routerId: '192.0.2.2', listenPort: -1,
      peers: [{ address: '192.0.2.1', as: 65001, passive: false, localAddress: '192.0.2.2' }],
    })
    await gobgp.start()
    notes.push('BIRD rejects OPEN with Bad Peer AS')
    await until('BIRD reports Bad peer AS', async () => /Bad peer AS/i.test((await bird.protocols()).find(p => p.name === 'gobgp')?.info ?? ''))
    await sleep(500)
    await gobgp.stop()
    await bird.stop()
    const bird2 = new Bird(lab, { ns: a, as: 65001, routerId: '192.0.2.1', peers: [{ name: 'gobgp', address: '192.0.2.2', as: 65002, passive: true }] }, 'bird2')
    await bird2.start()
    const gobgp2 = new Gobgp(lab, {
      ns: b, as: 65002, routerId: '192.0.2.2', listenPort: -1,
      peers: [{ address: '192.0.2.1', as: 65998, passive: false, localAddress: '192.0.2.2' }],
    }, 'gobgp2')
    notes.push('GoBGP rejects OPEN with Bad Peer AS')
    await gobgp2.start()
    await until('GoBGP NOTIFICATION seen by BIRD', async () => /Bad peer AS/i.test((await bird2.protocols()).find(p => p.name === 'gobgp')?.info ?? ''))
    await sleep(500)
    await cap.stop()
    return { '192.0.2.1': 'bird', '192.0.2.2': 'gobgp' }
  },
}

// ---------------------------------------------------------------------------------------------
// Extraction and selection

interface Candidate {
  scenario: string
  sender: RouterName
  receiver: RouterName
  signature: string
  type: string
  features: string[]
  ctx: GoldenCtx
  hex: string
  annotation: string[]
  expected: Record<string, unknown>
  index: number
}

interface OpenInfo { caps: Map<number, Uint8Array[]>; }

function openInfo(m: Uint8Array): OpenInfo {
  const caps = new Map<number, Uint8Array[]>()
  let o = 29
  let optLen = m[28]!
  let ext = false
  if (optLen === 255 && m[29] === 255) { ext = true; optLen = (m[30]! << 8) | m[31]!; o = 32 }
  const end = o + optLen
  while (o < end) {
    const pt = m[o]!
    const pl = ext ? (m[o + 1]! << 8) | m[o + 2]! : m[o + 1]!
    o += ext ? 3 : 2
    if (pt === 2) {
      let q = o
      while (q < o + pl) {
        const code = m[q]!, len = m[q + 1]!
        const list = caps.get(code) ?? []
        list.push(m.subarray(q + 2, q + 2 + len))
        caps.set(code, list)
        q += 2 + len
      }
    }
    o += pl
  }
  return { caps }
}

/** The speaker's AS: the 4-octet AS capability when present, else "My Autonomous System". */
function openAs(m: Uint8Array, oi: OpenInfo): number {
  const c = oi.caps.get(65)?.[0]
  return c ? ((c[0]! << 24) | (c[1]! << 16) | (c[2]! << 8) | c[3]!) >>> 0 : (m[20]! << 8) | m[21]!
}

/** ADD-PATH families on which `sender` sends path ids to `receiver` (RFC 7911 section 4). */
function addPathFamilies(sender: OpenInfo, receiver: OpenInfo): string[] {
  const modes = (oi: OpenInfo): Map<string, number> => {
    const m = new Map<string, number>()
    for (const d of oi.caps.get(69) ?? []) {
      for (let i = 0; i + 4 <= d.length; i += 4) {
        const afi = (d[i]! << 8) | d[i + 1]!, safi = d[i + 2]!
        m.set(`${afi === 1 ? 'ipv4' : afi === 2 ? 'ipv6' : `afi${afi}`}-${safi === 1 ? 'unicast' : `safi${safi}`}`, d[i + 3]!)
      }
    }
    return m
  }
  const s = modes(sender), r = modes(receiver)
  return [...s.entries()].filter(([k, v]) => (v & 2) && ((r.get(k) ?? 0) & 1)).map(([k]) => k).sort()
}

function extract(meta: Meta, pcapFile: string): Candidate[] {
  const streams = reassemble(readPcap(new Uint8Array(readFileSync(pcapFile))))
  const byConn = new Map<number, typeof streams>()
  for (const s of streams) byConn.set(s.connection, [...(byConn.get(s.connection) ?? []), s])
  const out: Candidate[] = []
  for (const conn of byConn.values()) {
    const msgs = new Map(conn.map(s => [s.key, splitBgp(s.data)]))
    const opens = new Map<string, OpenInfo>()
    for (const s of conn) {
      const first = msgs.get(s.key)?.[0]
      if (first && first[18] === 1) opens.set(s.key, openInfo(first))
    }
    for (const s of conn) {
      const sender = meta.endpoints[s.src], receiver = meta.endpoints[s.dst]
      if (!sender || !receiver) continue
      const rev = conn.find(x => x.src === s.dst && x.sport === s.dport)
      const so = opens.get(s.key), ro = rev ? opens.get(rev.key) : undefined
      const both = so && ro
      const ap = both ? addPathFamilies(so, ro) : []
      const ctx: GoldenCtx = {
        as4: !!(both && so.caps.has(65) && ro.caps.has(65)),
        addPathRx: ap, addPathTx: ap,
        maxMessageLength: both && so.caps.has(6) && ro.caps.has(6) ? 65535 : 4096,
      }
      if (both) ctx.ibgp = openAs(msgs.get(s.key)![0]!, so) === openAs(msgs.get(rev!.key)![0]!, ro)
      ;(msgs.get(s.key) ?? []).forEach((m, index) => {
        const a = annotate(m, ctx)
        const sigFeatures = a.features.filter(f => !f.startsWith('order:'))
        if (a.type === 'update' && !ctx.as4) sigFeatures.push('as2-session')
        const signature = [sender, a.type, ...[...new Set(sigFeatures)].sort()].join('|')
        out.push({
          scenario: meta.scenario, sender, receiver, signature, type: a.type, features: a.features, ctx,
          hex: toHex(m), annotation: a.annotation, expected: a.expected, index,
        })
      })
    }
  }
  return out
}

function nameFor(c: Candidate): string {
  const f = new Set(c.features)
  const tags: string[] = []
  switch (c.type) {
    case 'open':
      if (f.has('gr-restarting')) tags.push('gr-restarting')
      if (f.has('as-trans')) tags.push('as-trans')
      if (f.has('no-as4')) tags.push('no-as4')
      break
    case 'update': {
      const eor = c.features.find(x => x.startsWith('eor-'))
      if (eor) { tags.push(eor); break }
      const mp = f.has('attr14') || f.has('attr15')
      tags.push(mp ? 'ipv6' : 'ipv4')
      if (f.has('nlri4') || f.has('attr14')) tags.push('announce')
      if (f.has('withdraw4') || f.has('attr15')) tags.push('withdraw')
      if (f.has('addpath4') || f.has('addpath-mp')) tags.push('addpath')
      if (!c.ctx.as4) tags.push('as2')
      const named: [string, string][] = [['attr4', 'med'], ['attr5', 'localpref'], ['attr6', 'atomic'], ['attr7', 'aggregator'],
        ['attr8', 'comm'], ['attr16', 'extcomm'], ['attr17', 'as4path'], ['attr32', 'lcomm'], ['attr35', 'otc'], ['linklocal-nh', 'linklocal']]
      for (const [k, v] of named) if (f.has(k)) tags.push(v)
      break
    }
    case 'notification': {
      const n = c.features.find(x => x.startsWith('notif'))!.slice(5).replace('/', '-')
      tags.push(n)
      break
    }
    case 'route-refresh': tags.push(c.features.includes('rr-afi2') ? 'ipv6' : 'ipv4')
  }
  return [c.type, ...tags].join('-')
}

/** Coverage units of a message: every (sender, type, feature) it exhibits. */
function units(c: Candidate): string[] {
  const u = [`${c.sender}|${c.type}`]
  // AS_PATH and AGGREGATOR have 2-octet ASNs on a session without 4-octet AS: separate units
  const as2 = c.type === 'update' && !c.ctx.as4
  for (const f of c.features) {
    if (f.startsWith('order:')) continue
    u.push(`${c.sender}|${c.type}|${f}${as2 && (f === 'attr2' || f === 'attr7') ? '-as2' : ''}`)
  }
  if (c.type === 'open') u.push(`${c.sender}|open|to-${c.receiver}`)
  return u
}

/**
 * Greedy set cover: repeatedly take the message that adds the most uncovered units (earliest wins
 * ties), so every capability, attribute, message type and flag each router sent is covered by a
 * small, non-redundant set.
 */
function select(all: Candidate[]): Map<string, Candidate> {
  const covered = new Set<string>()
  const picked: Candidate[] = []
  for (;;) {
    let best: Candidate | undefined
    let bestGain = 0
    for (const c of all) {
      const gain = new Set(units(c).filter(x => !covered.has(x))).size
      if (gain > bestGain) { best = c; bestGain = gain }
    }
    if (!best) break
    picked.push(best)
    for (const x of units(best)) covered.add(x)
  }
  picked.sort((a, b) => all.indexOf(a) - all.indexOf(b))
  const files = new Map<string, Candidate>()
  for (const c of picked) {
    let name = nameFor(c)
    if (files.has(`${c.sender}/${name}`)) name = `${name}-to-${c.receiver}`
    let n = 2
    const base = name
    while (files.has(`${c.sender}/${name}`)) name = `${base}-${n++}`
    files.set(`${c.sender}/${name}`, c)
  }
  return files
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined
  const processOnly = args.includes('--process-only')
  mkdirSync(PCAP_DIR, { recursive: true })
  if (!processOnly) {
    for (const [name, run] of Object.entries(scenarios)) {
      if (only && only !== name) continue
      const lab = createLab()
      const pcap = join(PCAP_DIR, `${name}.pcap`)
      const notes: string[] = []
      process.stdout.write(`scenario ${name} ... `)
      try {
        const endpoints = await run(lab, pcap, notes)
        writeFileSync(join(PCAP_DIR, `${name}.meta.json`), JSON.stringify({ scenario: name, endpoints, notes }, null, 2))
        console.log('ok')
      } catch (e) {
        console.log('FAILED')
        console.error(e)
        process.env.PT_KEEP_DIR = '1'
        console.error(`lab dir kept: ${lab.dir}`)
        await lab.cleanup()
        process.exitCode = 1
        return
      }
      await lab.cleanup()
    }
  }
  const ver = versions()
  const all: Candidate[] = []
  for (const f of readdirSync(PCAP_DIR).filter(x => x.endsWith('.meta.json')).sort(byScenarioOrder)) {
    const meta = JSON.parse(readFileSync(join(PCAP_DIR, f), 'utf8')) as Meta
    all.push(...extract(meta, join(PCAP_DIR, `${meta.scenario}.pcap`)))
  }
  const chosen = select(all)
  console.log(`${all.length} messages captured, ${chosen.size} selected`)
  for (const [file, c] of chosen) {
    const path = join(HERE, `${file}.json`)
    mkdirSync(dirname(path), { recursive: true })
    const old = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> : undefined
    const doc: Record<string, unknown> = {
      source: ver[c.sender],
      direction: `${c.sender}->${c.receiver}`,
      scenario: c.scenario,
      ctx: c.ctx,
      hex: c.hex,
      annotation: c.annotation,
      expected: old && old.hex === c.hex && old.expected ? old.expected : c.expected,
    }
    // hand-reviewed fields survive a re-run while the bytes are the same
    for (const k of ['reencode', 'reencodeReason', 'layoutReencode', 'layoutReencodeReason']) {
      if (old && old.hex === c.hex && old[k] !== undefined) doc[k] = old[k]
    }
    writeFileSync(path, JSON.stringify(doc, null, 2) + '\n')
    console.log(`  ${file}`)
  }
}

function byScenarioOrder(a: string, b: string): number {
  const order = Object.keys(scenarios)
  return order.indexOf(a.replace('.meta.json', '')) - order.indexOf(b.replace('.meta.json', ''))
}

await main()
