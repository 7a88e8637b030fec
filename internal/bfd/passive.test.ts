// Passive liveness sessions (agent.liveness.peers CIDRs): which sources are accepted (pure), the
// idle removal on an injected clock, a narrower set ending sessions; and two real BfdServices on
// loopback, one accepting from 127.0.0.0/8, the other starting the session: both come Up. With
// authentication only a first packet signed with the key starts a session, and a new key ends them.
import t from 'tap'
import { silentLogger } from '../log/index.ts'
import { networkOf, type Prefix } from '../ip/index.ts'
import { ManualClock } from '../../test/lib/clock.ts'
import { FakeBfd } from '../../test/lib/fake-bfd.ts'
import { waitFor } from '../../test/lib/wait.ts'
import { freeUdpPort as freePort } from '../../test/lib/udp-port.ts'
import { BfdService, PassivePeers, accepts, encode, signPacket, type BfdAuth } from './index.ts'

const T = { minTx: 100, minRx: 100, multiplier: 3 }

t.test('accepts: a source inside one of the prefixes, same family only', async (t) => {
  const p = ['198.51.100.0/24', '2001:db8:1::/48', '192.0.2.7/32'].map((c) => networkOf(c)!) as Prefix[]
  const steps: [string, boolean][] = [
    ['198.51.100.10', true], ['198.51.100.255', true], ['198.51.101.1', false], ['192.0.2.7', true], ['192.0.2.8', false],
    ['2001:db8:1:ffff::1', true], ['2001:DB8:1::10', true], ['2001:db8:2::1', false], ['::ffff:198.51.100.10', false], ['not an address', false],
  ]
  for (const [src, ok] of steps) t.equal(accepts(p, src), ok, src)
  t.equal(accepts([], '198.51.100.10'), false, 'no prefixes: nothing')
})

t.test('PassivePeers: accept inside the CIDRs, remove after idleMs not Up, end sessions outside a new set', async (t) => {
  const bfd = new FakeBfd()
  const clock = new ManualClock()
  const pp = new PassivePeers({ bfd, log: silentLogger(), clock, keyPrefix: 'acc ', idleMs: 30_000 })
  t.equal(await bfd.offer('198.51.100.10'), false, 'nothing accepted before set()')
  pp.set(['198.51.100.0/24'], T)
  t.same([...bfd.listening], [4], 'listening on the CIDRs\' family')
  t.equal(await bfd.offer('192.0.2.10'), false, 'outside the CIDR: dropped')
  t.equal(await bfd.offer('198.51.100.10'), true, 'inside: a session')
  t.equal(await bfd.offer('198.51.100.11'), true)
  t.same(bfd.calls, ['add acc 198.51.100.10 tx=100000 rx=100000 x3', 'add acc 198.51.100.11 tx=100000 rx=100000 x3'])
  t.match(pp.status(), [{ address: '198.51.100.10', accepted: true, state: 'Down' }, { address: '198.51.100.11' }])
  bfd.move('acc 198.51.100.10', 'Up')
  await clock.advance(30_000)
  t.same([...bfd.sessions.keys()], ['acc 198.51.100.10'], 'the one never Up is removed after 30 s; the Up one stays')
  bfd.move('acc 198.51.100.10', 'Down')
  await clock.advance(29_999)
  t.equal(bfd.sessions.size, 1, 'Down for less than idleMs: kept')
  bfd.move('acc 198.51.100.10', 'Init')
  bfd.move('acc 198.51.100.10', 'Up')
  await clock.advance(60_000)
  t.equal(bfd.sessions.size, 1, 'Up again: the idle timer is gone')
  t.equal(await bfd.offer('198.51.100.12'), true)
  bfd.calls = []
  pp.set(['198.51.100.12/32'], { ...T, minTx: 50 })
  t.same(bfd.calls, ['remove acc 198.51.100.10', 'configure acc 198.51.100.12 tx=50000 rx=100000 x3'], 'outside the new set: ended; inside: new timers')
  pp.stop()
  t.equal(bfd.sessions.size, 0)
  t.equal(bfd.acceptor, undefined, 'nothing accepted after stop')
  t.equal(clock.pending, 0, 'no timers left')
})

t.test('a real BfdService accepts a session from inside a CIDR and comes Up with the side that started it', async (t) => {
  const [pa, pb] = [await freePort(), await freePort()]
  const agent = new BfdService({ log: silentLogger(), port: pa, peerPort: pb })
  const controller = new BfdService({ log: silentLogger(), port: pb, peerPort: pa })
  const clock = new ManualClock()
  const pp = new PassivePeers({ bfd: agent, log: silentLogger(), clock, keyPrefix: 'acc ' })
  t.teardown(async () => { pp.stop(); await agent.stop(); await controller.stop() })
  pp.set(['127.0.0.0/8'], { minTx: 50, minRx: 50, multiplier: 3 }) // opens the receiving socket: no session needed
  await agent.listen(4) // the socket set() opened
  await controller.add('node', { address: '127.0.0.1', desiredMinTx: 50_000, requiredMinRx: 50_000, detectMult: 3 })
  await waitFor(() => controller.status('node')?.state === 'Up' && agent.status('acc 127.0.0.1')?.state === 'Up', { what: 'both Up', timeoutMs: 20_000, intervalMs: 20 })
  t.match(pp.status(), [{ address: '127.0.0.1', accepted: true, state: 'Up' }])
})

const enc = (k: string) => new TextEncoder().encode(k)
const auth: BfdAuth = { type: 'meticulous-keyed-sha1', keyId: 7, key: enc('liveness-key') }
const first = encode({ diag: 0, state: 'Down', poll: false, final: false, cpi: false, demand: false, detectMult: 3, myDiscr: 9, yourDiscr: 0, desiredMinTx: 1_000_000, requiredMinRx: 100_000, requiredMinEchoRx: 0 })

t.test('PassivePeers with auth: only a first packet signed with the key starts a session (signing with it); another key ends them', async (t) => {
  const bfd = new FakeBfd()
  const pp = new PassivePeers({ bfd, log: silentLogger(), clock: new ManualClock(), keyPrefix: 'acc ' })
  t.teardown(() => pp.stop())
  pp.set(['198.51.100.0/24'], { ...T, auth })
  t.equal(await bfd.offer('198.51.100.10', first), false, 'unauthenticated: no session')
  t.equal(await bfd.offer('198.51.100.10', signPacket(first, { ...auth, key: enc('another-key') }, 1)), false, 'another key: no session')
  t.equal(await bfd.offer('198.51.100.10', signPacket(first, { ...auth, keyId: 8 }, 1)), false, 'another key ID: no session')
  t.equal(await bfd.offer('198.51.100.10', signPacket(first, auth, 1)), true, 'signed with the key: a session')
  t.same(bfd.calls, ['add acc 198.51.100.10 tx=100000 rx=100000 x3 auth meticulous-keyed-sha1 7'], 'that signs with the key too')
  bfd.calls = []
  pp.set(['198.51.100.0/24'], { ...T, auth: { ...auth, key: enc('liveness-key') } })
  t.same(bfd.calls, [], 'the same key read again: the session stays')
  pp.set(['198.51.100.0/24'], { ...T, auth: { ...auth, key: enc('new-key') } })
  t.same(bfd.calls, ['remove acc 198.51.100.10'], 'another key: the session ends (the next signed packet starts a new one)')
  t.equal(await bfd.offer('198.51.100.10', signPacket(first, auth, 2)), false, 'the old key no longer starts one')
  pp.set(['198.51.100.0/24'], T)
  t.equal(await bfd.offer('198.51.100.10', signPacket(first, auth, 3)), false, 'without auth: a signed packet starts nothing either')
  t.equal(await bfd.offer('198.51.100.10', first), true)
})

t.test('real BfdServices with auth: a controller with another key is never answered; with the key both come Up', async (t) => {
  const [pa, pb, pc] = [await freePort(), await freePort(), await freePort()]
  const agent = new BfdService({ log: silentLogger(), port: pa, peerPort: pb })
  const right = new BfdService({ log: silentLogger(), port: pb, peerPort: pa })
  const wrong = new BfdService({ log: silentLogger(), port: pc, peerPort: pa })
  const pp = new PassivePeers({ bfd: agent, log: silentLogger(), clock: new ManualClock(), keyPrefix: 'acc ' })
  t.teardown(async () => { pp.stop(); await agent.stop(); await right.stop(); await wrong.stop() })
  pp.set(['127.0.0.0/8'], { minTx: 50, minRx: 50, multiplier: 3, auth })
  await agent.listen(4)
  const timers = { desiredMinTx: 50_000, requiredMinRx: 50_000, detectMult: 3 }
  // another key from 127.0.0.2, no key from 127.0.0.3: both dropped, no session, nothing sent back
  await wrong.add('node', { address: '127.0.0.1', localAddress: '127.0.0.2', ...timers, auth: { ...auth, key: enc('not-the-key') } })
  const plain = new BfdService({ log: silentLogger(), port: await freePort(), peerPort: pa })
  t.teardown(() => plain.stop())
  await plain.add('node', { address: '127.0.0.1', localAddress: '127.0.0.3', ...timers })
  await waitFor(() => agent.dropped >= 4, { what: 'four packets dropped by the agent', timeoutMs: 20_000, intervalMs: 20 })
  t.same(agent.keys(), [], 'no session for a wrong or missing key')
  t.same(pp.status(), [])
  t.equal(wrong.status('node')!.state, 'Down', 'the wrongly keyed controller stays Down')
  t.equal(wrong.status('node')!.received, 0, 'and hears nothing back')
  t.equal(plain.status('node')!.received, 0, 'nor does the one without a key')
  await right.add('node', { address: '127.0.0.1', ...timers, auth })
  await waitFor(() => right.status('node')?.state === 'Up' && agent.status('acc 127.0.0.1')?.state === 'Up', { what: 'both Up with the key', timeoutMs: 20_000, intervalMs: 20 })
  t.match(pp.status(), [{ address: '127.0.0.1', accepted: true, state: 'Up' }])
})
