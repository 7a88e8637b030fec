import t from 'tap'
import { resolveCollision, type CollisionConnection } from './collision.ts'
import { initialState, step } from './fsm.ts'
import { fsmConfig } from './open.ts'
import type { FsmState } from './types.ts'
import { fmt, peerOpen, run, toOpenConfirm } from '../../../test/lib/fsm-testkit.ts'

const out = (state: CollisionConnection['state']): CollisionConnection => ({ state, initiator: 'local' })
const inc = (state: CollisionConnection['state']): CollisionConnection => ({ state, initiator: 'remote' })

t.test('section 6.8 resolution table', async (t) => {
  const ids = (localId: string, remoteId: string, localAs = 65001, remoteAs = 65002) => ({ localId, remoteId, localAs, remoteAs })
  const cases: [string, CollisionConnection, CollisionConnection, ReturnType<typeof ids>, object, 'a' | 'b' | null][] = [
    ['our id lower: close the connection we initiated', out('OpenConfirm'), inc('OpenConfirm'), ids('192.0.2.1', '192.0.2.2'), {}, 'a'],
    ['our id higher: close the one the peer initiated', out('OpenConfirm'), inc('OpenConfirm'), ids('192.0.2.9', '192.0.2.2'), {}, 'b'],
    ['argument order does not matter', inc('OpenConfirm'), out('OpenConfirm'), ids('192.0.2.9', '192.0.2.2'), {}, 'a'],
    ['unsigned compare: 128.0.0.1 > 127.255.255.255', out('OpenConfirm'), inc('OpenConfirm'), ids('128.0.0.1', '127.255.255.255'), {}, 'b'],
    ['unsigned compare: 255.255.255.255 is the highest', out('OpenConfirm'), inc('OpenConfirm'), ids('1.0.0.0', '255.255.255.255'), {}, 'a'],
    ['equal ids, our AS larger: keep ours (RFC 6286)', out('OpenConfirm'), inc('OpenConfirm'), ids('192.0.2.1', '192.0.2.1', 65010, 65002), {}, 'b'],
    ['equal ids, our AS smaller: keep theirs', out('OpenConfirm'), inc('OpenConfirm'), ids('192.0.2.1', '192.0.2.1', 65001, 65002), {}, 'a'],
    ['Established wins over a new connection', out('Established'), inc('OpenConfirm'), ids('192.0.2.1', '192.0.2.2'), {}, 'b'],
    ['Established wins, other side', out('OpenConfirm'), inc('Established'), ids('192.0.2.9', '192.0.2.2'), {}, 'a'],
    ['collisionDetectEstablished applies ids', out('Established'), inc('OpenConfirm'), ids('192.0.2.1', '192.0.2.2'), { collisionDetectEstablished: true }, 'a'],
    ['OpenSent does not take part by default', out('OpenSent'), inc('OpenConfirm'), ids('192.0.2.1', '192.0.2.2'), {}, null],
    ['OpenSent takes part when the peer id is known', out('OpenSent'), inc('OpenConfirm'), ids('192.0.2.1', '192.0.2.2'), { includeOpenSent: true }, 'a'],
    ['Connect/Active never collide', out('Connect'), inc('OpenConfirm'), ids('192.0.2.1', '192.0.2.2'), {}, null],
    ['same initiator is not a collision', out('OpenConfirm'), out('OpenConfirm'), ids('192.0.2.1', '192.0.2.2'), {}, null],
  ]
  t.ok(cases.length > 0)
  for (const [name, a, b, i, opts, want] of cases) t.equal(resolveCollision(a, b, i, opts), want, name)
})

t.test('session-layer recipe: two FSMs, the loser gets OpenCollisionDump', async (t) => {
  // we are 192.0.2.1, the peer 192.0.2.2: the connection we initiated must go
  const config = fsmConfig({ localAs: 65001, remoteAs: 65002, routerId: '192.0.2.1', holdTime: 9 })
  const outgoing: FsmState = run(initialState(config), toOpenConfirm).state
  let incoming: FsmState = run(initialState(config), [{ type: 'ManualStart_with_PassiveTcpEstablishment' }, { type: 'TcpConnectionConfirmed' }]).state
  t.equal(incoming.name, 'OpenSent')
  incoming = step(incoming, { type: 'BGPOpen', open: peerOpen() }, 0).state
  t.equal(incoming.name, 'OpenConfirm')
  const loser = resolveCollision({ state: outgoing.name, initiator: 'local' }, { state: incoming.name, initiator: 'remote' },
    { localId: config.routerId, remoteId: peerOpen().routerId, localAs: config.localAs, remoteAs: config.remoteAs })
  t.equal(loser, 'a')
  const dumped = step(outgoing, { type: 'OpenCollisionDump' }, 0)
  t.equal(dumped.state.name, 'Idle')
  t.same(dumped.actions.map(fmt).slice(0, 2), ['notify 6/7', 'stop Hold'], 'Cease / Connection Collision Resolution')
  const up = step(incoming, { type: 'KeepAliveMsg' }, 0)
  t.equal(up.state.name, 'Established', 'the winner carries on')
})
