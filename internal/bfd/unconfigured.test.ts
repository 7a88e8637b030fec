// Only configured addresses get a BFD session (issue 11: the agent never answers an
// unconfigured source): a well-formed TTL 255 packet from another address, with Your
// Discriminator 0 or with the session's own discriminator, is dropped and never answered; the
// session with the configured address stays as it was.
import t from 'tap'
import dgram from 'node:dgram'
import { silentLogger } from '../log/index.ts'
import { waitFor } from '../../test/lib/wait.ts'
import { freeUdpPort as freePort } from '../../test/lib/udp-port.ts'
import { BfdService, encode } from './index.ts'

t.test('a packet from an unconfigured source is dropped and not answered', async (t) => {
  const port = await freePort()
  const stranger = dgram.createSocket('udp4')
  await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', r))
  t.teardown(() => stranger.close())
  // our packets go to the stranger's port: an answer to it would arrive there
  const svc = new BfdService({ log: silentLogger(), port, peerPort: stranger.address().port })
  t.teardown(() => svc.stop())
  await svc.add('controller', { address: '127.0.0.2', desiredMinTx: 50_000, requiredMinRx: 50_000, detectMult: 3 })
  const answers: string[] = []
  stranger.on('message', (_m, r) => answers.push(r.address))
  stranger.setTTL(255)
  const send = (yourDiscr: number) => new Promise<void>((r, j) => stranger.send(encode({
    diag: 0, state: 'Down', poll: true, final: false, cpi: false, demand: false, detectMult: 3,
    myDiscr: 77, yourDiscr, desiredMinTx: 50_000, requiredMinRx: 50_000, requiredMinEchoRx: 0,
  }), port, '127.0.0.1', (e) => (e ? j(e) : r())))
  await send(0)
  await waitFor(() => svc.dropped >= 1, { what: 'the stranger\'s first packet', timeoutMs: 10_000, intervalMs: 20 })
  t.match(svc.lastDropped, /from 127\.0\.0\.1: no BFD session for this address/)
  await send(svc.status('controller')!.localDiscr)
  await waitFor(() => svc.dropped >= 2, { what: 'the stranger\'s second packet', timeoutMs: 10_000, intervalMs: 20 })
  t.match(svc.lastDropped, /belongs to peer 127\.0\.0\.2/, 'the right discriminator from the wrong address')
  await new Promise((r) => setTimeout(r, 300))
  t.same(answers, [], 'no answer to the stranger (a Poll from a configured peer is answered at once)')
  t.match(svc.status('controller'), { state: 'Down', received: 0, remoteDiscr: 0 }, 'the configured session is untouched')
})
