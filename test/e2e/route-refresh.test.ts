// Route refresh (RFC 2918) end to end with the built dist/porter: the router asks for a refresh
// (BIRD `reload in`, FRR `clear bgp ... soft in`) and the test reads the router's own counters of
// what it received afterwards, so it fails when Porter does not re-send (a log line would not).
// Only the peer that asked gets the routes again; the session is not reset.
import t from 'tap'
import { createLab, waitFor } from './lib/netns.ts'
import { Frr } from './lib/frr.ts'
import { PorterProc } from './lib/porter.ts'
import { routerAndPorter, birdForPorter, porterYaml, gateways, ROUTER_AS, PORTER_AS, HOPS4, HOPS6 } from './lib/bgp-lab.ts'
import { birdImportUpdates, frrNeighbor } from './lib/router-stats.ts'
import { builtPorter } from '../lib/dist.ts'

const VIP4 = '203.0.113.10/32'
const VIP6 = '2001:db8:100::10/128'

t.test('BIRD reload in: porter re-sends every path to that peer, once', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const { r, p } = await routerAndPorter(lab)
  const bird = await birdForPorter(lab, r)
  const porter = new PorterProc(lab, p, porterYaml({ v4hops: HOPS4, v6hops: HOPS6 }), 'controller', binary)
  t.teardown(() => porter.cleanup())
  await porter.start()
  await porter.waitPeers('Established')
  await bird.waitEstablished()
  await waitFor(async () => (await gateways(r, VIP4)).length === 3 && (await gateways(r, VIP6)).length === 3, { what: 'ECMP routes' })

  // BIRD counts received routes (one per path): the first round brought the three paths
  const v4Before = await waitFor(async () => { const s = await birdImportUpdates(bird, 'porter4'); return s.received >= HOPS4.length ? s : undefined }, { what: 'the first round counted' })
  const v6Before = await birdImportUpdates(bird, 'porter6')
  t.equal(v4Before.received, HOPS4.length, 'the first round brought one route per next hop')
  await bird.birdc(['reload', 'in', 'porter4'])
  const v4After = await waitFor(async () => {
    const s = await birdImportUpdates(bird, 'porter4')
    return s.received >= v4Before.received + HOPS4.length ? s : undefined
  }, { timeoutMs: 15_000, what: 'BIRD to receive the paths again after reload in' })
  t.equal(v4After.received - v4Before.received, HOPS4.length, 'every path re-sent exactly once')
  t.equal(v4After.ignored - v4Before.ignored, HOPS4.length, 'identical to what BIRD had (ignored as unchanged)')
  t.equal(v4After.rejected + v4After.filtered, 0, 'nothing rejected')
  t.same(await birdImportUpdates(bird, 'porter6'), v6Before, 'the IPv6 session, which did not ask, got nothing')
  const st = await porter.status()
  t.ok(st.peers.every((x) => x.state === 'Established' && x.flaps === 0), 'no session was reset')
  t.same(await gateways(r, VIP4), HOPS4, 'the FIB keeps the three next hops')
  t.equal(await porter.stop(), 0)
})

t.test('FRR soft reset in: porter answers the ROUTE-REFRESH with its UPDATEs', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const { r, p } = await routerAndPorter(lab)
  const frr = new Frr(lab, { ns: r, as: ROUTER_AS, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true },
    { address: '2001:db8::2', as: PORTER_AS, passive: true, families: ['ipv6'] },
  ] })
  await frr.start()
  const porter = new PorterProc(lab, p, porterYaml({ v4hops: HOPS4, v6hops: HOPS6 }), 'controller', binary)
  t.teardown(() => porter.cleanup())
  await porter.start()
  await porter.waitPeers('Established')
  await frr.waitEstablished()
  await waitFor(async () => (await gateways(r, VIP4)).length === 3 && (await gateways(r, VIP6)).length === 3, { what: 'ECMP routes' })

  // FRR counts messages: the first round is one UPDATE per path (each has its own NEXT_HOP) and End-of-RIB
  const v4Before = await waitFor(async () => { const s = (await frrNeighbor(frr, '192.0.2.2')).messageStats; return s.updatesRecv >= HOPS4.length + 1 ? s : undefined }, { what: 'the first round counted' })
  const v6Before = await waitFor(async () => { const s = (await frrNeighbor(frr, '2001:db8::2')).messageStats; return s.updatesRecv >= HOPS6.length + 1 ? s : undefined }, { what: 'the first IPv6 round counted' })
  t.equal(v4Before.updatesRecv, HOPS4.length + 1, 'first round: three UPDATEs and End-of-RIB')
  await frr.vtysh('bgpd', ['clear bgp ipv4 unicast 192.0.2.2 soft in'])
  const v4After = await waitFor(async () => {
    const s = (await frrNeighbor(frr, '192.0.2.2')).messageStats
    return s.updatesRecv >= v4Before.updatesRecv + HOPS4.length ? s : undefined
  }, { timeoutMs: 15_000, what: 'FRR to receive the UPDATEs again after soft in' })
  t.equal(v4After.routeRefreshSent - v4Before.routeRefreshSent, 1, 'FRR sent one ROUTE-REFRESH')
  t.equal(v4After.updatesRecv - v4Before.updatesRecv, HOPS4.length, 'answered with one UPDATE per path (no End-of-RIB: no enhanced refresh)')
  t.equal(v4After.notificationsRecv, 0, 'no NOTIFICATION')
  const v6After = (await frrNeighbor(frr, '2001:db8::2')).messageStats
  t.equal(v6After.updatesRecv, v6Before.updatesRecv, 'the IPv6 session, which did not ask, got no UPDATE')
  const paths = (await frr.routes('ipv4')).filter((x) => x.prefix === VIP4)
  t.same(paths.map((x) => x.nextHops[0]).sort(), HOPS4, 'three paths in the BGP table')
  t.same(await gateways(r, VIP4), HOPS4, 'the FIB keeps the three next hops')
  t.ok((await porter.status()).peers.every((x) => x.state === 'Established' && x.flaps === 0), 'no session was reset')
  t.equal(await porter.stop(), 0)
})
