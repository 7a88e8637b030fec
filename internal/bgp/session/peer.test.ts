// PeerSession, the socket adapter around the session core: its timers all run on the injected
// clock (the FSM's ConnectRetry, and the 1-second limits on stop() and on closing a socket that
// does not close by itself), and a socket that takes no more holds the routes until 'drain'.
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import t from 'tap'
import { fsmConfig } from '../fsm/index.ts'
import { defaultContext, encode, makeCapabilities } from '../wire/index.ts'
import { silentLogger } from '../../log/index.ts'
import { ManualClock } from '../../../test/lib/clock.ts'
import { PeerSession, type RouteSource } from './peer.ts'

/** A socket that connects when told to and never closes by itself. */
class FakeSocket extends EventEmitter {
  destroyed = false
  writable = true
  ended = false
  written: Uint8Array[] = []
  /** write() says the buffer is full */
  full = false
  setNoDelay(): this { return this }
  write(b: Uint8Array): boolean { this.written.push(b); return !this.full }
  end(): this { this.ended = true; return this }
  destroy(): this {
    if (!this.destroyed) { this.destroyed = true; this.writable = false; this.emit('close') }
    return this
  }
}

const noRoutes: RouteSource = { drain: () => ({ chunks: [], commit() {} }), reset() {} }

function setup(routes: RouteSource = noRoutes) {
  const clock = new ManualClock()
  const sockets: FakeSocket[] = []
  const peer = new PeerSession({
    name: 'p', address: '192.0.2.2', port: 179,
    fsm: fsmConfig({ localAs: 65001, remoteAs: 65002, routerId: '192.0.2.1', holdTime: 9, connectRetryTime: 5 }),
    clock, log: silentLogger(), routes,
    dialer: { connect: () => { const s = new FakeSocket(); sockets.push(s); return s as unknown as Socket } },
  })
  return { clock, peer, sockets }
}

t.test('ConnectRetry runs on the injected clock', async (t) => {
  const { clock, peer, sockets } = setup()
  peer.start()
  t.equal(peer.state, 'Connect')
  t.equal(sockets.length, 1, 'dialled at once')
  t.equal(clock.pending, 1, 'ConnectRetry armed on the clock')
  await clock.advance(4999)
  t.equal(sockets.length, 1)
  await clock.advance(1)
  t.equal(sockets.length, 2, 'ConnectRetry expired after 5 s of clock time: dialled again')
  peer.opts.gracefulStop = false
  const stopped = peer.stop()
  await clock.advance(1000)
  await stopped
  t.equal(clock.pending, 0, 'no timers left after stop')
})

t.test('stop() waits at most 1 s of clock time for the NOTIFICATION to flush; the socket is destroyed after 1 s', async (t) => {
  const { clock, peer, sockets } = setup()
  peer.start()
  sockets[0]!.emit('connect')
  t.equal(peer.state, 'OpenSent')
  let done = false
  const stopped = peer.stop('bye').then(() => { done = true })
  const s = sockets[0]!
  t.equal(s.ended, true, 'the connection is closed after the NOTIFICATION')
  await clock.advance(999)
  t.equal(done, false, 'still waiting for the socket to close')
  t.equal(s.destroyed, false)
  await clock.advance(1)
  await stopped
  t.equal(done, true, 'stop() returned after 1 s of clock time')
  t.equal(s.destroyed, true, 'the socket that did not close was destroyed after 1 s of clock time')
  t.equal(clock.pending, 0, 'no timers left')
})

t.test('a chunk of routes the socket did not take holds the next until the socket drains', async (t) => {
  const chunk = (n: number) => new Uint8Array([0xc0, n])
  let commits = 0
  const { peer, sockets } = setup({ drain: () => ({ chunks: [chunk(1), chunk(2), chunk(3)], commit: () => { commits++ } }), reset() {} })
  peer.start()
  const s = sockets[0]!
  s.emit('connect')
  const ctx = defaultContext()
  const open = encode({ type: 'open', version: 4, myAs: 65002, holdTime: 9, routerId: '192.0.2.2', capabilities: makeCapabilities({ asn: 65002, families: ['ipv4-unicast'] }) }, ctx)
  s.full = true
  s.emit('data', Buffer.concat([open, encode({ type: 'keepalive' }, ctx)]))
  t.equal(peer.state, 'Established')
  const chunks = () => s.written.filter((b) => b[0] === 0xc0).map((b) => b[1])
  t.same(chunks(), [1], 'the first chunk filled the socket: nothing more')
  s.emit('drain')
  t.same(chunks(), [1, 2], 'one more after drain (still full)')
  t.equal(commits, 0)
  s.full = false
  s.emit('drain')
  t.same(chunks(), [1, 2, 3], 'the rest once the socket takes it')
  t.equal(commits, 1, 'committed after the last chunk')
  t.same([...s.written.at(-1)!], [...encode({ type: 'update', withdrawn: [], attrs: {}, nlri: [] }, ctx)], 'then End-of-RIB')
})
