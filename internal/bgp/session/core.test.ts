// The pure session core, two of them back to back under the manual clock (test/lib/session-pair.ts):
// step tables of what each side writes, closes and becomes, read as a story.
import t, { type Test } from 'tap'
import { CorePair, type SideOptions } from '../../../test/lib/session-pair.ts'
import { SessionCore } from './core.ts'
import { fsmConfig } from '../fsm/index.ts'
import { decode, defaultContext, encode, makeCapabilities } from '../wire/index.ts'
import type { RouteSource, SessionEffect } from './types.ts'

const VIP = { prefix: '203.0.113.10/32', nextHops: ['192.0.2.11'] }
const VIP2 = { prefix: '203.0.113.20/32', nextHops: ['192.0.2.12'] }
const VIP6 = { prefix: '2001:db8:100::10/128', nextHops: ['2001:db8::11'] }
const A: SideOptions = { localAs: 65001, routerId: '192.0.2.1', routes: [VIP] }
const B: SideOptions = { localAs: 65002, routerId: '192.0.2.2' }

interface Step { what: string; run: (p: CorePair) => string[] | Promise<string[]>; trace: string[] }

/** Run a step table: each step's trace must be exactly the one given. */
async function story(t: Test, p: CorePair, steps: Step[]): Promise<void> {
  for (const s of steps) t.same(await s.run(p), s.trace, s.what)
}
// a step that queues events and runs them
const ev = (what: string, f: (p: CorePair) => void, trace: string[]): Step => ({ what, run: (p) => p.step(() => f(p)), trace })
const wait = (ms: number, trace: string[]): Step => ({ what: `${ms} ms later`, run: (p) => p.advance(ms), trace })

/** Both sides Established, A having dialled; the trace is dropped. */
function established(a: SideOptions = A, b: SideOptions = B): CorePair {
  const p = new CorePair(a, { ...b, passive: true })
  p.step(() => { p.b.start(); p.a.start() })
  if (p.a.state !== 'Established' || p.b.state !== 'Established') throw new Error(`not established: ${p.a.state} ${p.b.state}`)
  return p
}

t.test('session establishment, A dialling B', async (t) => {
  const p = new CorePair(A, { ...B, passive: true })
  await story(t, p, [
    ev('B starts passive', (p) => p.b.start(), ['B Active']),
    ev('A starts: dials, OPENs cross, KEEPALIVEs confirm, A sends its route then End-of-RIB', (p) => p.a.start(), [
      'A connect out1 -> B in1',
      'A Connect',
      'B>A OPEN (in1)',
      'B OpenSent',
      'A>B OPEN (out1)',
      'A OpenSent',
      'A>B KEEPALIVE (out1)',
      'A OpenConfirm',
      'B>A KEEPALIVE (in1)',
      'B OpenConfirm',
      'B>A EOR ipv4-unicast (in1)',
      'B Established',
      'A>B UPDATE +203.0.113.10/32 via 192.0.2.11 (out1)',
      'A Established',
      'A>B EOR ipv4-unicast (out1)',
    ]),
    wait(3000, ['A>B KEEPALIVE (out1)', 'B>A KEEPALIVE (in1)']),
  ])
  t.same([p.a.core.connections, p.b.core.connections], [['out1'], ['in1']])
  t.equal(p.a.core.negotiated?.holdTime, 9)
  t.equal(p.b.core.prefixesReceived, 1, 'B counted the route')
})

t.test('session establishment, B dialling A', async (t) => {
  const p = new CorePair({ ...A, passive: true }, B)
  await story(t, p, [
    ev('A starts passive', (p) => p.a.start(), ['A Active']),
    ev('B starts: dials A; A sends its route once Established', (p) => p.b.start(), [
      'B connect out1 -> A in1',
      'B Connect',
      'A>B OPEN (in1)',
      'A OpenSent',
      'B>A OPEN (out1)',
      'B OpenSent',
      'B>A KEEPALIVE (out1)',
      'B OpenConfirm',
      'A>B KEEPALIVE (in1)',
      'A OpenConfirm',
      'A>B UPDATE +203.0.113.10/32 via 192.0.2.11 (in1)',
      'A Established',
      'A>B EOR ipv4-unicast (in1)',
      'B>A EOR ipv4-unicast (out1)',
      'B Established',
    ]),
  ])
  t.same([p.a.core.connections, p.b.core.connections], [['in1'], ['out1']])
})

t.test('an incoming connection while stopped is refused at once', async (t) => {
  const p = new CorePair(A, { ...B, passive: true })
  await story(t, p, [
    ev('A dials B, which was never started', (p) => p.a.start(), [
      'A connect out1 -> B in1',
      'A Connect',
      'B closes in1 (abort)',
      'A OpenSent', // its OPEN is lost: the connection is gone
      'A Active',
    ]),
  ])
  t.ok(p.b.logs.includes('info incoming connection refused: peer is administratively down'))
})

t.test('simultaneous open: one connection survives, chosen by the BGP identifiers', async (t) => {
  t.test('A has the lower identifier: the connection B initiated survives', async (t) => {
    const p = new CorePair(A, B)
    await story(t, p, [
      ev('both start at once and dial each other', (p) => { p.a.start(); p.b.start() }, [
        'A connect out1 -> B in1',
        'A Connect',
        'B connect out1 -> A in1',
        'B Connect',
        // each side's incoming connection is a candidate beside its own dial
        'B>A OPEN (in1)',
        'A>B OPEN (out1)',
        'A OpenSent',
        'A>B OPEN (in1)',
        'B>A OPEN (out1)',
        'B OpenSent',
        // A (lower identifier) closes the connection it initiated, with Cease / Collision
        'A>B KEEPALIVE (out1)',
        'A>B NOTIFICATION 6/7 (out1)',
        'A closes out1',
        'B closes in1',
        'B>A KEEPALIVE (out1)',
        'B OpenConfirm',
        'A>B KEEPALIVE (in1)',
        'A OpenConfirm',
        'A>B UPDATE +203.0.113.10/32 via 192.0.2.11 (in1)',
        'A Established',
        'A>B EOR ipv4-unicast (in1)',
        'B>A EOR ipv4-unicast (out1)',
        'B Established',
      ]),
      wait(60_000, Array.from({ length: 40 }, (_, i) => (i % 2 ? 'A>B KEEPALIVE (in1)' : 'B>A KEEPALIVE (out1)'))),
    ])
    t.same([p.a.core.connections, p.b.core.connections], [['in1'], ['out1']], 'one connection: B out1 = A in1')
    t.same([p.a.core.flaps, p.b.core.flaps], [0, 0])
  })

  t.test('A has the higher identifier: the connection A initiated survives', async (t) => {
    const p = new CorePair({ ...A, routerId: '192.0.2.3' }, B)
    p.step(() => { p.a.start(); p.b.start() })
    const notes = p.trace.filter((l) => l.includes('NOTIFICATION') || l.includes('closes'))
    t.same(notes, ['A>B NOTIFICATION 6/7 (in1)', 'A closes in1', 'B closes out1'], 'A (higher identifier) closes the connection B initiated')
    t.same([p.a.state, p.b.state], ['Established', 'Established'])
    t.same([p.a.core.connections, p.b.core.connections], [['out1'], ['in1']], 'one connection: A out1 = B in1')
    t.equal(p.b.core.prefixesReceived, 1, 'the route went over the surviving connection')
  })
})

t.test('hold timer: a peer that goes silent is dropped after the hold time', async (t) => {
  const p = established()
  await story(t, p, [
    ev('B goes silent (everything it writes is lost)', (p) => { p.b.muted = true }, []),
    wait(8999, ['A>B KEEPALIVE (out1)', 'A>B KEEPALIVE (out1)']),
    wait(1, [
      'A>B NOTIFICATION 4/0 (out1)',
      'A closes out1',
      'A Idle',
      'B closes in1',
      'B Idle',
    ]),
  ])
  t.equal(p.a.core.lastError, 'hold timer expired')
  t.equal(p.a.core.flaps, 1)
  t.equal(p.b.core.lastError, 'peer sent NOTIFICATION Hold Timer Expired subcode 0')
})

t.test('End-of-RIB follows the initial routes, one per family', async (t) => {
  const families = ['ipv4-unicast', 'ipv6-unicast'] as const
  const p = new CorePair({ ...A, families: [...families], routes: [VIP, VIP2, VIP6] }, { ...B, passive: true, families: [...families] })
  p.step(() => { p.b.start(); p.a.start() })
  t.same(p.trace.filter((l) => l.startsWith('A>B') && !/OPEN|KEEPALIVE/.test(l)), [
    'A>B UPDATE +203.0.113.10/32 via 192.0.2.11 (out1)',
    'A>B UPDATE +203.0.113.20/32 via 192.0.2.12 (out1)',
    'A>B UPDATE +2001:db8:100::10/128 via 2001:db8::11 (out1)',
    'A>B EOR ipv4-unicast (out1)',
    'A>B EOR ipv6-unicast (out1)',
  ])
  t.same(p.trace.filter((l) => l.startsWith('B>A') && !/OPEN|KEEPALIVE/.test(l)), ['B>A EOR ipv4-unicast (in1)', 'B>A EOR ipv6-unicast (in1)'], 'nothing to send: End-of-RIB alone')
  t.same(p.step(() => p.a.setRoutes([VIP, VIP2, VIP6, { prefix: '203.0.113.30/32', nextHops: ['192.0.2.13'] }])),
    ['A>B UPDATE +203.0.113.30/32 via 192.0.2.13 (out1)'], 'End-of-RIB only after the initial table')
})

t.test('route refresh is answered with a full re-send', async (t) => {
  const p = established({ ...A, routes: [VIP, VIP2] })
  await story(t, p, [
    ev('nothing changed: nothing sent', (p) => p.a.setRoutes([VIP, VIP2]), []),
    ev('B asks for a route refresh', (p) => p.b.send({ type: 'route-refresh', afi: 1, subtype: 0, safi: 1 }), [
      'B>A ROUTE-REFRESH (in1)',
      'A>B UPDATE +203.0.113.10/32 via 192.0.2.11 (out1)',
      'A>B UPDATE +203.0.113.20/32 via 192.0.2.12 (out1)',
    ]),
  ])
  t.equal(p.b.core.prefixesReceived, 2)
  t.ok(p.a.logs.includes('info route refresh requested: re-sending'))
})

t.test('route refresh re-sends only the family asked for; other families, non-requests and reserved subtypes are ignored (RFC 2918, RFC 7313)', async (t) => {
  const families = ['ipv4-unicast', 'ipv6-unicast'] as const
  const p = new CorePair({ ...A, families: [...families], routes: [VIP, VIP6] }, { ...B, passive: true, families: [...families] })
  p.step(() => { p.b.start(); p.a.start() })
  await story(t, p, [
    ev('B asks for IPv4 unicast: IPv4 only', (p) => p.b.send({ type: 'route-refresh', afi: 1, subtype: 0, safi: 1 }), [
      'B>A ROUTE-REFRESH (in1)',
      'A>B UPDATE +203.0.113.10/32 via 192.0.2.11 (out1)',
    ]),
    ev('B asks for IPv6 unicast: IPv6 only', (p) => p.b.send({ type: 'route-refresh', afi: 2, subtype: 0, safi: 1 }), [
      'B>A ROUTE-REFRESH (in1)',
      'A>B UPDATE +2001:db8:100::10/128 via 2001:db8::11 (out1)',
    ]),
    ev('B asks for AFI 99: ignored', (p) => p.b.send({ type: 'route-refresh', afi: 99, subtype: 0, safi: 1 }), ['B>A ROUTE-REFRESH (in1)']),
    ev('B asks for IPv4 multicast (not negotiated): ignored', (p) => p.b.send({ type: 'route-refresh', afi: 1, subtype: 0, safi: 2 }), ['B>A ROUTE-REFRESH (in1)']),
    ev('B sends a BoRR marker: not a request, ignored', (p) => p.b.send({ type: 'route-refresh', afi: 1, subtype: 1, safi: 1 }), ['B>A ROUTE-REFRESH (in1)']),
    ev('B sends reserved subtype 9: ignored', (p) => p.b.send({ type: 'route-refresh', afi: 1, subtype: 9, safi: 1 }), ['B>A ROUTE-REFRESH (in1)']),
  ])
  t.equal(p.a.core.state, 'Established', 'the session stays up')
  t.ok(p.a.logs.includes('warn route refresh for a family not negotiated: ignored'))
})

t.test('AS_CONFED segments from an external peer: treat-as-withdraw, the session stays up (RFC 7606 7.2)', async (t) => {
  const p = established({ ...A, routes: [] })
  const upd = (asPath: { type: 1 | 2 | 3 | 4; asns: number[] }[], prefix: string) => ({
    type: 'update' as const, withdrawn: [],
    attrs: { origin: 0 as const, asPath, nextHop: '192.0.2.2' },
    nlri: [{ prefix: { afi: 1 as const, addr: prefix, len: 32 } }],
  })
  p.step(() => p.b.send(upd([{ type: 2, asns: [65002] }], '198.51.100.1')))
  t.equal(p.a.core.prefixesReceived, 1, 'a plain AS_SEQUENCE counts')
  p.step(() => p.b.send(upd([{ type: 3, asns: [65010] }, { type: 2, asns: [65002] }], '198.51.100.2')))
  t.equal(p.a.core.prefixesReceived, 1, 'AS_CONFED_SEQUENCE: not counted')
  p.step(() => p.b.send(upd([{ type: 4, asns: [65010] }, { type: 2, asns: [65002] }], '198.51.100.1')))
  t.equal(p.a.core.prefixesReceived, 0, 'AS_CONFED_SET for a known prefix: withdrawn')
  t.equal(p.a.core.state, 'Established')
  t.ok(p.a.logs.some((l) => l.includes('treated as withdraw')))
})

t.test('a ROUTE-REFRESH of the wrong length ends the session with ROUTE-REFRESH Message Error 7/1 (RFC 7313 5)', async (t) => {
  // found by test/fuzz/session.test.ts: the core sent Cease 6/0 instead of the decoder's 7/1
  const p = established()
  const bad = Uint8Array.from([...new Array(16).fill(0xff), 0, 24, 5, 0, 1, 0, 1, 0]) // 5-byte body
  await story(t, p, [
    ev('B sends a 24-byte ROUTE-REFRESH', (p) => p.a.feed({ type: 'received', conn: p.a.conn!, bytes: bad }),
      ['A>B NOTIFICATION 7/1 (out1)', 'A closes out1', 'A Idle', 'B closes in1', 'B Idle']),
  ])
  t.match(p.a.core.lastError, /ROUTE-REFRESH/, `A: ${p.a.core.lastError}`)
})

t.test('max-prefix: more routes than allowed end the session with Cease', async (t) => {
  const many = [1, 2, 3].map((i) => ({ prefix: `198.51.100.${i * 16}/28`, nextHops: ['192.0.2.20'] }))
  const p = new CorePair({ ...A, maxPrefixes: 2 }, { ...B, passive: true, routes: many })
  p.step(() => { p.b.start(); p.a.start() })
  t.same(p.trace.slice(p.trace.indexOf('B OpenConfirm')), [
    'B OpenConfirm',
    'B>A UPDATE +198.51.100.16/28 +198.51.100.32/28 +198.51.100.48/28 via 192.0.2.20 (in1)',
    'B Established',
    'B>A EOR ipv4-unicast (in1)',
    'A>B UPDATE +203.0.113.10/32 via 192.0.2.11 (out1)',
    'A Established',
    'A>B EOR ipv4-unicast (out1)',
    // A reads B's three routes: one more than allowed
    'A>B NOTIFICATION 6/1 (out1)',
    'A closes out1',
    'A Idle',
    'B closes in1',
    'B Idle',
  ])
  t.ok(p.a.logs.includes('warn maximum prefixes exceeded: closing the session'))
  t.equal(p.a.core.lastError, 'peer exceeded the maximum of 2 prefixes (afi 1 safi 1)')
  t.equal(p.a.core.prefixesReceived, 0, 'received routes forgotten with the session')
})

t.test('stop: a graceful-restart speaker closes silently, others send Cease', async (t) => {
  t.test('graceful restart: no NOTIFICATION, the peer keeps our routes', async (t) => {
    const p = established({ ...A, gracefulStop: true }, { ...B, gracefulStop: true })
    await story(t, p, [ev('A stops', (p) => p.a.stop('bye'), ['A closes out1', 'B Idle'])])
    t.same(p.a.flushes, [], 'nothing to flush')
    t.equal(p.b.core.lastError, 'TCP connection failed: connection closed')
  })
  t.test('without graceful restart: Cease / Administrative Shutdown', async (t) => {
    const p = established()
    await story(t, p, [ev('A stops', (p) => p.a.stop('bye'), ['A>B NOTIFICATION 6/2 (out1)', 'A closes out1', 'A Idle', 'B closes in1', 'B Idle'])])
    t.same(p.a.flushes, [['out1']], 'stop waits for the NOTIFICATION to get out')
    t.equal(p.b.core.lastError, 'peer sent NOTIFICATION Cease subcode 2')
  })
  t.test('graceful restart, but not Established yet: Cease too', async (t) => {
    const p = new CorePair({ ...A, gracefulStop: true }, { ...B, passive: true })
    p.step(() => p.a.start())
    t.equal(p.a.state, 'Active', 'B not started: A waits')
    await story(t, p, [ev('A stops', (p) => p.a.stop(), ['A Idle'])])
    t.same(p.a.flushes, [[]])
  })
})

t.test('automatic-stop (BFD down, RFC 5882): Cease 6/10 at once, Idle, then the automatic restart', async (t) => {
  const p = established()
  await story(t, p, [
    ev('A is told BFD went down', (p) => p.a.feed({ type: 'automatic-stop', subcode: 10, reason: 'BFD session down' }),
      ['A>B NOTIFICATION 6/10 (out1)', 'A closes out1', 'A Idle', 'B closes in1', 'B Idle']),
  ])
  t.equal(p.a.core.lastError, 'BFD session down')
  t.equal(p.b.core.lastError, 'peer sent NOTIFICATION Cease subcode 10')
  t.ok(p.a.logs.includes('warn closing the session: BFD session down'), 'logged with its reason')
  t.same(p.step(() => p.a.feed({ type: 'automatic-stop', subcode: 10, reason: 'again' })), [], 'in Idle: nothing to do')
  await p.advance(60_000)
  t.equal(p.a.state, 'Established', 'the back-off restarts the session (not an administrative stop)')
})

t.test('routes changed: one UPDATE with the difference', async (t) => {
  const p = established()
  await story(t, p, [
    ev('a second VIP', (p) => p.a.setRoutes([VIP, VIP2]), ['A>B UPDATE +203.0.113.20/32 via 192.0.2.12 (out1)']),
    ev('the first VIP moves to another next hop', (p) => p.a.setRoutes([{ ...VIP, nextHops: ['192.0.2.13'] }, VIP2]), ['A>B UPDATE +203.0.113.10/32 via 192.0.2.13 (out1)']),
    ev('the second VIP goes', (p) => p.a.setRoutes([{ ...VIP, nextHops: ['192.0.2.13'] }]), ['A>B UPDATE -203.0.113.20/32 (out1)']),
  ])
  t.equal(p.b.core.prefixesReceived, 1)
})

t.test('routes go out one chunk at a time, each after the last was taken (backpressure)', async (t) => {
  const chunks = [new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])]
  let commits = 0
  let drains = 0
  const routes: RouteSource = { drain: () => { drains++; return { chunks, commit: () => { commits++ } } }, reset() {} }
  const core = new SessionCore({ fsm: fsmConfig({ localAs: 65001, remoteAs: 65002, routerId: '192.0.2.1', holdTime: 9, passive: true }), routes })
  const peerOpen = encode({ type: 'open', version: 4, myAs: 65002, holdTime: 9, routerId: '192.0.2.2', capabilities: makeCapabilities({ asn: 65002, families: ['ipv4-unicast'] }) }, defaultContext())
  const keepalive = encode({ type: 'keepalive' }, defaultContext())
  const writes = (effects: SessionEffect[]) => effects.flatMap((e) => (e.type === 'write' ? [e.awaitWritable ? `chunk ${e.bytes[0]}` : decode(e.bytes, { ...defaultContext() }).type] : []))
  core.step({ type: 'start', now: 0 })
  core.step({ type: 'opened', conn: 'c', direction: 'incoming', now: 0 })
  core.step({ type: 'received', conn: 'c', bytes: peerOpen, now: 0 })
  t.same(writes(core.step({ type: 'received', conn: 'c', bytes: keepalive, now: 0 })), ['chunk 1'], 'Established: the first chunk only')
  t.same(writes(core.step({ type: 'routes-changed', now: 1 })), [], 'a change waits for the round going on')
  t.same(writes(core.step({ type: 'writable', conn: 'other', now: 2 })), [], 'another connection being writable changes nothing')
  t.same(writes(core.step({ type: 'writable', conn: 'c', now: 3 })), ['chunk 2'])
  t.same(writes(core.step({ type: 'writable', conn: 'c', now: 4 })), ['chunk 3'])
  t.equal(commits, 0, 'nothing committed before the last chunk is taken')
  t.same(writes(core.step({ type: 'writable', conn: 'c', now: 5 })), ['update', 'chunk 1'], 'End-of-RIB, then the change that waited: a new round')
  t.equal(commits, 1)
  t.equal(drains, 2)
  t.same(writes(core.step({ type: 'closed', conn: 'c', now: 6 })), [], 'the connection goes: the round is dropped')
  t.same(writes(core.step({ type: 'writable', conn: 'c', now: 7 })), [])
  t.equal(commits, 1, 'an interrupted round is not committed')
})

t.test('routes of a family the session did not negotiate are ignored, the session stays up (RFC 4760 6, as BIRD and FRR)', async (t) => {
  // found by test/e2e/hostile-peer.test.ts: IPv6 routes on an IPv4-only session were counted
  const p = new CorePair({ ...A, routes: [] }, { ...B, passive: true, families: ['ipv4-unicast', 'ipv6-unicast'] })
  p.step(() => { p.b.start(); p.a.start() })
  const attrs = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [65002] }] }
  p.step(() => p.b.send({
    type: 'update', withdrawn: [], nlri: [],
    attrs: { ...attrs, mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::2', nlri: [{ prefix: { afi: 2, addr: '2001:db8::1', len: 128 } }] } },
  }))
  t.equal(p.a.core.prefixesReceived, 0, 'IPv6 on an IPv4-only session: not counted')
  t.ok(p.a.logs.includes('warn UPDATE with routes of a family not negotiated: ignored'))
  p.step(() => p.b.send({ type: 'update', withdrawn: [], attrs: { ...attrs, nextHop: '192.0.2.2' }, nlri: [{ prefix: { afi: 1, addr: '198.51.100.1', len: 32 } }] }))
  t.equal(p.a.core.prefixesReceived, 1, 'IPv4 counted')
  t.equal(p.a.core.state, 'Established')
})

t.test('a NOTIFICATION the core sends is logged with the reason', async (t) => {
  // found by test/e2e/hostile-peer.test.ts: a refused OPEN or an FSM error logged only the code
  const routes: RouteSource = { drain: () => ({ chunks: [], commit() {} }), reset() {} }
  const core = new SessionCore({ fsm: fsmConfig({ localAs: 65001, remoteAs: 65002, routerId: '192.0.2.1', passive: true }), routes })
  const open = (myAs: number) => encode({ type: 'open', version: 4, myAs, holdTime: 9, routerId: '192.0.2.2', capabilities: [] }, defaultContext())
  const sent = (effects: SessionEffect[]) => effects.flatMap((e) => (e.type === 'log' && e.msg === 'sending NOTIFICATION' ? [e.fields] : []))
  core.step({ type: 'start', now: 0 })
  core.step({ type: 'opened', conn: 'c1', direction: 'incoming', now: 0 })
  t.same(sent(core.step({ type: 'received', conn: 'c1', bytes: open(65009), now: 0 })), [
    { code: 2, subcode: 2, reason: 'refused peer OPEN: peer announced AS 65009, configured remote AS is 65002' },
  ], 'a refused OPEN')
  core.step({ type: 'opened', conn: 'c2', direction: 'incoming', now: 1 })
  t.same(sent(core.step({ type: 'received', conn: 'c2', bytes: encode({ type: 'keepalive' }, defaultContext()), now: 1 })), [
    { code: 5, subcode: 1, reason: 'unexpected KeepAliveMsg in OpenSent' },
  ], 'an FSM error')
})

t.test('a peer that connects and sends nothing: NOTIFICATION 4/0 after the large hold time (RFC 4271 8.2.2, 4 minutes)', async (t) => {
  const routes: RouteSource = { drain: () => ({ chunks: [], commit() {} }), reset() {} }
  const core = new SessionCore({ fsm: fsmConfig({ localAs: 65001, remoteAs: 65002, routerId: '192.0.2.1', passive: true }), routes })
  core.step({ type: 'start', now: 0 })
  const up = core.step({ type: 'opened', conn: 'c', direction: 'incoming', now: 0 })
  const hold = up.find((e) => e.type === 'set-timer' && e.timer.startsWith('Hold/'))
  t.same(hold && hold.type === 'set-timer' && hold.ms, 240_000, 'OpenSent: hold timer 240 s')
  const out = core.step({ type: 'timer', timer: hold?.type === 'set-timer' ? hold.timer : '', now: 240_000 })
  const sent = out.flatMap((e) => (e.type === 'write' ? [decode(e.bytes, defaultContext())] : []))
  t.same(sent.map((m) => m.type === 'notification' && [m.code, m.subcode]), [[4, 0]], 'NOTIFICATION Hold Timer Expired')
  t.ok(out.some((e) => e.type === 'close' && e.conn === 'c'), 'the connection closed')
  t.equal(core.state, 'Idle')
})
