// Porter's BGP speaker against a real BIRD 2 in network namespaces: sessions, ECMP through
// ADD-PATH, attributes, next-hop changes, withdrawal, router restart and refusal of
// unconfigured sources. Route refresh: route-refresh.test.ts (the router's counters).
import t from 'tap'
import { createLab, waitFor } from './lib/netns.ts'
import { Bird } from './lib/bird.ts'
import { routerAndPorter, porterYaml as porterYaml_, gateways, ROUTER_AS, PORTER_AS, HOPS4, HOPS6 } from './lib/bgp-lab.ts'
import { PorterProc } from './lib/porter.ts'

const porterYaml = (v4hops: string[], v6hops: string[]) => porterYaml_({ v4hops, v6hops, peerExtra: 'export: { communities: ["65002:100"] }' })

t.test('porter <-> BIRD 2', async (t) => {
  const lab = createLab(t)
  const { r, p } = await routerAndPorter(lab)
  const bird = new Bird(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4' },
    { address: '2001:db8::2', as: PORTER_AS, passive: true, name: 'porter6', families: ['ipv6'] },
  ] })
  await bird.start()
  const hops4 = HOPS4
  const hops6 = HOPS6
  const porter = new PorterProc(lab, p, porterYaml(hops4, hops6))
  t.teardown(() => porter.cleanup())
  await porter.start()

  await t.test('IPv4 and IPv6 sessions reach Established', async (t) => {
    const st = await porter.waitPeers('Established')
    t.equal(st.peers.length, 2)
    await bird.waitEstablished()
    t.ok(st.peers.every((p) => p.ecmp === 'add-path'), 'ADD-PATH negotiated with both')
  })

  await t.test('a VIP with three next hops is one ECMP route with three next hops in the router FIB', async (t) => {
    t.same(await waitFor(async () => { const g = await gateways(r, '203.0.113.10/32'); return g.length === 3 ? g : undefined }, { what: 'v4 ECMP' }), hops4)
    t.same(await waitFor(async () => { const g = await gateways(r, '2001:db8:100::10/128'); return g.length === 3 ? g : undefined }, { what: 'v6 ECMP' }), hops6)
  })

  await t.test('communities, large communities and MED arrive as configured', async (t) => {
    const routes = await bird.routes(['table', 'master4', 'for', '203.0.113.10/32', 'all'])
    t.equal(routes.length, 3, 'three paths')
    for (const rt of routes) {
      t.same([...rt.communities].sort(), ['65002:100', '65002:200'], 'peer and VIP communities')
      t.same(rt.largeCommunities, ['65002:1:2'])
      t.equal(rt.med, 50)
      t.same(rt.asPath, [PORTER_AS])
    }
  })

  await t.test('removing a next hop updates the route; removing the VIP withdraws it', async (t) => {
    porter.writeConfig(porterYaml(hops4.slice(0, 2), hops6))
    porter.signal('SIGHUP')
    t.same(await waitFor(async () => { const g = await gateways(r, '203.0.113.10/32'); return g.length === 2 ? g : undefined }, { what: 'two next hops' }), hops4.slice(0, 2))
    const st = await porter.status()
    t.ok(st.peers.every((p) => p.state === 'Established'), 'no session reset for a VIP change')
    porter.writeConfig(porterYaml([], hops6))
    porter.signal('SIGHUP')
    await waitFor(async () => (await gateways(r, '203.0.113.10/32')).length === 0, { what: 'v4 withdrawn' })
    t.match((await bird.birdc(['show', 'route', 'table', 'master4', 'for', '203.0.113.10/32'], true)).stdout, 'Network not found', 'gone from the BGP table too')
    t.equal((await gateways(r, '2001:db8:100::10/128')).length, 3, 'IPv6 VIP untouched')
    porter.writeConfig(porterYaml(hops4, hops6))
    porter.signal('SIGHUP')
    await waitFor(async () => (await gateways(r, '203.0.113.10/32')).length === 3, { what: 'v4 back' })
  })

  await t.test('killing and restarting the router reconnects and re-announces', async (t) => {
    await bird.crash()
    await waitFor(async () => (await porter.status()).peers.some((p) => p.state !== 'Established'), { what: 'porter notices' })
    await bird.restart()
    await porter.waitPeers('Established', 60_000)
    t.same(await waitFor(async () => { const g = await gateways(r, '203.0.113.10/32'); return g.length === 3 ? g : undefined }, { timeoutMs: 30_000, what: 'ECMP again' }), hops4)
  })

  await t.test('a connection from an unconfigured source address is refused and counted', async (t) => {
    const listenerYaml = porterYaml(hops4, hops6).replace('listenPort: 0', 'listenPort: 1179\n  listenAddress: "::"')
    porter.writeConfig(listenerYaml)
    porter.signal('SIGHUP')
    await waitFor(async () => (await lab.exec(p, ['ss', '-Htln', 'sport = :1179'])).stdout.includes('1179'), { what: 'listener' })
    await lab.addr(r, 'eth0', '192.0.2.99/24')
    // a stranger on the router's link (source 192.0.2.99) connects and counts what it receives
    const js = "const s=require('net').connect({host:'192.0.2.2',port:1179,localAddress:'192.0.2.99'});let n=0;s.on('data',d=>n+=d.length);s.on('close',()=>console.log(n));s.on('error',()=>{})"
    const r1 = await lab.exec(r, [process.execPath, '-e', js], { allowFail: true, timeoutMs: 10_000 })
    const st = await waitFor(async () => { const s = await porter.status(); return s.refusedConnections > 0 ? s : undefined }, { what: 'refusal counted' })
    t.equal(st.refusedConnections, 1)
    t.match(r1.stdout.trim(), /^0?$/, 'nothing was sent to the stranger')
    t.ok(st.peers.every((p) => p.state === 'Established'), 'configured sessions unaffected')
  })

  await t.test('next hop self and AS-path prepend from the peer config', async (t) => {
    porter.writeConfig(porterYaml_({ v4hops: hops4, v6hops: hops6, peerExtra: 'nextHop: self, export: { asPathPrepend: 2 }' }))
    porter.signal('SIGHUP')
    const routes = await waitFor(async () => {
      const x = await bird.routes(['table', 'master4', 'for', '203.0.113.10/32', 'all'])
      return x.length === 1 && x[0]!.asPath.length === 3 ? x : undefined
    }, { what: 'one path via porter itself' })
    t.same(routes[0]!.asPath, [PORTER_AS, PORTER_AS, PORTER_AS], 'local AS plus two prepends')
    t.same(routes[0]!.bgpNextHop, ['192.0.2.2'], 'next hop is porter\'s session address')
    t.same(await gateways(r, '203.0.113.10/32'), ['192.0.2.2'])
  })

  t.equal(await porter.stop(), 0, 'porter exits 0 on SIGTERM')
})
