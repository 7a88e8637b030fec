// Smoke test of the e2e harness: each real router (BIRD 2, FRR, gobgpd) peers with a gobgpd
// speaker over a veth, IPv4 and IPv6 sessions; routes announced by the speaker appear in the
// router's BGP RIB and (BIRD, FRR) its kernel FIB; the namespaces are gone afterwards.

import t from 'tap'
import { createLab, namespaceExists, waitFor, type Lab } from './lib/netns.ts'
import { routerAndPorter } from './lib/bgp-lab.ts'
import { Bird } from './lib/bird.ts'
import { Frr } from './lib/frr.ts'
import { Gobgp } from './lib/gobgp.ts'
import type { BgpRoute, PeerSpec } from './lib/router.ts'
import type { FibRoute } from './lib/fib.ts'

const ROUTER_AS = 65001
const SPEAKER_AS = 65002
const V4_PREFIX = '203.0.113.0/24'
const V6_PREFIX = '2001:db8:100::/48'
const ECMP_PREFIX = '203.0.113.128/25'
const MD5 = 'pt-smoke-md5'

interface RouterUnderTest {
  start(): Promise<unknown>
  waitEstablished(): Promise<void>
  routes(family: 'ipv4' | 'ipv6'): Promise<BgpRoute[]>
  restart(): Promise<void>
  fib?: (family: 4 | 6) => Promise<FibRoute[]>
}

async function topology(lab: Lab): Promise<{ r: string; s: string }> {
  const { r, p: s } = await routerAndPorter(lab)
  await lab.addr(s, 'eth0', '192.0.2.3/24') // a second next hop for the ECMP check
  return { r, s }
}

const routerPeers: PeerSpec[] = [
  { address: '192.0.2.2', as: SPEAKER_AS, passive: true, password: MD5 },
  { address: '2001:db8::2', as: SPEAKER_AS, passive: true },
]

const makers: Record<string, (lab: Lab, ns: string) => RouterUnderTest> = {
  bird: (lab, ns) => {
    const b = new Bird(lab, { ns, as: ROUTER_AS, routerId: '192.0.2.1', peers: routerPeers })
    return {
      start: () => b.start(),
      restart: () => b.restart(),
      waitEstablished: () => b.waitEstablished(),
      routes: fam => b.routes(['table', fam === 'ipv4' ? 'master4' : 'master6']),
      fib: fam => b.fib(fam),
    }
  },
  frr: (lab, ns) => {
    const f = new Frr(lab, { ns, as: ROUTER_AS, routerId: '192.0.2.1', peers: routerPeers })
    return {
      start: () => f.start(),
      restart: () => f.restart(),
      waitEstablished: () => f.waitEstablished(),
      routes: fam => f.routes(fam),
      fib: fam => f.fib(fam),
    }
  },
  gobgp: (lab, ns) => {
    const g = new Gobgp(lab, { ns, as: ROUTER_AS, routerId: '192.0.2.1', peers: routerPeers, apiPort: 50061 })
    return {
      start: () => g.start(),
      restart: () => g.restart(),
      waitEstablished: () => g.waitEstablished(),
      routes: fam => g.routes(fam),
    }
  },
}

for (const [name, make] of Object.entries(makers)) {
  t.test(`${name} learns routes from a gobgpd speaker`, async t => {
    let lab: Lab | undefined
    await t.test('sessions, RIB and FIB', async t => {
      lab = createLab(t)
      const { r, s } = await topology(lab)
      const router = make(lab, r)
      await router.start()
      const speaker = new Gobgp(lab, {
        ns: s, as: SPEAKER_AS, routerId: '192.0.2.2', listenPort: -1,
        peers: [
          { address: '192.0.2.1', as: ROUTER_AS, passive: false, addPathTx: true, password: MD5 },
          { address: '2001:db8::1', as: ROUTER_AS, passive: false, addPathTx: true },
        ],
      })
      await speaker.start()
      await router.waitEstablished()
      await speaker.waitEstablished()
      t.pass('IPv4 (TCP MD5) and IPv6 sessions Established')

      await speaker.addRoute(V4_PREFIX, { nextHop: '192.0.2.2', communities: ['65002:7'], largeCommunities: ['65002:1:2'] })
      await speaker.addRoute(V6_PREFIX, { nextHop: '2001:db8::2' })

      const v4 = await waitFor(async () => (await router.routes('ipv4')).find(x => x.prefix === V4_PREFIX),
        { timeoutMs: 20_000, what: `${V4_PREFIX} in ${name} RIB` })
      t.same(v4.nextHops, ['192.0.2.2'], 'IPv4 next hop')
      t.same(v4.asPath, [SPEAKER_AS], 'AS path')
      t.same(v4.communities, ['65002:7'], 'community')
      t.same(v4.largeCommunities, ['65002:1:2'], 'large community')

      const v6 = await waitFor(async () => (await router.routes('ipv6')).find(x => x.prefix === V6_PREFIX),
        { timeoutMs: 20_000, what: `${V6_PREFIX} in ${name} RIB` })
      t.ok(v6.nextHops.includes('2001:db8::2') || (v6.bgpNextHop ?? []).includes('2001:db8::2'), 'IPv6 next hop')

      if (router.fib) {
        const fib = router.fib
        const k4 = await waitFor(async () => (await fib(4)).find(x => x.prefix === V4_PREFIX),
          { timeoutMs: 20_000, what: `${V4_PREFIX} in kernel FIB` })
        t.same(k4.gateways, ['192.0.2.2'], 'kernel IPv4 route via the speaker')
        const k6 = await waitFor(async () => (await fib(6)).find(x => x.prefix === V6_PREFIX),
          { timeoutMs: 20_000, what: `${V6_PREFIX} in kernel FIB` })
        t.equal(k6.nextHops.length, 1, 'kernel IPv6 route has one next hop')
        t.ok(k6.gateways[0] === '2001:db8::2' || k6.gateways[0]?.startsWith('fe80:'), 'kernel IPv6 gateway is the speaker')
      }

      // ADD-PATH: a second path with another next hop makes an ECMP route
      await speaker.addRoute(ECMP_PREFIX, { nextHop: '192.0.2.2', pathId: 1 })
      await speaker.addRoute(ECMP_PREFIX, { nextHop: '192.0.2.3', pathId: 2 })
      const paths = await waitFor(async () => {
        const ps = (await router.routes('ipv4')).filter(x => x.prefix === ECMP_PREFIX)
        return ps.length === 2 ? ps : undefined
      }, { timeoutMs: 20_000, what: `two paths for ${ECMP_PREFIX} in ${name} RIB` })
      t.same(paths.flatMap(p => p.nextHops).sort(), ['192.0.2.2', '192.0.2.3'], 'both ADD-PATH paths in the RIB')
      if (router.fib) {
        const fib = router.fib
        const k = await waitFor(async () => {
          const rt = (await fib(4)).find(x => x.prefix === ECMP_PREFIX)
          return rt && rt.gateways.length === 2 ? rt : undefined
        }, { timeoutMs: 20_000, what: `ECMP route ${ECMP_PREFIX} in kernel FIB` })
        t.same(k.gateways, ['192.0.2.2', '192.0.2.3'], 'kernel ECMP route with two next hops')
      }

      // the router restarts with the same config: sessions come back, routes are learned again
      await router.restart()
      await router.waitEstablished()
      const again = await waitFor(async () => (await router.routes('ipv4')).find(x => x.prefix === V4_PREFIX),
        { timeoutMs: 30_000, what: `${V4_PREFIX} in ${name} RIB after restart` })
      t.same(again.nextHops, ['192.0.2.2'], 'route learned again after the router restarted')

      await speaker.delRoute(V4_PREFIX)
      await waitFor(async () => !(await router.routes('ipv4')).some(x => x.prefix === V4_PREFIX),
        { timeoutMs: 20_000, what: `${V4_PREFIX} withdrawn from ${name}` })
      t.pass('withdrawal reaches the router')
    })
    t.ok(lab, 'lab was created')
    t.ok(lab!.cleanedUp, 'lab cleaned up by teardown')
    for (const ns of lab!.namespaces) t.notOk(namespaceExists(ns), `namespace ${ns} deleted`)
  })
}
