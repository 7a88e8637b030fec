// Adj-RIB-Out step tables (MetalLB allocator-test style): one RIB, a story of set() calls, the
// expected diff after each, then commit as the session would after writing the UPDATEs.
import t, { type Test } from 'tap'
import type { FamilyKey, PathAttributes } from '../wire/types.ts'
import { toNlri } from '../wire/nlri.ts'
import { parseAddress } from '../../ip/index.ts'
import { AdjRibOut, diffSize, isEmptyDiff, type Advertisement, type ExportContext, type RibDiff } from './adj-rib-out.ts'
import { formatCommunity } from './community.ts'
import { pathIdFor } from './pathid.ts'
import { endOfRib } from '../wire/route-refresh.ts'
import { announceUpdate, withdrawUpdate } from '../../../test/lib/bgp-updates.ts'

const NH = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '2001:db8::a', '2001:db8::b', '2001:db8::c', '198.51.100.1', '2001:db8:ffff::1']
const idName = new Map<number, string>(NH.map((a) => [pathIdFor(parseAddress(a)!), a]))

function attrsText(a: Readonly<PathAttributes>): string {
  const parts: string[] = []
  if (a.med !== undefined) parts.push(`med=${a.med}`)
  if (a.localPref !== undefined) parts.push(`lp=${a.localPref}`)
  if (a.communities) parts.push(`c=${a.communities.map(formatCommunity).join(',')}`)
  if (a.largeCommunities) parts.push(`lc=${a.largeCommunities.map((c) => `${c.global}:${c.local1}:${c.local2}`).join(',')}`)
  const asPath = (a.asPath ?? []).flatMap((s) => s.asns).join(' ')
  if (asPath !== '') parts.push(`as=${asPath}`)
  return parts.join(' ')
}

/** A diff as sorted lines: "+ prefix#id via nh [attrs]" and "- prefix#id"; "#id" names the next hop whose hash it is. */
function render(d: RibDiff): string[] {
  const id = (p: number | undefined) => (p === undefined ? '' : `#${idName.get(p) ?? p}`)
  const lines: string[] = []
  for (const w of d.withdraw) for (const n of w.nlri.map(toNlri)) lines.push(`- ${n.prefix.addr}/${n.prefix.len}${id(n.pathId)}`)
  for (const g of d.announce) {
    const nh = g.attrs.nextHop ?? g.attrs.mpReach?.nextHop
    for (const n of g.nlri.map(toNlri)) lines.push(`+ ${n.prefix.addr}/${n.prefix.len}${id(n.pathId)} via ${nh} [${attrsText(g.attrs)}]`)
  }
  return lines.sort()
}

/** `status` is checked after the commit. */
type Step = { name: string; set?: Advertisement[]; want: string[]; status?: Partial<ReturnType<AdjRibOut['status']>> }

function story(t: Test, rib: AdjRibOut, steps: Step[]): void {
  t.ok(steps.length > 0, 'story has steps')
  for (const s of steps) {
    if (s.set) rib.set(s.set)
    const d = rib.pending()
    t.same(render(d), [...s.want].sort(), s.name)
    rib.commit(d)
    if (s.status) t.match(rib.status(), s.status, `${s.name}: status`)
    t.ok(isEmptyDiff(rib.pending()), `${s.name}: nothing pending after commit`)
  }
}

const ebgp = (over: Partial<ExportContext> = {}): ExportContext => ({
  localAs: 65001, peerAs: 65002, addPathTx: new Set<FamilyKey>(['ipv4-unicast', 'ipv6-unicast']), nextHopMode: 'as-given', ...over,
})

t.test('ADD-PATH: one path per next hop, withdrawals per path id', async (t) => {
  const rib = new AdjRibOut(ebgp())
  const vip1 = (nextHops: string[], attrs?: Advertisement['attrs']): Advertisement => ({ prefix: '192.0.2.10/32', nextHops, ...(attrs ? { attrs } : {}) })
  const vip2 = (nextHops: string[]): Advertisement => ({ prefix: '2001:db8::10/128', nextHops, attrs: { communities: ['65000:100'] } })
  story(t, rib, [
    { name: 'nothing to announce', set: [], want: [] },
    {
      name: 'VIP with three next hops: three paths',
      set: [vip1(['192.0.2.3', '192.0.2.1', '192.0.2.2'])],
      want: [
        '+ 192.0.2.10/32#192.0.2.1 via 192.0.2.1 [as=65001]',
        '+ 192.0.2.10/32#192.0.2.2 via 192.0.2.2 [as=65001]',
        '+ 192.0.2.10/32#192.0.2.3 via 192.0.2.3 [as=65001]',
      ],
      status: { prefixes: 1, paths: 3, ecmpUnavailable: false, addPath: { 'ipv4-unicast': true, 'ipv6-unicast': true } },
    },
    { name: 'same set again: nothing', set: [vip1(['192.0.2.1', '192.0.2.2', '192.0.2.3'])], want: [] },
    { name: 'a next hop goes: only its path is withdrawn', set: [vip1(['192.0.2.1', '192.0.2.3'])], want: ['- 192.0.2.10/32#192.0.2.2'] },
    {
      name: 'an IPv6 VIP with a community',
      set: [vip1(['192.0.2.1', '192.0.2.3']), vip2(['2001:db8::b', '2001:db8::a'])],
      want: [
        '+ 2001:db8::10/128#2001:db8::a via 2001:db8::a [c=65000:100 as=65001]',
        '+ 2001:db8::10/128#2001:db8::b via 2001:db8::b [c=65000:100 as=65001]',
      ],
    },
    {
      name: 'VIP attributes change: same path ids re-announced (implicit replace), nothing withdrawn',
      set: [vip1(['192.0.2.1', '192.0.2.3'], { med: 10, asPathPrepend: 1 }), vip2(['2001:db8::a', '2001:db8::b'])],
      want: [
        '+ 192.0.2.10/32#192.0.2.1 via 192.0.2.1 [med=10 as=65001 65001]',
        '+ 192.0.2.10/32#192.0.2.3 via 192.0.2.3 [med=10 as=65001 65001]',
      ],
    },
    { name: 'VIP removed: its paths withdrawn', set: [vip2(['2001:db8::a', '2001:db8::b'])], want: ['- 192.0.2.10/32#192.0.2.1', '- 192.0.2.10/32#192.0.2.3'] },
    { name: 'no next hops left: withdrawn', set: [vip2([])], want: ['- 2001:db8::10/128#2001:db8::a', '- 2001:db8::10/128#2001:db8::b'], status: { prefixes: 0, paths: 0, sentPaths: 0 } },
  ])
})

t.test('without ADD-PATH: one path per prefix, lowest next hop, implicit replace', async (t) => {
  const rib = new AdjRibOut(ebgp({ addPathTx: new Set() }))
  const vip = (nextHops: string[]): Advertisement[] => [{ prefix: '192.0.2.10/32', nextHops }]
  story(t, rib, [
    { name: 'three next hops: only the lowest is sent', set: vip(['192.0.2.3', '192.0.2.1', '192.0.2.2']), want: ['+ 192.0.2.10/32 via 192.0.2.1 [as=65001]'], status: { ecmpUnavailable: true, singlePathPrefixes: 1, paths: 1 } },
    { name: 'the chosen next hop goes: re-announced via the next lowest, no withdrawal', set: vip(['192.0.2.3', '192.0.2.2']), want: ['+ 192.0.2.10/32 via 192.0.2.2 [as=65001]'] },
    { name: 'another next hop goes: nothing to send', set: vip(['192.0.2.2']), want: [], status: { ecmpUnavailable: false, singlePathPrefixes: 0 } },
    { name: 'the last next hop goes: withdrawn', set: vip([]), want: ['- 192.0.2.10/32'] },
    { name: 'back with one next hop', set: vip(['192.0.2.2']), want: ['+ 192.0.2.10/32 via 192.0.2.2 [as=65001]'] },
  ])
  t.same(rib.status().addPath, { 'ipv4-unicast': false, 'ipv6-unicast': false })
})

t.test('ADD-PATH for IPv4 only: IPv6 prefixes get one path', async (t) => {
  const rib = new AdjRibOut(ebgp({ addPathTx: new Set(['ipv4-unicast']) }))
  rib.set([{ prefix: '192.0.2.10/32', nextHops: ['192.0.2.1', '192.0.2.2'] }, { prefix: '2001:db8::10/128', nextHops: ['2001:db8::b', '2001:db8::a'] }])
  t.same(render(rib.pending()), [
    '+ 192.0.2.10/32#192.0.2.1 via 192.0.2.1 [as=65001]',
    '+ 192.0.2.10/32#192.0.2.2 via 192.0.2.2 [as=65001]',
    '+ 2001:db8::10/128 via 2001:db8::a [as=65001]',
  ])
  t.match(rib.status(), { ecmpUnavailable: true, singlePathPrefixes: 1 })
})

t.test('session lifecycle: reset re-sends everything, partial commits, route refresh', async (t) => {
  const rib = new AdjRibOut(ebgp())
  const advs: Advertisement[] = [
    { prefix: '192.0.2.10/32', nextHops: ['192.0.2.1', '192.0.2.2'] },
    { prefix: '192.0.2.11/32', nextHops: ['192.0.2.1'] },
  ]
  rib.set(advs)
  const first = rib.pending()
  t.same(diffSize(first), { withdrawn: 0, announced: 3 })
  t.same(first.announce.map((g) => g.nlri.length), [2, 1], 'grouped by next hop: .1 carries two prefixes')

  // the session wrote only part of the first group before the socket died... commit that part
  const g0 = first.announce[0]!
  rib.commit({ withdraw: [], announce: [{ ...g0, nlri: g0.nlri.slice(0, 1) }] })
  t.same(diffSize(rib.pending()), { withdrawn: 0, announced: 2 }, 'the rest is still pending')
  t.equal(rib.status().sentPaths, 1)

  rib.reset()
  t.same(render(rib.pending()), render(first), 'after reset everything is pending again')
  rib.commit(rib.pending())
  t.ok(isEmptyDiff(rib.pending()))

  // route refresh: all() re-sends what the peer should have; committing it changes nothing
  const refresh = rib.all()
  t.same(render(refresh), render(first))
  t.equal(refresh.withdraw.length, 0)
  rib.commit(refresh)
  t.ok(isEmptyDiff(rib.pending()))

  // a change arrives between pending() and commit(): commit what was sent, the change stays pending
  rib.set([advs[0]!])
  const d = rib.pending()
  rib.set(advs)
  rib.commit(d)
  t.same(render(rib.pending()), ['+ 192.0.2.11/32#192.0.2.1 via 192.0.2.1 [as=65001]'])
})

t.test('next-hop self on iBGP: one path via our address, LOCAL_PREF, empty AS_PATH', async (t) => {
  const rib = new AdjRibOut({
    localAs: 65001, peerAs: 65001, addPathTx: new Set(['ipv4-unicast', 'ipv6-unicast']), nextHopMode: 'self',
    selfAddress: { ipv4: '198.51.100.1' }, peerAttrs: { localPref: 200, communities: ['no-export'] },
  })
  story(t, rib, [
    {
      name: 'three next hops collapse into self; IPv6 has no self address',
      set: [
        { prefix: '192.0.2.10/32', nextHops: ['192.0.2.1', '192.0.2.2', '192.0.2.3'] },
        { prefix: '2001:db8::10/128', nextHops: ['2001:db8::a'] },
      ],
      want: ['+ 192.0.2.10/32#198.51.100.1 via 198.51.100.1 [lp=200 c=65535:65281]'],
      status: { prefixes: 1, paths: 1, skipped: [{ prefix: '2001:db8::10/128', reason: 'next-hop self: no local IPv6 address for this peer' }] },
    },
  ])
  rib.setContext({
    localAs: 65001, peerAs: 65001, addPathTx: new Set(['ipv4-unicast', 'ipv6-unicast']), nextHopMode: 'self',
    selfAddress: { ipv4: '198.51.100.1', ipv6: '2001:db8:ffff::1', ipv6LinkLocal: 'fe80::1' }, peerAttrs: { localPref: 200, communities: ['no-export'] },
  })
  const d = rib.pending()
  t.same(render(d), ['+ 2001:db8::10/128#2001:db8:ffff::1 via 2001:db8:ffff::1 [lp=200 c=65535:65281]'])
  t.equal(d.announce[0]?.attrs.mpReach?.linkLocalNextHop, 'fe80::1')
})

t.test('families not negotiated are skipped and reported', async (t) => {
  const rib = new AdjRibOut(ebgp({ families: new Set(['ipv4-unicast']) }))
  rib.set([{ prefix: '192.0.2.10/32', nextHops: ['192.0.2.1'] }, { prefix: '2001:db8::10/128', nextHops: ['2001:db8::a'] }])
  t.same(render(rib.pending()), ['+ 192.0.2.10/32#192.0.2.1 via 192.0.2.1 [as=65001]'])
  t.same(rib.status().skipped, [{ prefix: '2001:db8::10/128', reason: 'address family ipv6-unicast was not negotiated with this peer' }])
})

t.test('peer attributes change (config reload): everything re-announced with the new attributes', async (t) => {
  const rib = new AdjRibOut(ebgp({ peerAttrs: { communities: ['65000:1'] } }))
  story(t, rib, [
    { name: 'announce', set: [{ prefix: '192.0.2.10/32', nextHops: ['192.0.2.1'], attrs: { med: 5 } }], want: ['+ 192.0.2.10/32#192.0.2.1 via 192.0.2.1 [med=5 c=65000:1 as=65001]'] },
  ])
  rib.setContext(ebgp({ peerAttrs: { communities: ['65000:2'], largeCommunities: ['65001:0:1'] } }))
  t.same(render(rib.pending()), ['+ 192.0.2.10/32#192.0.2.1 via 192.0.2.1 [med=5 c=65000:2 lc=65001:0:1 as=65001]'])
})

t.test('new session without ADD-PATH: setContext + reset re-sends in the new encoding', async (t) => {
  const rib = new AdjRibOut(ebgp())
  rib.set([{ prefix: '192.0.2.10/32', nextHops: ['192.0.2.1', '192.0.2.2'] }])
  rib.commit(rib.pending())
  rib.reset()
  rib.setContext(ebgp({ addPathTx: new Set() }))
  t.same(render(rib.pending()), ['+ 192.0.2.10/32 via 192.0.2.1 [as=65001]'])
})

t.test('bad input throws PorterError naming the value and keeps the previous set', async (t) => {
  const rib = new AdjRibOut(ebgp())
  rib.set([{ prefix: '192.0.2.10/32', nextHops: ['192.0.2.1'] }])
  const bad: [Advertisement, RegExp][] = [
    [{ prefix: '192.0.2.10/24', nextHops: ['192.0.2.1'] }, /^Cannot advertise "192\.0\.2\.10\/24": host bits are set/],
    [{ prefix: '192.0.2.300/32', nextHops: ['192.0.2.1'] }, /"192\.0\.2\.300" is not an IP address/],
    [{ prefix: '192.0.2.10/32', nextHops: ['node-a'] }, /via next hop "node-a": not an IP address/],
    [{ prefix: '192.0.2.10/32', nextHops: ['2001:db8::a'] }, /via next hop "2001:db8::a": next hop and prefix are of different address families/],
    [{ prefix: '192.0.2.10/32', nextHops: ['192.0.2.1'], attrs: { communities: ['65000:1', 'no-such'] } }, /^Cannot advertise "192\.0\.2\.10\/32": Cannot parse community "no-such"/],
    [{ prefix: '192.0.2.10/32', nextHops: ['192.0.2.1'], attrs: { largeCommunities: ['1:2'] } }, /large community "1:2"/],
  ]
  for (const [adv, re] of bad) {
    t.throws(() => rib.set([{ prefix: '192.0.2.20/32', nextHops: ['192.0.2.2'] }, adv]), { name: 'PorterError', code: 'PORTER_ERR_CONFIG_INVALID', message: re }, re.source)
  }
  t.same(render(rib.pending()), ['+ 192.0.2.10/32#192.0.2.1 via 192.0.2.1 [as=65001]'], 'previous desired set intact')
  t.throws(() => new AdjRibOut(ebgp({ localAs: 0 })), { code: 'PORTER_ERR_CONFIG_INVALID' })
  t.throws(() => rib.setContext(ebgp({ peerAttrs: { communities: ['bad'] } })), { code: 'PORTER_ERR_CONFIG_INVALID', message: /"bad"/ })
  t.same(render(rib.pending()), ['+ 192.0.2.10/32#192.0.2.1 via 192.0.2.1 [as=65001]'], 'failed setContext keeps the old context')
})

t.test('the same prefix twice: next hops merged, order does not matter', async (t) => {
  const a: Advertisement = { prefix: '192.0.2.10/32', nextHops: ['192.0.2.1', '192.0.2.2'], attrs: { med: 1 } }
  const b: Advertisement = { prefix: '192.0.2.10/32', nextHops: ['192.0.2.2', '192.0.2.3'], attrs: { med: 2 } }
  const r1 = new AdjRibOut(ebgp())
  r1.set([a, b])
  const r2 = new AdjRibOut(ebgp())
  r2.set([b, a])
  t.same(render(r1.pending()), render(r2.pending()))
  t.same(render(r1.pending()), [
    '+ 192.0.2.10/32#192.0.2.1 via 192.0.2.1 [med=1 as=65001]',
    '+ 192.0.2.10/32#192.0.2.2 via 192.0.2.2 [med=1 as=65001]',
    '+ 192.0.2.10/32#192.0.2.3 via 192.0.2.3 [med=2 as=65001]',
  ])
})

t.test('packing: many prefixes share one group and one frozen attributes object', async (t) => {
  const rib = new AdjRibOut(ebgp({ addPathTx: new Set() }))
  const attrs = { communities: ['65000:7'] }
  const advs = Array.from({ length: 1000 }, (_, i): Advertisement => ({ prefix: `198.18.${i >> 8}.${i & 255}/32`, nextHops: ['192.0.2.1'], attrs: { ...attrs } }))
  rib.set(advs)
  const d1 = rib.pending()
  t.equal(d1.announce.length, 1)
  t.equal(d1.announce[0]?.nlri.length, 1000)
  rib.set([...advs, { prefix: '198.18.100.0/32', nextHops: ['192.0.2.1'], attrs }])
  const d2 = rib.pending()
  t.equal(d2.announce[0]?.attrs, d1.announce[0]?.attrs, 'same attributes object across set() calls')
})

t.test('UPDATE placement helpers', async (t) => {
  const rib = new AdjRibOut(ebgp())
  rib.set([{ prefix: '192.0.2.10/32', nextHops: ['192.0.2.1'] }, { prefix: '2001:db8::10/128', nextHops: ['2001:db8::a'] }])
  const d = rib.pending()
  const v4 = d.announce.find((g) => g.family === 'ipv4-unicast')!
  const v6 = d.announce.find((g) => g.family === 'ipv6-unicast')!
  const id4 = pathIdFor(parseAddress('192.0.2.1')!)
  const id6 = pathIdFor(parseAddress('2001:db8::a')!)
  t.same(announceUpdate(v4, v4.nlri), {
    type: 'update', withdrawn: [], nlri: [{ prefix: { afi: 1, addr: '192.0.2.10', len: 32 }, pathId: id4 }],
    attrs: { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '192.0.2.1' },
  })
  const u6 = announceUpdate(v6, v6.nlri)
  t.same(u6, {
    type: 'update', withdrawn: [], nlri: [],
    attrs: { origin: 0, asPath: [{ type: 2, asns: [65001] }], mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::a', nlri: [{ prefix: { afi: 2, addr: '2001:db8::10', len: 128 }, pathId: id6 }] } },
  })
  t.same(v6.attrs.mpReach?.nlri, [], 'the shared group attributes are not modified')
  t.same(withdrawUpdate('ipv4-unicast', v4.nlri), { type: 'update', withdrawn: [{ prefix: { afi: 1, addr: '192.0.2.10', len: 32 }, pathId: id4 }], attrs: {}, nlri: [] })
  t.same(withdrawUpdate('ipv6-unicast', v6.nlri), { type: 'update', withdrawn: [], attrs: { mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: { afi: 2, addr: '2001:db8::10', len: 128 }, pathId: id6 }] } }, nlri: [] })
  t.same(endOfRib('ipv4-unicast'), { type: 'update', withdrawn: [], attrs: {}, nlri: [] })
  t.same(endOfRib('ipv6-unicast').attrs.mpUnreach, { afi: 2, safi: 1, withdrawn: [] })
})

t.test('a batch of 10k VIPs, one address replaced: one withdrawal and one announcement, the rest kept as they were', async (t) => {
  const rib = new AdjRibOut(ebgp({ addPathTx: new Set() }))
  const addrs = Array.from({ length: 10_000 }, (_, i) => `198.18.${i >> 8}.${i & 255}`)
  const attrs = { communities: ['65000:100'] }
  rib.set([{ prefixes: addrs, nextHops: ['192.0.2.1', '2001:db8::1'], attrs }])
  const first = rib.pending()
  t.equal(diffSize(first).announced, 10_000, 'every address, with the next hop of its family')
  t.equal(first.announce.length, 1, 'one group')
  rib.commit(first)
  t.ok(isEmptyDiff(rib.pending()), 'nothing pending')
  const next = [...addrs]
  next[5] = '203.0.113.5'
  // a reload: a new list and a new attributes object with the same content
  rib.set([{ prefixes: next, nextHops: ['192.0.2.1', '2001:db8::1'], attrs: { communities: ['65000:100'] } }])
  const d = rib.pending()
  t.same(render(d), ['+ 203.0.113.5/32 via 192.0.2.1 [c=65000:100 as=65001]', '- 198.18.0.5/32'].sort())
  rib.commit(d)
  t.ok(isEmptyDiff(rib.pending()), 'nothing pending after the commit')
  t.match(rib.status(), { prefixes: 10_000, paths: 10_000, sentPaths: 10_000 })
  t.same(rib.sentNextHops('203.0.113.5/32'), ['192.0.2.1'])
  t.same(rib.sentNextHops('198.18.0.5'), [], 'the old address is gone')
})

t.test('reloads before the UPDATEs are written: what the peer has stays known while its table is the desired one', async (t) => {
  // after a whole diff is committed the sent table is the desired table itself; a reload that
  // replaces a few prefixes in place, a partial commit and a whole new set must each still
  // leave what the peer has as it was
  const rib = new AdjRibOut(ebgp({ addPathTx: new Set() }))
  const batch = (prefixes: string[], nh = '2001:db8::1') => [{ prefixes, nextHops: [nh] }]
  rib.set(batch(['2001:db8::a1', '2001:db8::b1']))
  rib.commit(rib.pending())
  rib.set(batch(['2001:db8::c1', '2001:db8::b1'])) // a1 -> c1
  rib.set(batch(['2001:db8::c1', '2001:db8::d1'])) // b1 -> d1, before anything is written
  t.same(rib.sentNextHops('2001:db8::a1'), ['2001:db8::1'], 'a1: the peer still has it')
  t.same(rib.sentNextHops('2001:db8::c1'), [], 'c1: not sent yet')
  t.match(rib.status(), { prefixes: 2, sentPaths: 2 })
  const d = rib.pending()
  t.same(render(d), ['+ 2001:db8::c1/128 via 2001:db8::1 [as=65001]', '+ 2001:db8::d1/128 via 2001:db8::1 [as=65001]', '- 2001:db8::a1/128', '- 2001:db8::b1/128'].sort())
  // the session wrote the first UPDATE only
  rib.commit({ withdraw: [], announce: d.announce.map((g) => ({ ...g, nlri: g.nlri.filter((n) => toNlri(n).prefix.addr === '2001:db8::c1') })) })
  t.same(render(rib.pending()), ['+ 2001:db8::d1/128 via 2001:db8::1 [as=65001]', '- 2001:db8::a1/128', '- 2001:db8::b1/128'].sort(), 'the rest')
  rib.commit(rib.pending())
  t.match(rib.status(), { prefixes: 2, sentPaths: 2 })
  // a small change, then a whole new set (another next hop) before the change is written
  rib.set(batch(['2001:db8::e1', '2001:db8::d1']))
  rib.set(batch(['2001:db8::e1', '2001:db8::d1'], '2001:db8::2'))
  t.same(rib.sentNextHops('2001:db8::c1'), ['2001:db8::1'], 'c1: the peer still has it')
  const d2 = rib.pending()
  t.same(render(d2), ['+ 2001:db8::d1/128 via 2001:db8::2 [as=65001]', '+ 2001:db8::e1/128 via 2001:db8::2 [as=65001]', '- 2001:db8::c1/128'].sort())
  rib.commit({ withdraw: [], announce: d2.announce.map((g) => ({ ...g, nlri: g.nlri.filter((n) => toNlri(n).prefix.addr === '2001:db8::e1') })) })
  t.same(render(rib.pending()), ['+ 2001:db8::d1/128 via 2001:db8::2 [as=65001]', '- 2001:db8::c1/128'].sort(), 'the rest')
  rib.commit(rib.pending())
  t.same(rib.sentNextHops('2001:db8::e1'), ['2001:db8::2'])
  t.same(rib.sentNextHops('2001:db8::c1'), [], 'c1: withdrawn')
  t.ok(isEmptyDiff(rib.pending()), 'nothing pending')
  // a route refresh of one family: everything again
  rib.reset('ipv6-unicast')
  t.equal(diffSize(rib.pending()).announced, 2, 'both again after a refresh')
})
