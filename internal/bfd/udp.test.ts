// The UDP adapter on loopback (no namespace needed, no fixed port): two BfdServices talk to each
// other over real sockets and come Up; one stops and the other sees AdminDown (not a path
// failure); a packet sent with TTL 64 never reaches the service (the kernel filter), one sent
// with TTL 255 does, for IPv4 and IPv6; the source port is in 49152-65535.
import t from 'tap'
import dgram from 'node:dgram'
import { silentLogger } from '../log/index.ts'
import { waitFor } from '../../test/lib/wait.ts'
import { freeUdpPort as freePort } from '../../test/lib/udp-port.ts'
import { BfdService, encode, isPathFailure, type StateChange } from './index.ts'

const timers = { desiredMinTx: 50_000, requiredMinRx: 50_000, detectMult: 3 }

t.test('two services on loopback: Up both ways; a stop is AdminDown on the other side, not a path failure', async (t) => {
  const [pa, pb] = [await freePort('udp4'), await freePort('udp4')]
  const a = new BfdService({ log: silentLogger(), port: pa, peerPort: pb })
  const b = new BfdService({ log: silentLogger(), port: pb, peerPort: pa })
  t.teardown(async () => { await a.stop(); await b.stop() })
  const seenA: StateChange[] = []
  await a.add('b', { address: '127.0.0.1', ...timers, onState: (c) => seenA.push(c) })
  await b.add('a', { address: '127.0.0.1', ...timers })
  await waitFor(() => a.status('b')?.state === 'Up' && b.status('a')?.state === 'Up', { what: 'both Up', timeoutMs: 20_000, intervalMs: 20 })
  t.strictSame(seenA.map((c) => c.to), ['Init', 'Up'].slice(seenA[0]?.to === 'Up' ? 1 : 0), 'a went Down -> (Init ->) Up')
  const sa = a.status('b')!
  t.ok(sa.sourcePort >= 49152 && sa.sourcePort <= 65535, `source port ${sa.sourcePort} in 49152-65535`)
  t.equal(sa.remoteDiscr, b.status('a')!.localDiscr, 'a knows b\'s discriminator')
  await waitFor(() => a.status('b')!.txIntervalMs === 50, { what: 'a at 50 ms after the Poll', timeoutMs: 10_000, intervalMs: 20 })
  b.remove('a')
  await waitFor(() => a.status('b')?.state === 'Down', { what: 'a Down', timeoutMs: 10_000, intervalMs: 20 })
  const down = seenA.at(-1)!
  t.equal(down.remoteState, 'AdminDown', 'b said AdminDown')
  t.notOk(isPathFailure(down), 'an AdminDown peer is not a path failure')
  t.equal(a.status('b')!.diag, 'Neighbor Signaled Session Down')
})

for (const [type, host] of [['udp4', '127.0.0.1'], ['udp6', '::1']] as const) {
  t.test(`${type}: only packets that arrive with TTL 255 reach the service`, async (t) => {
    const port = await freePort(type)
    const svc = new BfdService({ log: silentLogger(), port, peerPort: await freePort(type) })
    t.teardown(() => svc.stop())
    // a session makes the service open its receiving socket for the family
    await svc.add('peer', { address: host === '::1' ? '::1' : '127.0.0.2', ...timers })
    const tx = dgram.createSocket(type)
    t.teardown(() => tx.close())
    await new Promise<void>((r) => tx.bind(0, host, r))
    const send = async (ttl: number, yourDiscr: number) => {
      tx.setTTL(ttl)
      await new Promise<void>((r, j) => tx.send(encode({
        diag: 0, state: 'Up', poll: false, final: false, cpi: false, demand: false, detectMult: 3,
        myDiscr: 7, yourDiscr, desiredMinTx: 100_000, requiredMinRx: 100_000, requiredMinEchoRx: 0,
      }), port, host, (e) => (e ? j(e) : r())))
    }
    // no session has these discriminators: a packet that gets through is counted as dropped by the service
    await send(64, 1001)
    await send(254, 1002)
    await send(255, 1003)
    await waitFor(() => svc.dropped >= 1, { what: 'the TTL 255 packet', timeoutMs: 10_000, intervalMs: 20 })
    t.equal(svc.dropped, 1, 'one packet reached the service')
    t.match(svc.lastDropped, /Your Discriminator 1003/, 'the TTL 255 one')
    await send(1, 1004)
    await send(255, 1005)
    await waitFor(() => svc.dropped >= 2, { what: 'the second TTL 255 packet', timeoutMs: 10_000, intervalMs: 20 })
    t.equal(svc.dropped, 2, 'TTL 1 filtered, TTL 255 through')
    t.match(svc.lastDropped, /Your Discriminator 1005/)
  })
}

t.test('a second session with the same address is refused; a bad address is a clear error', async (t) => {
  const svc = new BfdService({ log: silentLogger(), port: await freePort('udp4'), peerPort: 9 })
  t.teardown(() => svc.stop())
  await svc.add('one', { address: '127.0.0.3', ...timers })
  await t.rejects(svc.add('two', { address: '127.0.0.3', ...timers }), /Cannot run two BFD sessions with 127.0.0.3/)
  await t.rejects(svc.add('three', { address: 'router.example', ...timers }), { code: 'PORTER_ERR_BFD_SOCKET', message: /not an IP address/ })
})
