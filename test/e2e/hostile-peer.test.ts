// A hostile peer against the running dist/porter (not the codec alone): malformed and hostile
// input on the wire, each answered as RFC 4271 section 6, RFC 7606, RFC 7313 and RFC 8654 say,
// with a log line naming the error. Meanwhile a well-behaved configured session stays
// Established, the process never exits and its RSS stays bounded. Porter listens on 127.0.0.1
// (loopback only) on a free port; the hostile neighbour is 127.0.0.1, the well-behaved one
// 127.0.0.3, the unconfigured source 127.0.0.2. The slow cases (a peer that sends one byte per
// second, a peer that sends nothing) are in hostile-peer-timing.test.ts.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '../lib/wait.ts'
import {
  AS_PATH, BASE, CAP, GOOD_PEER, GoodPeer, HostilePorter, freePort, KEEPALIVE, NEXT_HOP, OPEN, ORIGIN, PEER_AS, TestPeer,
  exchange, host4, host6, mpReach6, raw, rawOpen, update,
} from './lib/hostile.ts'

const dir = mkdtempSync(join(tmpdir(), 'porter-hostile-'))
let porter: HostilePorter | undefined
t.teardown(() => { porter?.kill(); rmSync(dir, { recursive: true, force: true }) })

const BOTH = OPEN({ families: ['ipv4-unicast', 'ipv6-unicast'] })
const HOSTILE = 'hostile'

/** [what, bytes the peer sends, the NOTIFICATION Porter must answer (none: it only closes), the log line that names the error] */
type HardCase = [string, Uint8Array[], [number, number] | undefined, RegExp]
const hard: HardCase[] = [
  // message header (RFC 4271 6.1, RFC 8654)
  ['bad marker', [raw(1, [...OPEN().subarray(19)], { marker: 0 })], [1, 1], /not synchronized/],
  ['bad length (18)', [raw(4, [], { length: 18 })], [1, 2], /Bad message length 18/],
  ['bad type (9)', [raw(9, [])], [1, 3], /Bad message type 9/],
  ['a KEEPALIVE of 20 octets', [raw(4, [0])], [1, 2], /Bad message length 20 for message type 4/],
  ['an OPEN of 4100 octets (RFC 8654: OPEN stays within 4096)', [raw(1, new Array<number>(4081).fill(0))], [1, 2], /Bad message length 4100/],
  // OPEN (RFC 4271 6.2, RFC 5492)
  ['OPEN with version 3', [OPEN({ version: 3 })], [2, 1], /Unsupported BGP version 3/],
  ['OPEN with hold time 1', [OPEN({ holdTime: 1 })], [2, 6], /hold time 1/],
  ['OPEN with hold time 2', [OPEN({ holdTime: 2 })], [2, 6], /hold time 2/],
  ['OPEN with BGP identifier 0.0.0.0', [OPEN({ routerId: '0.0.0.0' })], [2, 3], /Bad BGP identifier/],
  ['OPEN with the wrong AS', [OPEN({ myAs: 65009 })], [2, 2], /AS 65009/],
  ['OPEN with a multiprotocol capability of length 3', [rawOpen([1, 3, 0, 1, 0, ...CAP.as4()])], [2, 0], /multiprotocol capability: length is 3/],
  ['OPEN with a capability overrunning its optional parameter', [rawOpen([...CAP.mp(1), 65, 9, 0, 0])], [2, 0], /overruns the optional parameter/],
  ['OPEN with an unsupported optional parameter (type 1)', [raw(1, [4, PEER_AS >> 8, PEER_AS & 255, 0, 90, 192, 0, 2, 77, 3, 1, 1, 0])], [2, 4], /unsupported optional parameter/],
  // FSM (RFC 4271 8.2.2, RFC 6608)
  ['a KEEPALIVE before OPEN', [KEEPALIVE], [5, 1], /KeepAliveMsg in OpenSent/],
  ['an UPDATE in OpenConfirm', [OPEN(), update(BASE, host4(1))], [5, 2], /UpdateMsg in OpenConfirm/],
  ['a second OPEN in Established', [OPEN(), KEEPALIVE, OPEN()], [5, 3], /BGPOpen in Established/],
  // UPDATE: session reset (RFC 4271 6.3, RFC 7606 5.3)
  ['a prefix length of 33', [OPEN(), KEEPALIVE, update(BASE, [33, 198, 51, 100, 1, 0])], [3, 10], /prefix length 33 exceeds 32/],
  ['withdrawn routes length overrunning the message', [OPEN(), KEEPALIVE, raw(2, [0, 50, 0, 0])], [3, 1], /withdrawn routes length 50 overruns/],
  ['total attribute length overrunning the message', [OPEN(), KEEPALIVE, raw(2, [0, 0, 1, 0, ...BASE])], [3, 1], /total path attribute length 256 overruns/],
  ['MP_REACH_NLRI twice', [BOTH, KEEPALIVE, update([...ORIGIN, ...AS_PATH, ...mpReach6(host6(1)), ...mpReach6(host6(2))])], [3, 1], /MP_REACH_NLRI appears more than once/],
  ['MP_REACH_NLRI with well-known flags', [BOTH, KEEPALIVE, update([...ORIGIN, ...AS_PATH, 0x40, ...mpReach6(host6(1)).slice(1)])], [3, 4], /MP_REACH_NLRI attribute: flags 0x40/],
  ['MP_REACH_NLRI with a next hop of 5 octets', [BOTH, KEEPALIVE, update([...ORIGIN, ...AS_PATH, ...mpReach6(host6(1), [0x20, 1, 0x0d, 0xb8, 1])])], [3, 9], /next hop length 5 does not fit ipv6-unicast/],
  ['an IPv6 prefix length of 129', [BOTH, KEEPALIVE, update([...ORIGIN, ...AS_PATH, ...mpReach6([129, ...host6(1).slice(1), 0])])], [3, 9], /prefix length 129 exceeds 128/],
  ['a bad ORIGIN in an UPDATE without NLRI (RFC 7606 5.2)', [OPEN(), KEEPALIVE, update([0x40, 1, 1, 3, ...AS_PATH, ...NEXT_HOP])], [3, 6], /RFC 7606 5.2/],
  // ROUTE-REFRESH (RFC 7313 5), NOTIFICATION
  ['ROUTE-REFRESH with a 5-octet body', [OPEN(), KEEPALIVE, raw(5, [0, 1, 0, 1, 0])], [7, 1], /ROUTE-REFRESH: body of 5 bytes/],
  ['a NOTIFICATION with garbage data', [OPEN(), KEEPALIVE, raw(3, [6, 2, 0xde, 0xad, 0xbe, 0xef])], undefined, /"code":6,"subcode":2.*"msg":"received NOTIFICATION"/],
]

/**
 * [what, the UPDATE, routes it adds to prefixesReceived, the log line naming the error (null:
 * no error, and no "malformed UPDATE" line)], sent on one Established session that must stay up.
 * Treat-as-withdraw (RFC 7606 2): the route is not counted; attribute discard: it is.
 */
type SoftCase = [string, Uint8Array, 0 | 1, RegExp | null]
let n = 10
const p4 = () => host4(n++)
const p6 = () => host6(n++)
const soft: SoftCase[] = [
  // treat-as-withdraw
  ['COMMUNITIES of 5 octets (RFC 7606 7.8)', update([...BASE, 0xc0, 8, 5, 0, 0, 0, 1, 2], p4()), 0, /COMMUNITIES attribute: length is 5/],
  ['LARGE_COMMUNITIES of 13 octets (RFC 8092 6)', update([...BASE, 0xc0, 32, 13, ...new Array<number>(13).fill(1)], p4()), 0, /LARGE_COMMUNITIES attribute: length is 13/],
  ['EXTENDED_COMMUNITIES of 7 octets (RFC 7606 7.14)', update([...BASE, 0xc0, 16, 7, ...new Array<number>(7).fill(1)], p4()), 0, /EXTENDED_COMMUNITIES attribute: length is 7/],
  ['an unrecognised well-known attribute', update([...BASE, 0x40, 250, 1, 0], p4()), 0, /unrecognized well-known attribute/],
  ['AS_CONFED_SEQUENCE from an external peer (RFC 7606 7.2)', update([...ORIGIN, 0x40, 2, 12, 3, 1, 0, 0, 0xfd, 0xea, 2, 1, 0, 0, PEER_AS >> 8, PEER_AS & 255, ...NEXT_HOP], p4()), 0, /AS_CONFED segments/],
  ['ORIGIN with optional transitive flags (RFC 7606 3.c)', update([0xc0, 1, 1, 0, ...AS_PATH, ...NEXT_HOP], p4()), 0, /ORIGIN attribute: flags 0xc0/],
  ['NEXT_HOP with the optional flag (RFC 7606 3.c)', update([...ORIGIN, ...AS_PATH, 0x80, 3, 4, 127, 0, 0, 1], p4()), 0, /NEXT_HOP attribute: flags 0x80/],
  ['AS_PATH with the optional flag (RFC 7606 3.c)', update([...ORIGIN, 0x80, ...AS_PATH.slice(1), ...NEXT_HOP], p4()), 0, /AS_PATH attribute: flags 0x80/],
  ['ORIGIN value 3 (RFC 7606 7.1)', update([0x40, 1, 1, 3, ...AS_PATH, ...NEXT_HOP], p4()), 0, /ORIGIN attribute: value 3/],
  ['AS_PATH segment type 5 (RFC 7606 7.2)', update([...ORIGIN, 0x40, 2, 6, 5, 1, 0, 0, PEER_AS >> 8, PEER_AS & 255, ...NEXT_HOP], p4()), 0, /segment type 5 is not defined/],
  ['AS_PATH segment overrunning the attribute', update([...ORIGIN, 0x40, 2, 6, 2, 2, 0, 0, PEER_AS >> 8, PEER_AS & 255, ...NEXT_HOP], p4()), 0, /segment of 2 ASNs overruns/],
  ['AS_PATH segment of length 0', update([...ORIGIN, 0x40, 2, 2, 2, 0, ...NEXT_HOP], p4()), 0, /has length 0/],
  ['NEXT_HOP of 5 octets (RFC 7606 7.3)', update([...ORIGIN, ...AS_PATH, 0x40, 3, 5, 127, 0, 0, 1, 0], p4()), 0, /NEXT_HOP attribute: length is 5/],
  ['MULTI_EXIT_DISC of 3 octets (RFC 7606 7.4)', update([...BASE, 0x80, 4, 3, 0, 0, 1], p4()), 0, /MULTI_EXIT_DISC attribute: length is 3/],
  ['ORIGIN missing (RFC 7606 3.d)', update([...AS_PATH, ...NEXT_HOP], p4()), 0, /ORIGIN is missing/],
  ['AS_PATH missing', update([...ORIGIN, ...NEXT_HOP], p4()), 0, /AS_PATH is missing/],
  ['NEXT_HOP missing with IPv4 NLRI', update([...ORIGIN, ...AS_PATH], p4()), 0, /NEXT_HOP is missing/],
  ['AS_PATH missing with MP_REACH_NLRI', update([...ORIGIN, ...mpReach6(p6())]), 0, /AS_PATH is missing/],
  ['an attribute overrunning the attribute list (RFC 7606 4)', update([...BASE, 0xc0, 8, 10, 0, 0, 0, 1], p4()), 0, /overruns the path attributes/],
  // AFI/SAFI disable (RFC 4760 7): the attribute is dropped, the session stays
  ['MP_REACH_NLRI for AFI 99', update([...ORIGIN, ...AS_PATH, 0x80, 14, 14, 0, 99, 1, 4, 127, 0, 0, 1, 0, 32, 198, 51, 100, 99]), 0, /AFI 99 SAFI 1, a family Porter does not support/],
  // attribute discard: the route stays
  ['ORIGIN twice (RFC 7606 3.g)', update([...BASE, 0x40, 1, 1, 2], p4()), 1, /attribute type 1 appears more than once/],
  ['NEXT_HOP twice', update([...BASE, 0x40, 3, 4, 127, 0, 0, 2], p4()), 1, /attribute type 3 appears more than once/],
  ['AGGREGATOR of 5 octets (RFC 7606 7.7)', update([...BASE, 0xc0, 7, 5, 0, 0, 0, 1, 2], p4()), 1, /AGGREGATOR attribute: length is 5/],
  ['ATOMIC_AGGREGATE of 1 octet (RFC 7606 7.6)', update([...BASE, 0x40, 6, 1, 0], p4()), 1, /ATOMIC_AGGREGATE attribute: length is 1/],
  ['LOCAL_PREF from an external peer (RFC 7606 7.5)', update([...BASE, 0x40, 5, 4, 0, 0, 0, 100], p4()), 1, /LOCAL_PREF attribute: received from an external peer/],
  // kept (RFC 4271 5, 9): the route stays
  ['an unknown optional transitive attribute (kept)', update([...BASE, 0xc0, 240, 3, 1, 2, 3], p4()), 1, null],
  ['an unknown optional non-transitive attribute (ignored)', update([...BASE, 0x80, 241, 3, 1, 2, 3], p4()), 1, null],
  ['an UPDATE of 5,100 octets (RFC 8654: Porter advertised extended messages)', update([...BASE, 0xd0, 242, 5000 >> 8, 5000 & 255, ...new Array<number>(5000).fill(7)], p4()), 1, null],
  ['a valid IPv6 route (control)', update([...ORIGIN, ...AS_PATH, ...mpReach6(p6())]), 1, null],
]

t.test('dist/porter against a hostile peer', async (t) => {
  const port = await freePort()
  porter = await HostilePorter.start(dir, port, [
    `name: ${HOSTILE}, address: 127.0.0.1, peerAs: ${PEER_AS}, passive: true, maxPrefixes: 100, families: [ipv4-unicast, ipv6-unicast]`,
    GOOD_PEER,
  ])
  const p = porter
  const hostile = () => p.peer(HOSTILE)
  const good = await GoodPeer.start(t, p, port)

  t.ok(hard.length >= 25, `${hard.length} cases answered with a NOTIFICATION or a close`)
  for (const [what, chunks, want, log] of hard) {
    await t.test(what, async (t) => {
      const mark = p.logs.length
      const r = await exchange(port, chunks)
      if (want) t.same(r.notification, want, `NOTIFICATION ${want.join('/')}`)
      else t.equal(r.notification, undefined, 'no NOTIFICATION back')
      t.ok(r.closed, 'Porter closed the connection')
      t.ok(await p.logLine(HOSTILE, mark, log), `a log line says ${log}`)
      t.ok(p.running && await p.status(), 'the process answers')
    })
  }

  // OPENs that are accepted: RFC 5492 4 allows a capability more than once; RFC 7911 4: an
  // ADD-PATH capability with a send/receive value other than 1-3 is ignored (no path ids sent)
  const accepted: [string, Uint8Array, string[]][] = [
    ['OPEN with duplicate capabilities', rawOpen([...CAP.mp(1), ...CAP.mp(1), ...CAP.as4(), ...CAP.as4()]), []],
    ['OPEN with ADD-PATH send/receive 0', rawOpen([...CAP.mp(1), ...CAP.as4(), ...CAP.addPath(1, 0)]), []],
    ['OPEN with ADD-PATH send/receive 4', rawOpen([...CAP.mp(1), ...CAP.as4(), ...CAP.addPath(1, 4)]), []],
    ['OPEN with ADD-PATH receive (1), for contrast', rawOpen([...CAP.mp(1), ...CAP.as4(), ...CAP.addPath(1, 1)]), ['ipv4-unicast']],
  ]
  for (const [what, open, addPath] of accepted) {
    await t.test(what, async (t) => {
      const mark = p.logs.length
      const s = new TestPeer(port, '127.0.0.1')
      await s.connected
      s.write(open, KEEPALIVE)
      const st = await p.peerWhen(HOSTILE, (h) => h.state === 'Established', `${what}: Established`)
      t.same(st.addPath, addPath, `Established, ADD-PATH sent for [${addPath.join(', ')}]`)
      const log = new RegExp(`"addPathTx":\\[${addPath.map((f) => `"${f}"`).join(',')}\\],"msg":"session established"`)
      t.ok(await p.logLine(HOSTILE, mark, log), `a log line says ${log}`)
      s.destroy()
      await p.peerWhen(HOSTILE, (h) => h.state !== 'Established', `${what}: the session down after we left`)
    })
  }

  // one long-lived session: every soft case, each followed by a check that it was handled
  const first = new TestPeer(port, '127.0.0.1')
  t.teardown(() => first.destroy())
  await first.connected
  first.write(BOTH, KEEPALIVE)
  const keep = setInterval(() => first.write(KEEPALIVE), 1000)
  t.teardown(() => clearInterval(keep))
  await p.peerWhen(HOSTILE, (h) => h.state === 'Established', 'the long-lived hostile session Established', 15_000)
  t.ok(soft.length >= 25, `${soft.length} UPDATE cases on one session`)
  let counted = (await hostile()).prefixesReceived
  for (const [what, bytes, adds, log] of soft) {
    await t.test(what, async (t) => {
      const mark = p.logs.length
      const before = (await hostile()).updatesReceived
      first.write(bytes)
      const st = await p.peerWhen(HOSTILE, (h) => h.updatesReceived > before, `${what}: handled`)
      counted += adds
      t.equal(st.state, 'Established', 'the session stays up')
      t.equal(st.prefixesReceived, counted, adds ? 'the route is counted' : 'the route is not counted')
      if (log) t.ok(await p.logLine(HOSTILE, mark, log), `a log line says ${log}`)
      else t.notOk(p.logs.slice(mark).some((l) => l.peer === HOSTILE && /malformed/i.test(l.msg)), 'no error logged')
    })
  }
  t.equal(first.notification, undefined, 'no NOTIFICATION on the long-lived session')

  await t.test('a KEEPALIVE flood: 100,000 as fast as the socket takes them', async (t) => {
    const flood = Buffer.alloc(19 * 100_000, Buffer.from(KEEPALIVE))
    const before = (await hostile()).updatesReceived
    const mark = p.logs.length
    first.write(flood)
    first.write(update(BASE, host4(200)))
    const st = await p.peerWhen(HOSTILE, (h) => h.updatesReceived > before, 'the UPDATE after 100,000 KEEPALIVEs handled', 30_000)
    t.equal(st.state, 'Established', 'the session stays up')
    t.equal(st.prefixesReceived, counted + 1, 'the UPDATE after them counted')
    t.notOk(p.logs.slice(mark).some((l) => l.peer === HOSTILE && l.level !== 'debug' && l.level !== 'info'), 'nothing to warn about')
    t.ok(p.rssMax < p.rssBound, `RSS at most ${(p.rssMax / 1024).toFixed(1)} MiB, under ${(p.rssBound / 1024).toFixed(1)} MiB`)
  })

  await t.test('a second connection while the first is Established', async (t) => {
    const mark = p.logs.length
    const second = await exchange(port, [OPEN(), KEEPALIVE])
    t.same(second.notification, [6, 7], 'Cease / Connection Collision Resolution')
    t.ok(await p.logLine(HOSTILE, mark, /a session already exists/), 'a log line says a session already exists')
    t.equal((await hostile()).state, 'Established', 'the first session is still Established')
  })
  clearInterval(keep)
  first.destroy()
  await p.peerWhen(HOSTILE, (h) => h.state !== 'Established', 'the long-lived session down after we left')

  await t.test('an UPDATE flood past maxPrefixes, then the session restarts', async (t) => {
    // Cease 6/1 with AFI 1, SAFI 1, limit 100 (RFC 4486 4)
    const mark = p.logs.length
    const updates = Array.from({ length: 300 }, (_, i) => update(BASE, [32, 198, 18, i >> 8, i & 255]))
    const over = await exchange(port, [OPEN(), KEEPALIVE, ...updates])
    t.same(over.notification, [6, 1], '300 routes past maxPrefixes 100: Cease / Maximum Number of Prefixes Reached')
    t.same([...(over.data ?? [])], [0, 1, 1, 0, 0, 0, 100], 'the Cease data: AFI 1, SAFI 1, limit 100')
    t.ok(await p.logLine(HOSTILE, mark, /maximum prefixes exceeded/), 'a log line says maximum prefixes exceeded')
    // the peer's next connection is accepted, with nothing counted
    const again = new TestPeer(port, '127.0.0.1')
    t.teardown(() => again.destroy())
    await again.connected
    again.write(OPEN(), KEEPALIVE)
    const back = await p.peerWhen(HOSTILE, (h) => h.state === 'Established', 'the session back after max-prefix', 15_000)
    t.equal(back.prefixesReceived, 0, 'the session comes back with nothing counted')
  })

  await t.test('IPv6 routes on an IPv4-only session', async (t) => {
    // MP_REACH_NLRI for IPv6, a family not negotiated: ignored (as BIRD and FRR do)
    await p.peerWhen(HOSTILE, (h) => h.state !== 'Established', 'the last session down')
    const s = new TestPeer(port, '127.0.0.1')
    t.teardown(() => s.destroy())
    await s.connected
    s.write(OPEN(), KEEPALIVE)
    const up = await p.peerWhen(HOSTILE, (h) => h.state === 'Established', 'the IPv4-only session Established')
    t.same(up.families, ['ipv4-unicast'], 'only IPv4 unicast negotiated')
    const mark = p.logs.length
    s.write(update([...ORIGIN, ...AS_PATH, ...mpReach6(host6(250))]))
    const st = await p.peerWhen(HOSTILE, (h) => h.updatesReceived > up.updatesReceived, 'the IPv6 UPDATE handled')
    t.equal(st.state, 'Established', 'the session stays up')
    t.equal(st.prefixesReceived, 0, 'not counted')
    t.ok(await p.logLine(HOSTILE, mark, /not negotiated/), 'a log line says the family was not negotiated')
  })

  await t.test('50 connections from an address that is not a neighbour', async (t) => {
    const before = (await p.status()).refusedConnections
    const mark = p.logs.length
    const refused = await Promise.all(Array.from({ length: 50 }, () => exchange(port, [], { from: '127.0.0.2', ms: 5000 })))
    t.ok(refused.every((r) => r.closed), 'all closed')
    await waitFor(async () => (await p.status()).refusedConnections - before >= 50, { timeoutMs: 10_000, what: 'the refused connections counted' })
    t.ok(p.logs.slice(mark).some((l) => l.from === '127.0.0.2' && /unconfigured address refused/.test(l.msg)), 'a log line says refused')
  })

  await good.survived(t, p)
})
