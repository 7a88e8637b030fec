// The slow hostile peers against the running dist/porter (issue 11), run side by side while a
// well-behaved configured session stays Established (see hostile-peer.test.ts for the rest):
// - a peer that sends one byte per second: its OPEN (29 octets, hold time 3) dribbled in, then
//   a KEEPALIVE dribbled the same way; Porter's hold timer (3 s once the OPENs are exchanged)
//   ends it with NOTIFICATION 4/0, the other sessions untouched.
// - a peer that connects and sends nothing: Porter sends its OPEN and waits in OpenSent with the
//   large hold timer (RFC 4271 8.2.2: 4 minutes suggested; the session core's unit test shows
//   the 4/0 at 240 s); the peer's well-behaved reconnection meanwhile is not blocked: it becomes
//   the session and the silent connection gets Cease 6/7.
// Loopback only: Porter on 127.0.0.1, the neighbours 127.0.0.3 (good), .4 (dribble), .5 (silent).
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GOOD_PEER, GoodPeer, HostilePorter, freePort, KEEPALIVE, OPEN, PEER_AS, TestPeer, rawOpen } from './lib/hostile.ts'

const dir = mkdtempSync(join(tmpdir(), 'porter-hostile-timing-'))
let porter: HostilePorter | undefined
t.teardown(() => { porter?.kill(); rmSync(dir, { recursive: true, force: true }) })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** write `bytes` one octet a second; stops when the connection is gone */
async function dribble(s: TestPeer, bytes: Uint8Array): Promise<void> {
  for (const b of bytes) {
    if (s.closed) return
    s.write(Uint8Array.of(b))
    await sleep(1000)
  }
}

t.test('dist/porter against slow and silent peers', async (t) => {
  const port = await freePort()
  porter = await HostilePorter.start(dir, port, [
    GOOD_PEER,
    `name: dribble, address: 127.0.0.4, peerAs: ${PEER_AS}, passive: true`,
    `name: silent, address: 127.0.0.5, peerAs: ${PEER_AS}, passive: true`,
  ])
  const p = porter
  const good = await GoodPeer.start(t, p, port)
  const mark = p.logs.length

  const cases: [string, (t: Test) => Promise<void>][] = [
    ['a peer that sends one byte per second', async (t) => {
      const s = new TestPeer(port, '127.0.0.4')
      t.teardown(() => s.destroy())
      await s.connected
      const open = rawOpen([], { holdTime: 3 }) // no capabilities: the shortest OPEN, 29 octets
      t.equal(open.length, 29, 'the dribbled OPEN is 29 octets')
      const sending = dribble(s, open)
      await sleep(10_000)
      t.equal((await p.peer('dribble')).state, 'OpenSent', '10 s in: Porter waits in OpenSent')
      t.equal((await p.peer('good')).state, 'Established', '10 s in: the good session is Established')
      await sending
      await dribble(s, KEEPALIVE) // 19 s for 19 octets: longer than the hold time of 3 s
      t.ok(await s.closedWithin(5000), 'Porter closed the connection')
      const types = s.received.join(' ')
      t.match(types, /^1 4( 4)* 3$/, `Porter sent OPEN, KEEPALIVEs, NOTIFICATION (${types})`)
      t.same(s.notification && [s.notification.code, s.notification.subcode], [4, 0], 'Hold Timer Expired 4/0 once the OPENs are exchanged')
      t.ok(await p.logLine('dribble', mark, /"code":4,"subcode":0,"reason":"hold timer expired"/), 'a log line says hold timer expired')
    }],
    ['a peer that connects and sends nothing', async (t) => {
      const s = new TestPeer(port, '127.0.0.5')
      t.teardown(() => s.destroy())
      await s.connected
      await sleep(5000)
      t.same(s.received, [1], 'Porter sent its OPEN')
      t.notOk(s.closed, '5 s in: the connection is still open (large hold timer)')
      t.equal((await p.peer('silent')).state, 'OpenSent', 'Porter waits in OpenSent')
      // the peer comes back properly on a second connection: not blocked by the silent one
      const back = new TestPeer(port, '127.0.0.5')
      t.teardown(() => back.destroy())
      await back.connected
      back.write(OPEN(), KEEPALIVE)
      const keep = setInterval(() => back.write(KEEPALIVE), 1000)
      t.teardown(() => clearInterval(keep))
      await p.peerWhen('silent', (h) => h.state === 'Established', 'the reconnection Established')
      t.ok(await s.closedWithin(5000), 'its connection closed once the reconnection is Established')
      t.same(s.notification && [s.notification.code, s.notification.subcode], [6, 7], 'Cease / Connection Collision Resolution')
      t.ok(await p.logLine('silent', mark, /connection collision: the established connection wins/), 'a log line says the established connection wins')
      await sleep(2000)
      t.equal((await p.peer('silent')).state, 'Established', 'the reconnection stays Established')
      t.notOk(back.closed, 'the reconnection is still open')
    }],
  ]
  t.ok(cases.length > 0, `${cases.length} slow cases, side by side`)
  t.jobs = cases.length // side by side
  await Promise.all(cases.map(([what, run]) => t.test(what, run)))
  t.jobs = 1

  await good.survived(t, p)
})
