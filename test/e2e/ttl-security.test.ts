// TTL on the wire and GTSM (RFC 5082) with the built dist/porter against FRR, observed with
// tcpdump on the router's side of the link:
//  - eBGP without options: Porter's segments carry TTL 1 (directly connected, as BIRD and FRR);
//    ebgpMultihop: 3 after a reload: TTL 3
//  - ttlSecurity on both sides (FRR "ttl-security hops 1"): TTL 255 and the session comes up
//  - Porter with ttlSecurity, the router sending TTL 64 (ebgp-multihop): Porter's kernel drops the
//    router's segments (IP_MINTTL 254), no session; without ttlSecurity the same router comes up
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { createLab, run, waitFor, type Lab } from './lib/netns.ts'
import { Frr } from './lib/frr.ts'
import { PorterProc } from './lib/porter.ts'
import { tcpdump } from './lib/tcpdump.ts'
import { routerAndPorter, ROUTER_AS, PORTER_AS } from './lib/bgp-lab.ts'
import { builtPorter } from '../lib/dist.ts'

const config = (peer: string) => `
bgp:
  localAs: ${PORTER_AS}
  routerId: 192.0.2.2
  listenPort: 0
  holdTime: 9
  connectRetry: 1
  peers:
    - { name: r4, address: 192.0.2.1, peerAs: ${ROUTER_AS}${peer} }
vips:
  - { address: 203.0.113.10, nextHops: [192.0.2.11] }
`

interface Seg { ttl: number; src: string; flags: string }
/** the TCP segments of a capture: TTL, source address.port and flags */
async function segments(file: string): Promise<Seg[]> {
  const out = (await run('tcpdump', ['-r', file, '-nv'])).stdout.split('\n')
  const segs: Seg[] = []
  for (let i = 0; i + 1 < out.length; i++) {
    const ttl = /\bttl (\d+),/.exec(out[i]!)
    const tcp = /^\s+(\S+) > \S+: Flags \[([^\]]*)\]/.exec(out[i + 1]!)
    if (ttl && tcp) segs.push({ ttl: Number(ttl[1]), src: tcp[1]!, flags: tcp[2]! })
  }
  return segs
}
const fromPorter = (s: Seg) => s.src.startsWith('192.0.2.2.')
const fromRouter = (s: Seg) => s.src.startsWith('192.0.2.1.')

async function setup(t: Test, frrExtra: string[], peer: string, passive = true) {
  const lab: Lab = createLab(t)
  const { r, p } = await routerAndPorter(lab)
  const frr = new Frr(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: [{ address: '192.0.2.2', as: PORTER_AS, passive, extra: frrExtra }] })
  await frr.start()
  const cap = await tcpdump(lab, r, 'eth0', join(lab.dir, 'bgp.pcap'))
  const porter = new PorterProc(lab, p, config(peer), 'controller', builtPorter(lab.dir))
  t.teardown(() => porter.cleanup())
  await porter.start()
  return { lab, frr, cap, porter }
}

t.test('eBGP by default: Porter sends TTL 1', async (t) => {
  const { frr, cap, porter } = await setup(t, [], '')
  await porter.waitPeers('Established')
  await frr.waitEstablished(['192.0.2.2'])
  await cap.stop()
  const mine = (await segments(cap.file)).filter(fromPorter)
  t.ok(mine.length >= 3, `${mine.length} segments from Porter captured`, { raw: (await run('tcpdump', ['-r', cap.file, '-nv'])).stdout.slice(0, 3000) })
  t.same([...new Set(mine.map((s) => s.ttl))], [1], 'every one with TTL 1')
})

t.test('ebgpMultihop: 3 on the wire after a reload', async (t) => {
  const { lab, frr, porter } = await setup(t, [], '')
  await porter.waitPeers('Established')
  const cap = await tcpdump(lab, frr.spec.ns, 'eth0', join(lab.dir, 'multihop.pcap'))
  porter.writeConfig(config(', ebgpMultihop: 3'))
  porter.signal('SIGHUP')
  // the changed peer is a new session: wait for it (a SYN from Porter, then Established again)
  await waitFor(async () => (await segments(cap.file)).some((s) => fromPorter(s) && s.flags === 'S'), { timeoutMs: 30_000, what: 'a new connection from Porter' })
  await porter.waitPeers('Established')
  await cap.stop()
  const mine = (await segments(cap.file)).filter(fromPorter)
  // the new connection's segments (the old one's teardown may still follow, with TTL 1)
  const syn = mine.find((s) => s.flags === 'S')!
  const after = mine.filter((s) => s.src === syn.src)
  t.ok(after.length >= 3, `${after.length} segments of the new session (from ${syn.src})`)
  t.same([...new Set(after.map((s) => s.ttl))], [3], 'every one with TTL 3')
})

t.test('ttlSecurity with FRR "ttl-security hops 1": TTL 255, the session comes up', async (t) => {
  const { frr, cap, porter } = await setup(t, ['ttl-security hops 1'], ', ttlSecurity: true')
  await porter.waitPeers('Established')
  await frr.waitEstablished(['192.0.2.2'])
  await cap.stop()
  const segs = await segments(cap.file)
  const mine = segs.filter(fromPorter)
  t.ok(mine.length >= 3, `${mine.length} segments from Porter captured`)
  t.same([...new Set(mine.map((s) => s.ttl))], [255], 'every one with TTL 255')
  t.ok(mine.some((s) => s.flags === 'S'), 'the SYN included')
  t.same([...new Set(segs.filter(fromRouter).map((s) => s.ttl))], [255], 'and FRR answers with 255')
})

t.test('ttlSecurity enforced: a router sending TTL 64 gets no session; without ttlSecurity it does', async (t) => {
  // FRR active with ebgp-multihop 64: its SYNs and SYN-ACKs leave with TTL 64
  const { frr, cap, porter } = await setup(t, ['ebgp-multihop 64'], ', ttlSecurity: true', false)
  // wait until the router has answered or called several times: each of those segments is below 254
  await waitFor(async () => (await segments(cap.file)).filter((s) => fromRouter(s) && s.flags.startsWith('S')).length >= 4, { timeoutMs: 60_000, what: 'the router\'s SYN / SYN-ACK retries' })
  const seen = (await segments(cap.file)).filter(fromRouter)
  // (its listener answers Porter's SYN with 255; everything of the session itself is 64)
  t.ok(seen.filter((s) => s.ttl === 64).length >= 2, `the router sends TTL 64 (${seen.filter((s) => s.ttl === 64).length} segments)`)
  t.not((await porter.status()).peers[0]?.state, 'Established', 'Porter: no session')
  t.ok((await frr.neighbors()).every((n) => n.state !== 'established'), 'FRR: no session')
  t.notOk(porter.logs().some((l) => l.msg === 'session established'), 'never established in Porter\'s log')
  // the same router without ttlSecurity on Porter's side: eBGP TTL 1 reaches it, it answers with 64
  porter.writeConfig(config(''))
  porter.signal('SIGHUP')
  await porter.waitPeers('Established', 60_000)
  await frr.waitEstablished(['192.0.2.2'])
  await cap.stop()
  t.ok(porter.logs().some((l) => l.msg === 'session established'), 'established once Porter accepts TTL 64')
})
