// Two Porter speakers talking to each other over loopback (127.0.0.1 <-> 127.0.0.2): both
// active at once, so their connections collide (RFC 4271 6.8) and exactly one survives; routes
// flow (one path per prefix: no ADD-PATH between two senders) and are counted by the receiver; a set() change reaches the other side.
import t from 'tap'
import { Speaker, type SpeakerConfig, type SpeakerPeerConfig } from './speaker.ts'
import { silentLogger } from '../log/index.ts'
import { waitFor } from '../../test/lib/wait.ts'

const peer = (address: string, port: number, localAddress: string, peerAs: number): SpeakerPeerConfig => ({
  name: address, address, peerAs, port, passive: false, holdTime: 9, connectRetry: 1, families: ['ipv4-unicast', 'ipv6-unicast'],
  addPath: true, nextHop: 'as-given', localAddress, export: {},
})
const base = (localAs: number, routerId: string, listenAddress: string): SpeakerConfig => ({
  localAs, routerId, listenAddress, listenPort: 0, gracefulRestart: { enabled: true, restartTime: 120 }, peers: [],
})

t.test('two speakers connecting to each other at once end with one session each way', async (t) => {
  const log = process.env.DEBUG_BGP ? (await import('../log/index.ts')).createLogger({ level: 'debug', fd: 2 }) : silentLogger()
  const a = new Speaker({ ...base(65001, '192.0.2.1', '127.0.0.1'), listenPort: 0 }, { log })
  const b = new Speaker({ ...base(65002, '192.0.2.2', '127.0.0.2'), listenPort: 0 }, { log })
  // listenPort 0 is "don't listen" for a fresh speaker: bind ephemeral ports through reconfigure
  await a.start()
  await b.start()
  t.teardown(async () => { await a.stop(); await b.stop() })
  // find two free ports by listening on port 0 through a temporary server
  const { createServer } = await import('node:net')
  const free = async (host: string) => new Promise<number>((resolve) => {
    const s = createServer().listen(0, host, () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
  })
  const pa = await free('127.0.0.1')
  const pb = await free('127.0.0.2')
  a.set([{ prefix: '203.0.113.10/32', nextHops: ['192.0.2.11', '192.0.2.12', '192.0.2.13'] }, { prefix: '2001:db8:100::10/128', nextHops: ['2001:db8::11'] }])
  await Promise.all([
    a.reconfigure({ ...base(65001, '192.0.2.1', '127.0.0.1'), listenPort: pa, peers: [peer('127.0.0.2', pb, '127.0.0.1', 65002)] }),
    b.reconfigure({ ...base(65002, '192.0.2.2', '127.0.0.2'), listenPort: pb, peers: [peer('127.0.0.1', pa, '127.0.0.2', 65001)] }),
  ])
  const [sa] = a.peerSessions()
  const [sb] = b.peerSessions()
  await waitFor(() => sa!.state === 'Established' && sb!.state === 'Established', { what: 'both Established', timeoutMs: 20_000, intervalMs: 20 })
  // Porter only offers ADD-PATH *send*, so between two Porters there is no ADD-PATH: one path
  // per prefix (the lowest next hop), and the status says ECMP is unavailable
  await waitFor(() => sb!.prefixesReceived === 2, { what: 'two prefixes at b', timeoutMs: 20_000, intervalMs: 20 })
  t.same(sb!.negotiated?.families, ['ipv4-unicast', 'ipv6-unicast'])
  t.equal(sb!.negotiated?.codec.addPathRx.size, 0, 'no ADD-PATH between two senders')
  t.match(a.status()[0]!.ecmp, /^unavailable: no ADD-PATH with this peer, 1 prefix\(es\) sent with one next hop/)
  // the surviving connection stays: a few keepalive rounds later still one session, no flaps
  a.set([{ prefix: '203.0.113.10/32', nextHops: ['192.0.2.11'] }])
  await waitFor(() => sb!.prefixesReceived === 1, { what: 'withdrawals of two paths and the IPv6 route', timeoutMs: 20_000, intervalMs: 20 })
  t.equal(sa!.flaps + sb!.flaps, 0, 'no session went down')
  const st = a.status()[0]!
  t.equal(st.state, 'Established')
  t.equal(st.prefixesSent, 1)
  t.match(st.ecmp, /^unavailable/)
})

t.test('a taken BGP port is a clear startup error', async (t) => {
  const { createServer } = await import('node:net')
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  t.teardown(() => s.close())
  const port = (s.address() as { port: number }).port
  const sp = new Speaker({ ...base(65001, '192.0.2.1', '127.0.0.1'), listenPort: port }, { log: silentLogger() })
  await t.rejects(sp.start(), { code: 'PORTER_ERR_BGP_LISTEN', message: new RegExp(`Cannot listen for BGP on 127.0.0.1 port ${port}: EADDRINUSE: another BGP daemon`) })
})

t.test('peer addresses are matched in canonical form', async (t) => {
  const { normalizeAddress } = await import('./speaker.ts')
  t.equal(normalizeAddress('2001:DB8:0::2'), '2001:db8::2')
  t.equal(normalizeAddress('2001:db8::2'), '2001:db8::2')
  t.equal(normalizeAddress('::ffff:192.0.2.1'), '192.0.2.1')
  t.equal(normalizeAddress('192.0.2.1'), '192.0.2.1')
})

t.test('BFD tied to a session: Up, then silence -> the session closed at once with Cease 6/10, BFD status per peer', async (t) => {
  const dgram = await import('node:dgram')
  const { BfdService, decode, encode } = await import('../bfd/index.ts')
  const { createServer } = await import('node:net')
  const freeTcp = async (host: string) => new Promise<number>((resolve) => {
    const s = createServer().listen(0, host, () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
  })
  const log = silentLogger()
  // the BFD peer is this test: a UDP socket on 127.0.0.2 answering by hand (TTL 255)
  const router = dgram.createSocket('udp4')
  await new Promise<void>((r) => router.bind(0, '127.0.0.2', r))
  t.teardown(() => router.close())
  const bfdPort = await new Promise<number>((r) => { const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)) }) })
  const bfd = new BfdService({ log, port: bfdPort, peerPort: router.address().port })
  const a = new Speaker(base(65001, '192.0.2.1', '127.0.0.1'), { log, bfd })
  const b = new Speaker(base(65002, '192.0.2.2', '127.0.0.2'), { log })
  await a.start()
  await b.start()
  t.teardown(async () => { await a.stop(); await b.stop() })
  const [pa, pb] = [await freeTcp('127.0.0.1'), await freeTcp('127.0.0.2')]
  await Promise.all([
    a.reconfigure({ ...base(65001, '192.0.2.1', '127.0.0.1'), listenPort: pa, peers: [{ ...peer('127.0.0.2', pb, '127.0.0.1', 65002), bfd: { minTx: 50, minRx: 100, multiplier: 3 } }] }),
    b.reconfigure({ ...base(65002, '192.0.2.2', '127.0.0.2'), listenPort: pb, peers: [peer('127.0.0.1', pa, '127.0.0.2', 65001)] }),
  ])
  const [sa] = a.peerSessions()
  await waitFor(() => sa!.state === 'Established', { what: 'Established', timeoutMs: 20_000, intervalMs: 20 })
  t.equal(a.status()[0]!.state, 'Established', 'BGP comes up while BFD is still Down (BFD does not gate it)')

  // the hand-made BFD peer: Down -> (porter Init) -> Up, then Up every 30 ms, answering Polls
  let aDiscr = 0
  let talking = true
  const say = (state: 'Down' | 'Up', final = false) => {
    router.setTTL(255)
    router.send(encode({ diag: 0, state, poll: false, final, cpi: false, demand: false, detectMult: 3, myDiscr: 77, yourDiscr: aDiscr,
      desiredMinTx: 50_000, requiredMinRx: 50_000, requiredMinEchoRx: 0 }), bfdPort, '127.0.0.1')
  }
  router.on('message', (m) => {
    const p = decode(m)
    aDiscr = p.myDiscr
    if (!talking) return
    if (p.state === 'Down') say('Down')
    else if (p.poll) say('Up', true)
    else if (p.state === 'Init') say('Up')
  })
  const beat = setInterval(() => { if (talking && aDiscr) say('Up') }, 30)
  t.teardown(() => clearInterval(beat))
  await waitFor(() => a.status()[0]!.bfd?.state === 'Up' && a.status()[0]!.bfd?.txIntervalMs === 50, { what: 'BFD Up at 50 ms', timeoutMs: 20_000, intervalMs: 20 })
  const up = a.status()[0]!.bfd!
  t.equal(up.detectTimeMs, 300, 'detection time 3 x max(our 100 ms RX, its 50 ms TX)')
  t.equal(up.remoteState, 'Up')
  t.equal(sa!.state, 'Established')

  // new BFD timers by reconfiguration: a Poll Sequence, the BGP session untouched
  const flapsBefore = sa!.flaps
  await a.reconfigure({ ...base(65001, '192.0.2.1', '127.0.0.1'), listenPort: pa, peers: [{ ...peer('127.0.0.2', pb, '127.0.0.1', 65002), bfd: { minTx: 80, minRx: 100, multiplier: 3 } }] })
  t.equal(a.peerSessions()[0], sa, 'the same BGP session (not reset for a BFD change)')
  await waitFor(() => a.status()[0]!.bfd?.txIntervalMs === 80, { what: 'BFD at 80 ms after the Poll', timeoutMs: 20_000, intervalMs: 20 })
  t.equal(sa!.flaps, flapsBefore, 'no BGP flap')
  t.equal(sa!.state, 'Established')
  const downsBefore = a.status()[0]!.bfd!.downs // a loaded machine may have flapped already: count from here
  const [sb] = b.peerSessions()
  const notesBefore = sb!.notificationsReceived // the start-up collision may have sent one already
  talking = false // the router falls silent
  await waitFor(() => sa!.state !== 'Established', { what: 'the session closed by BFD', timeoutMs: 20_000, intervalMs: 10 })
  const st = a.status()[0]!
  t.equal(st.bfd!.state, 'Down')
  t.equal(st.bfd!.diag, 'Control Detection Time Expired')
  t.equal(st.bfd!.downs, downsBefore + 1)
  t.equal(st.lastError, 'BFD session down: Control Detection Time Expired', 'the session ended because of BFD')
  await waitFor(() => sb!.notificationsReceived > notesBefore, { what: 'b saw a NOTIFICATION', timeoutMs: 10_000, intervalMs: 10 })
  t.equal(sb!.lastError, 'peer sent NOTIFICATION Cease subcode 10', 'the peer got Cease / BFD Down (RFC 9384)')
  await waitFor(() => sa!.state === 'Established', { what: 'BGP back by itself (back-off restart)', timeoutMs: 30_000, intervalMs: 50 })
  t.equal(a.status()[0]!.bfd!.state, 'Down', 'BFD stays Down while the router is silent: BGP is not held down by it')
})
