// PeerRoutes: what the peer really has per next hop (status), and the ECMP warning: once per
// negotiated context when the peer did not take ADD-PATH and a prefix has several next hops.
import t from 'tap'
import { PeerRoutes } from './routes.ts'
import { community, decode, splitMessages, type CodecContext, type FamilyKey } from '../wire/index.ts'

const ctx = (addPathTx: FamilyKey[]): CodecContext => ({ as4: true, addPathTx: new Set(addPathTx), addPathRx: new Set(), maxMessageLength: 4096 })
const FAMS: FamilyKey[] = ['ipv4-unicast', 'ipv6-unicast']
const vip = (hops: string[]) => [{ prefix: '203.0.113.10/32', nextHops: hops }, { prefix: '2001:db8::10/128', nextHops: ['2001:DB8::2', '2001:db8::1'] }]

function setup(addPath = true) {
  const warnings: { addPathTx: FamilyKey[]; singlePathPrefixes: number }[] = []
  const r = new PeerRoutes({ localAs: 65001, peerAs: 65002, nextHop: 'as-given', export: {}, addPath, onEcmpUnavailable: (i) => warnings.push(i) })
  /** one Established round: everything the RIB hands out is written */
  const send = (c: CodecContext, full = false) => { const d = r.drain(c, FAMS, full); [...d.chunks]; d.commit() }
  return { r, warnings, send }
}

t.test('without ADD-PATH the peer has one next hop per prefix; one warning per negotiated context', async (t) => {
  const { r, warnings, send } = setup()
  r.set(vip(['198.51.100.3', '198.51.100.1', '198.51.100.2']))
  t.same(warnings, [], 'nothing before a session: the table assumes ADD-PATH until negotiated')
  t.same(r.sentNextHops('203.0.113.10/32'), [], 'nothing sent yet')
  send(ctx([]), true)
  t.same(warnings, [{ addPathTx: [], singlePathPrefixes: 2 }], 'warned once the peer negotiated no ADD-PATH')
  t.same(r.sentNextHops('203.0.113.10/32'), ['198.51.100.1'], 'the peer has the lowest next hop only')
  t.same(r.sentNextHops('2001:db8::10/128'), ['2001:db8::1'], 'canonical addresses')
  r.set(vip(['198.51.100.3', '198.51.100.2']))
  send(ctx([]))
  r.reset() // session down, and up again with the same negotiation
  send(ctx([]), true)
  t.equal(warnings.length, 1, 'no second warning: not per change, not per session flap')
  t.same(r.sentNextHops('203.0.113.10/32'), ['198.51.100.2'])
  send(ctx(['ipv4-unicast']), true)
  t.same(warnings, [{ addPathTx: [], singlePathPrefixes: 2 }, { addPathTx: ['ipv4-unicast'], singlePathPrefixes: 1 }], 'a new negotiation (IPv6 still without ADD-PATH) warns again')
  t.same(r.sentNextHops('203.0.113.10/32'), ['198.51.100.2', '198.51.100.3'], 'with ADD-PATH every next hop')
  t.same(r.sentNextHops('203.0.113.99/32'), [], 'a prefix it does not have')
})

t.test('no warning with ADD-PATH on both families, or when ADD-PATH is off by configuration', async (t) => {
  const a = setup()
  a.r.set(vip(['198.51.100.1', '198.51.100.2']))
  a.send(ctx(FAMS), true)
  t.same(a.warnings, [])
  t.same(a.r.sentNextHops('203.0.113.10/32'), ['198.51.100.1', '198.51.100.2'])
  const b = setup(false)
  b.r.set(vip(['198.51.100.1', '198.51.100.2']))
  b.send(ctx([]), true)
  t.same(b.warnings, [], 'addPath: false is the operator\'s choice (status says "off")')
  t.same(b.r.sentNextHops('203.0.113.10/32'), ['198.51.100.1'])
})

/** every UPDATE of one drain, decoded, in the order they would be written */
function drainUpdates(r: PeerRoutes, c: CodecContext, full = false) {
  const d = r.drain(c, FAMS, full)
  const rx: CodecContext = { ...c, addPathRx: c.addPathTx, addPathTx: new Set() } // the peer's side
  const msgs = [...d.chunks].flatMap((chunk) => splitMessages(chunk).messages.map((m) => decode(m, rx)))
  d.commit()
  return msgs.filter((m) => m.type === 'update')
}

t.test('make-before-break: when a VIP moves to other next hops the new paths are sent before the old ones are withdrawn', async (t) => {
  for (const addPath of [true, false]) {
    const r = new PeerRoutes({ localAs: 65001, peerAs: 65002, nextHop: 'as-given', export: {}, addPath })
    const c = ctx(addPath ? FAMS : [])
    r.set([{ prefix: '203.0.113.10/32', nextHops: ['198.51.100.1'] }, { prefix: '203.0.113.11/32', nextHops: ['198.51.100.1'] }])
    drainUpdates(r, c, true)
    // .10 moves from .1 to .2 (a rolling update), .11 goes away
    r.set([{ prefix: '203.0.113.10/32', nextHops: ['198.51.100.2'] }])
    const ups = drainUpdates(r, c)
    const kinds = ups.map((u) => (u.type === 'update' && u.nlri.length ? 'announce' : 'withdraw'))
    t.ok(ups.length >= 2, `addPath ${addPath}: ${ups.length} UPDATEs`)
    t.equal(kinds[0], 'announce', `addPath ${addPath}: the first UPDATE announces the new path`)
    t.equal(kinds.lastIndexOf('announce') < kinds.indexOf('withdraw'), true, `addPath ${addPath}: every withdrawal after every announcement (${kinds.join(', ')})`)
    t.same(r.sentNextHops('203.0.113.10/32'), ['198.51.100.2'])
    t.same(r.sentNextHops('203.0.113.11/32'), [])
  }
})

t.test('graceful shutdown (RFC 8326): every route again with GRACEFUL_SHUTDOWN, LOCAL_PREF 0 to an iBGP peer only; undone by setting it off', async (t) => {
  const GSHUT = 0xffff0000
  for (const peerAs of [65002, 65001]) {
    const ibgp = peerAs === 65001
    const r = new PeerRoutes({ localAs: 65001, peerAs, nextHop: 'as-given', export: { communities: ['65001:7'], localPref: ibgp ? 200 : undefined }, addPath: true })
    r.set([{ prefix: '203.0.113.10/32', nextHops: ['198.51.100.1', '198.51.100.2'], attrs: { localPref: ibgp ? 300 : undefined } }, { prefix: '2001:db8::10/128', nextHops: ['2001:db8::1'] }])
    const first = drainUpdates(r, ctx(FAMS), true)
    t.ok(first.every((u) => u.type === 'update' && !u.attrs.communities?.includes(GSHUT)), 'before: no GRACEFUL_SHUTDOWN')
    r.setGracefulShutdown(true)
    const g = drainUpdates(r, ctx(FAMS))
    const announced = g.flatMap((u) => (u.type === 'update' ? [...u.nlri, ...(u.attrs.mpReach?.nlri ?? [])] : []))
    t.equal(announced.length, 3, `${ibgp ? 'iBGP' : 'eBGP'}: all 3 paths re-announced`)
    t.ok(g.every((u) => u.type === 'update' && u.withdrawn.length === 0 && !u.attrs.mpUnreach), 'nothing withdrawn yet')
    for (const u of g) {
      if (u.type !== 'update') continue
      t.same(u.attrs.communities, [community(65001, 7), GSHUT].sort((a, b) => a - b), 'the peer\'s communities kept, GRACEFUL_SHUTDOWN added')
      t.equal(u.attrs.localPref, ibgp ? 0 : undefined, ibgp ? 'iBGP: LOCAL_PREF 0, over the peer\'s and the VIP\'s' : 'eBGP: no LOCAL_PREF')
    }
    t.same(drainUpdates(r, ctx(FAMS)), [], 'sent once')
    r.setGracefulShutdown(false)
    const back = drainUpdates(r, ctx(FAMS))
    t.ok(back.length > 0 && back.every((u) => u.type === 'update' && !u.attrs.communities?.includes(GSHUT)), 'off again: re-announced without it')
  }
})
