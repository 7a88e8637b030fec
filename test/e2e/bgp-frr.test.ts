// Porter's BGP speaker against a real FRR 8 (bgpd + zebra) in network namespaces: IPv4 and IPv6
// sessions, ECMP in the kernel (FRR installs nexthop groups), attributes, withdrawal, restart.
// Route refresh: route-refresh.test.ts (the router's counters).
import t from 'tap'
import { createLab, waitFor } from './lib/netns.ts'
import { Frr } from './lib/frr.ts'
import { PorterProc } from './lib/porter.ts'
import { routerAndPorter, porterYaml, gateways, ROUTER_AS, PORTER_AS, HOPS4, HOPS6 } from './lib/bgp-lab.ts'

t.test('porter <-> FRR', async (t) => {
  const lab = createLab(t)
  const { r, p } = await routerAndPorter(lab)
  const frr = new Frr(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true },
    { address: '2001:db8::2', as: PORTER_AS, passive: true, families: ['ipv6'] },
  ] })
  await frr.start()
  const porter = new PorterProc(lab, p, porterYaml({ v4hops: HOPS4, v6hops: HOPS6 }))
  t.teardown(() => porter.cleanup())
  await porter.start()

  await t.test('sessions Established with ADD-PATH', async (t) => {
    const st = await porter.waitPeers('Established')
    await frr.waitEstablished()
    t.ok(st.peers.every((x) => x.ecmp === 'add-path'), 'ADD-PATH negotiated')
  })

  await t.test('three next hops become one ECMP route in the kernel, IPv4 and IPv6', async (t) => {
    t.same(await waitFor(async () => { const g = await gateways(r, '203.0.113.10/32'); return g.length === 3 ? g : undefined }, { what: 'v4 ECMP' }), HOPS4)
    t.same(await waitFor(async () => { const g = await gateways(r, '2001:db8:100::10/128'); return g.length === 3 ? g : undefined }, { what: 'v6 ECMP' }), HOPS6)
    const paths = await frr.routes('ipv4')
    const vip = paths.filter((x) => x.prefix === '203.0.113.10/32')
    t.equal(vip.length, 3, 'three paths in the BGP table')
    for (const x of vip) {
      t.same(x.communities, ['65002:200'])
      t.same(x.largeCommunities, ['65002:1:2'])
      t.equal(x.med, 50)
      t.same(x.asPath, [PORTER_AS])
    }
  })

  await t.test('a removed next hop and a removed VIP are withdrawn', async (t) => {
    porter.writeConfig(porterYaml({ v4hops: HOPS4.slice(1), v6hops: HOPS6 }))
    porter.signal('SIGHUP')
    t.same(await waitFor(async () => { const g = await gateways(r, '203.0.113.10/32'); return g.length === 2 ? g : undefined }, { what: 'two' }), HOPS4.slice(1))
    porter.writeConfig(porterYaml({ v4hops: HOPS4, v6hops: [] }))
    porter.signal('SIGHUP')
    await waitFor(async () => (await gateways(r, '2001:db8:100::10/128')).length === 0, { what: 'v6 withdrawn' })
    t.equal((await gateways(r, '203.0.113.10/32')).length, 3, 'v4 back to three')
  })

  await t.test('FRR restart: porter reconnects and re-announces', async (t) => {
    await frr.crash()
    await waitFor(async () => (await porter.status()).peers.some((x) => x.state !== 'Established'), { what: 'porter notices' })
    await frr.restart()
    await porter.waitPeers('Established', 60_000)
    t.same(await waitFor(async () => { const g = await gateways(r, '203.0.113.10/32'); return g.length === 3 ? g : undefined }, { timeoutMs: 30_000, what: 'ECMP again' }), HOPS4)
  })
  t.equal(await porter.stop(), 0)
})
