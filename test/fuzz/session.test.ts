// The session core under mutated input: two cores Established back to back (test/lib/session-pair.ts),
// then mutated golden vectors arrive on A's connection, cut into random chunks. A never throws,
// never writes a message that does not decode, and reacts as the decoder says it must:
// - what decodes as UPDATEs, KEEPALIVEs, ROUTE-REFRESHes (or is not complete yet) keeps the
//   session Established;
// - the first decoding error after such messages ends it with exactly that NOTIFICATION;
// - a session that went down sent a NOTIFICATION, unless the input held one from the peer;
// and in OpenSent (A waits for B's OPEN): a header or OPEN error ends it with that NOTIFICATION,
// an UPDATE/KEEPALIVE/ROUTE-REFRESH (well-formed or not) with FSM Error 5/1, a partial message
// changes nothing.
import t from 'tap'
import fc from 'fast-check'
import { CorePair, type SideOptions } from '../lib/session-pair.ts'
import { fastCheckSeed, checkProperty } from '../lib/fuzz.ts'
import { decodeOutcome, goldenSeeds, mutatedSeedArb, toHex } from './lib.ts'
import type { FamilyKey } from '../../internal/bgp/wire/index.ts'

const FC = fastCheckSeed(t)
const families: FamilyKey[] = ['ipv4-unicast', 'ipv6-unicast']
const A: SideOptions = { localAs: 65001, routerId: '192.0.2.1', families, routes: [{ prefix: '203.0.113.10/32', nextHops: ['192.0.2.11'] }] }
const B: SideOptions = { localAs: 65002, routerId: '192.0.2.2', families, passive: true }

function established(): CorePair {
  const p = new CorePair(A, B)
  p.step(() => { p.b.start(); p.a.start() })
  if (p.a.state !== 'Established' || p.b.state !== 'Established') throw new Error(`not established: ${p.a.state} ${p.b.state}`)
  return p
}

const STAYS_UP = /^(update|keepalive|route-refresh|incomplete)/

t.test('a pair reaches Established (the harness works)', async (t) => {
  const p = established()
  t.equal(p.a.state, 'Established')
  t.same(p.a.core.negotiated?.families, families)
})

t.test('mutated golden vectors on an Established session', async (t) => {
  const seen = { up: 0, notified: 0, peerNotification: 0 }
  checkProperty(t, FC, 'session core', fc.property(
    mutatedSeedArb(goldenSeeds()),
    fc.array(fc.nat(), { maxLength: 4 }),
    (x, cuts) => {
      const p = established()
      const conn = p.a.conn!
      const ctx = p.a.core.negotiated!.codec
      const expected = decodeOutcome(x.bytes, ctx)
      const at = [...new Set(cuts.map((c) => c % (x.bytes.length + 1)))].sort((a, b) => a - b)
      const chunks = [0, ...at].map((from, i) => x.bytes.subarray(from, [...at, x.bytes.length][i]))
      const trace = p.step(() => { for (const c of chunks) p.a.feed({ type: 'received', conn, bytes: c }) })
      const sent = trace.filter((l) => l.startsWith('A>B NOTIFICATION')).map((l) => l.split(' ')[2])
      const why = `input ${toHex(x.bytes)} (from ${x.seed}), decoder: ${expected.join('; ')}, trace: ${trace.join(' | ')}`
      const firstOther = expected.findIndex((o) => !STAYS_UP.test(o))
      if (firstOther === -1) {
        if (p.a.state !== 'Established') throw new Error(`session went down on acceptable input: ${why}`)
        seen.up++
        return true
      }
      const o = expected[firstOther]!
      if (o.startsWith('error ')) {
        if (sent[0] !== o.slice(6)) throw new Error(`expected NOTIFICATION ${o.slice(6)}, sent ${sent.join(', ') || 'none'}: ${why}`)
        if (p.a.state === 'Established') throw new Error(`still Established after a decoding error: ${why}`)
        seen.notified++
      } else if (o === 'notification') {
        if (p.a.state === 'Established') throw new Error(`still Established after the peer's NOTIFICATION: ${why}`)
        seen.peerNotification++
      } else if (p.a.state !== 'Established' && sent.length === 0) {
        throw new Error(`session down without a NOTIFICATION: ${why}`)
      }
      return true
    },
  ), 3000)
  t.ok(seen.up > 0 && seen.notified > 0 && seen.peerNotification > 0, `all three kinds of input reached the core: ${JSON.stringify(seen)}`)
})

/** A dialled B and sent its OPEN; B's answers are lost: A waits in OpenSent. */
function openSent(): CorePair {
  const p = new CorePair(A, B)
  p.b.muted = true
  p.step(() => { p.b.start(); p.a.start() })
  if (p.a.state !== 'OpenSent') throw new Error(`A is ${p.a.state}, not OpenSent`)
  return p
}

t.test('mutated golden vectors in OpenSent', async (t) => {
  const seen: Record<string, number> = {}
  checkProperty(t, FC, 'session core in OpenSent', fc.property(mutatedSeedArb(goldenSeeds()), (x) => {
    const p = openSent()
    const conn = p.a.conn!
    // no capabilities negotiated yet: the decoder's defaults
    const expected = decodeOutcome(x.bytes, { as4: false, addPathRx: new Set(), addPathTx: new Set(), maxMessageLength: 4096 })
    const trace = p.step(() => p.a.feed({ type: 'received', conn, bytes: x.bytes }))
    const sent = trace.filter((l) => l.startsWith('A>B NOTIFICATION')).map((l) => l.split(' ')[2])
    const why = `input ${toHex(x.bytes)} (from ${x.seed}), decoder: ${expected.join('; ')}, trace: ${trace.join(' | ')}`
    const first = expected[0] ?? 'nothing'
    const kind = first.split(' ')[0]!
    seen[kind] = (seen[kind] ?? 0) + 1
    if (first === 'nothing' || first === 'incomplete') {
      if (p.a.state !== 'OpenSent' || trace.length) throw new Error(`a partial message changed something: ${why}`)
    } else if (/^error [12]\//.test(first)) {
      if (sent[0] !== first.slice(6) || p.a.state === 'OpenSent') throw new Error(`expected NOTIFICATION ${first.slice(6)}: ${why}`)
    } else if (/^(update|keepalive|route-refresh|error [37]\/)/.test(first)) {
      // an UPDATE or ROUTE-REFRESH is unexpected in OpenSent whatever its body (RFC 4271 8.2.2, RFC 6608)
      if (sent[0] !== '5/1') throw new Error(`expected FSM Error 5/1 (unexpected message in OpenSent): ${why}`)
    } else if (first === 'notification') {
      if (sent.length || p.a.state === 'OpenSent') throw new Error(`a NOTIFICATION from the peer must end OpenSent without an answer: ${why}`)
    } else if (first === 'open' && p.a.state !== 'OpenConfirm' && !/^2\//.test(sent[0] ?? '')) {
      throw new Error(`an OPEN must lead to OpenConfirm or an OPEN Message Error: ${why}`)
    }
    return true
  }), 3000)
  t.ok(['error', 'open', 'update', 'notification'].every((k) => (seen[k] ?? 0) > 0), `inputs of every kind: ${JSON.stringify(seen)}`)
})
