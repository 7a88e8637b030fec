// Porter's BGP speaker against a real gobgpd as an iBGP router: one path per next hop
// (ADD-PATH), LOCAL_PREF and communities on iBGP, withdrawal, soft reset.
import t from 'tap'
import { createLab, waitFor } from './lib/netns.ts'
import { Gobgp } from './lib/gobgp.ts'
import { PorterProc } from './lib/porter.ts'
import { routerAndPorter, porterYaml, PORTER_AS, HOPS4, HOPS6 } from './lib/bgp-lab.ts'

t.test('porter <-> gobgpd (iBGP)', async (t) => {
  const lab = createLab(t)
  const { r, p } = await routerAndPorter(lab)
  const gobgp = new Gobgp(lab, { ns: r, as: PORTER_AS, routerId: '192.0.2.1', apiPort: 50071, peers: [
    { address: '192.0.2.2', as: PORTER_AS, passive: true },
    { address: '2001:db8::2', as: PORTER_AS, passive: true, families: ['ipv6'] },
  ] })
  await gobgp.start()
  const yaml = (v4: string[], v6: string[]) => porterYaml({ v4hops: v4, v6hops: v6, routerAs: PORTER_AS, peerExtra: 'export: { localPref: 200 }' })
  const porter = new PorterProc(lab, p, yaml(HOPS4, HOPS6))
  t.teardown(() => porter.cleanup())
  await porter.start()
  const vipPaths = async (fam: 'ipv4' | 'ipv6', prefix: string) => (await gobgp.routes(fam)).filter((x) => x.prefix === prefix)

  await t.test('sessions Established, one path per next hop', async (t) => {
    await porter.waitPeers('Established')
    await gobgp.waitEstablished()
    const v4 = await waitFor(async () => { const x = await vipPaths('ipv4', '203.0.113.10/32'); return x.length === 3 ? x : undefined }, { what: 'three v4 paths' })
    t.same(v4.flatMap((x) => x.bgpNextHop ?? x.nextHops).sort(), HOPS4)
    const v6 = await waitFor(async () => { const x = await vipPaths('ipv6', '2001:db8:100::10/128'); return x.length === 3 ? x : undefined }, { what: 'three v6 paths' })
    t.same(v6.flatMap((x) => x.bgpNextHop ?? x.nextHops).filter((h) => !h.startsWith('fe80')).sort(), HOPS6)
    for (const x of v4) {
      t.equal(x.localPref, 200, 'LOCAL_PREF from the peer export config')
      t.equal(x.med, 50)
      t.same(x.communities, ['65002:200'])
      t.same(x.asPath, [], 'iBGP: empty AS_PATH')
    }
  })

  await t.test('withdrawing a next hop removes exactly its path', async (t) => {
    porter.writeConfig(yaml([HOPS4[0]!, HOPS4[2]!], HOPS6))
    porter.signal('SIGHUP')
    const v4 = await waitFor(async () => { const x = await vipPaths('ipv4', '203.0.113.10/32'); return x.length === 2 ? x : undefined }, { what: 'two paths' })
    t.same(v4.flatMap((x) => x.bgpNextHop ?? x.nextHops).sort(), [HOPS4[0], HOPS4[2]])
    t.equal((await vipPaths('ipv6', '2001:db8:100::10/128')).length, 3, 'IPv6 untouched')
  })

  // (gobgp's soft reset in re-reads its own Adj-RIB-In and sends no ROUTE-REFRESH; BIRD and FRR cover refresh)
  await t.test('a hard reset by the router: porter reconnects and re-announces', async (t) => {
    await gobgp.cli(['neighbor', '192.0.2.2', 'reset'])
    await waitFor(async () => porter.logs().some((l) => l.msg === 'received NOTIFICATION'), { what: 'NOTIFICATION from gobgp' })
    await porter.waitPeers('Established', 60_000)
    const v4 = await waitFor(async () => { const x = await vipPaths('ipv4', '203.0.113.10/32'); return x.length === 2 ? x : undefined }, { timeoutMs: 30_000, what: 'paths back' })
    t.same(v4.flatMap((x) => x.bgpNextHop ?? x.nextHops).sort(), [HOPS4[0], HOPS4[2]])
  })
  t.equal(await porter.stop(), 0)
})
