import t from 'tap'
import { makeOpen, negotiate, defaultContext, receiveLimit, type OpenMessage } from './index.ts'

const porter = makeOpen({
  asn: 4200000001, holdTime: 90, routerId: '192.0.2.1', families: ['ipv4-unicast', 'ipv6-unicast'],
  addPath: { 'ipv4-unicast': 'send', 'ipv6-unicast': 'send' }, extendedMessage: true,
  gracefulRestart: { restartTime: 120, forwardingPreserved: ['ipv4-unicast', 'ipv6-unicast'] },
})

t.test('defaultContext', async (t) => {
  const c = defaultContext()
  t.equal(c.as4, false)
  t.equal(c.maxMessageLength, 4096)
  t.equal(c.addPathTx.size + c.addPathRx.size, 0)
})

t.test('BIRD-like peer with add paths rx on IPv4 only', async (t) => {
  const bird: OpenMessage = {
    type: 'open', version: 4, myAs: 65000, holdTime: 240, routerId: '192.0.2.254',
    capabilities: [
      { code: 1, kind: 'multiprotocol', afi: 1, safi: 1 },
      { code: 1, kind: 'multiprotocol', afi: 2, safi: 1 },
      { code: 2, kind: 'route-refresh' },
      { code: 64, kind: 'graceful-restart', restarting: false, notification: true, restartTime: 90, families: [{ afi: 1, safi: 1, forwardingPreserved: true }, { afi: 25, safi: 65, forwardingPreserved: true }] },
      { code: 65, kind: 'as4', asn: 65000 },
      { code: 69, kind: 'add-path', families: [{ afi: 1, safi: 1, mode: 'receive' }, { afi: 2, safi: 1, mode: 'send' }] },
    ],
  }
  const n = negotiate(porter, bird)
  t.strictSame(n.families, ['ipv4-unicast', 'ipv6-unicast'])
  t.equal(n.holdTime, 90)
  t.equal(n.keepaliveTime, 30)
  t.equal(n.as4, true)
  t.equal(n.ctx.as4, true)
  t.equal(n.localAs, 4200000001)
  t.equal(n.remoteAs, 65000)
  t.equal(n.ibgp, false)
  t.equal(n.ctx.ibgp, false)
  t.equal(n.extendedMessage, false, 'the peer did not offer extended messages')
  t.equal(n.ctx.maxMessageLength, 4096, 'we send at most 4096')
  t.equal(n.ctx.maxReceiveLength, 65535, 'we advertised extended messages, so we accept them (RFC 8654 4)')
  t.equal(receiveLimit(n.ctx), 65535)
  t.equal(receiveLimit(defaultContext()), 4096)
  t.equal(n.routeRefresh, true)
  t.strictSame([...n.ctx.addPathTx], ['ipv4-unicast'], 'we send path ids on IPv4 only')
  t.strictSame([...n.ctx.addPathRx], [], 'we never said receive')
  t.strictSame(n.addPath, { 'ipv4-unicast': { tx: true, rx: false } })
  t.strictSame(n.remoteGracefulRestart, { restarting: false, notification: true, restartTime: 90, families: [{ family: 'ipv4-unicast', forwardingPreserved: true }] })
  t.equal(n.localGracefulRestart?.restartTime, 120)
})

t.test('old peer: no capabilities at all', async (t) => {
  const old: OpenMessage = { type: 'open', version: 4, myAs: 65010, holdTime: 0, routerId: '198.51.100.1', capabilities: [] }
  const n = negotiate(porter, old)
  t.strictSame(n.families, ['ipv4-unicast'], 'IPv4 unicast implied (RFC 4760 8)')
  t.equal(n.as4, false)
  t.equal(n.holdTime, 0)
  t.equal(n.keepaliveTime, 0)
  t.equal(n.remoteAs, 65010)
  t.equal(n.ctx.addPathTx.size, 0)
  t.equal(n.remoteGracefulRestart, undefined)
})

t.test('both sides: extended messages, ADD-PATH both ways, iBGP', async (t) => {
  const local = makeOpen({ asn: 65000, holdTime: 30, routerId: '192.0.2.1', families: ['ipv6-unicast'], addPath: { 'ipv6-unicast': 'both' }, extendedMessage: true })
  const remote = makeOpen({ asn: 65000, holdTime: 60, routerId: '192.0.2.2', families: ['ipv4-unicast', 'ipv6-unicast'], addPath: { 'ipv6-unicast': 'both' }, extendedMessage: true })
  const n = negotiate(local, remote)
  t.strictSame(n.families, ['ipv6-unicast'])
  t.equal(n.ctx.maxMessageLength, 65535)
  t.equal(n.ibgp, true)
  t.strictSame(n.addPath, { 'ipv6-unicast': { tx: true, rx: true } })
  t.ok(n.ctx.addPathRx.has('ipv6-unicast'))
  t.equal(n.holdTime, 30)
})
