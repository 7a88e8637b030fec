// PeerRoutes: what the peer really has per next hop (status), and the ECMP warning: once per
// negotiated context when the peer did not take ADD-PATH and a prefix has several next hops.
import t from 'tap'
import { PeerRoutes } from './routes.ts'
import type { CodecContext, FamilyKey } from '../wire/index.ts'

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
