// RFC 4271 section 8.2.2, state by state: every event in every state, with the expected next
// state, actions and ConnectRetryCounter written out by hand from the RFC text (deviations are
// listed at the top of fsm.ts).
import t from 'tap'
import { initialState, step } from './fsm.ts'
import { fsmConfig } from './open.ts'
import type { FsmEvent, FsmEventType, FsmState, StateName } from './types.ts'
import { fmt, peerOpen, run, toActive, toConnect, toEstablished, toOpenConfirm, toOpenSent } from '../../../test/lib/fsm-testkit.ts'

const config = fsmConfig({ localAs: 65001, remoteAs: 65002, routerId: '192.0.2.1', holdTime: 9, connectRetryTime: 5 })

const EVENTS: Record<FsmEventType, FsmEvent> = {
  ManualStart: { type: 'ManualStart' },
  ManualStart_with_PassiveTcpEstablishment: { type: 'ManualStart_with_PassiveTcpEstablishment' },
  AutomaticStart: { type: 'AutomaticStart' },
  AutomaticStart_with_PassiveTcpEstablishment: { type: 'AutomaticStart_with_PassiveTcpEstablishment' },
  ManualStop: { type: 'ManualStop' },
  AutomaticStop: { type: 'AutomaticStop' },
  MaxPrefixExceeded: { type: 'MaxPrefixExceeded', afi: 1, safi: 1, limit: 100 },
  ConnectRetryTimer_Expires: { type: 'ConnectRetryTimer_Expires' },
  HoldTimer_Expires: { type: 'HoldTimer_Expires' },
  KeepaliveTimer_Expires: { type: 'KeepaliveTimer_Expires' },
  IdleHoldTimer_Expires: { type: 'IdleHoldTimer_Expires' },
  Tcp_CR_Acked: { type: 'Tcp_CR_Acked' },
  TcpConnectionConfirmed: { type: 'TcpConnectionConfirmed' },
  TcpConnectionFails: { type: 'TcpConnectionFails' },
  BGPOpen: { type: 'BGPOpen', open: peerOpen() },
  BGPHeaderErr: { type: 'BGPHeaderErr', subcode: 2, data: Uint8Array.of(0, 10) },
  BGPOpenMsgErr: { type: 'BGPOpenMsgErr', subcode: 4 },
  OpenCollisionDump: { type: 'OpenCollisionDump' },
  NotifMsgVerErr: { type: 'NotifMsgVerErr' },
  NotifMsg: { type: 'NotifMsg', code: 6, subcode: 4 },
  KeepAliveMsg: { type: 'KeepAliveMsg' },
  UpdateMsg: { type: 'UpdateMsg' },
  RouteRefreshMsg: { type: 'RouteRefreshMsg' },
  UpdateMsgErr: { type: 'UpdateMsgErr', subcode: 1 },
  RouteRefreshMsgErr: { type: 'RouteRefreshMsgErr', subcode: 1 },
}

type Row = [StateName, string[], number] // next state, actions, ConnectRetryCounter after
type Table = Record<FsmEventType, Row>

const IH = 'start IdleHold 1'
const idleFromCR = (counter: number): Row => ['Idle', ['stop ConnectRetry', 'drop', IH], counter]

const IDLE: Table = {
  ManualStart: ['Connect', ['start ConnectRetry 5', 'connect'], 0],
  ManualStart_with_PassiveTcpEstablishment: ['Active', ['start ConnectRetry 5'], 0],
  AutomaticStart: ['Connect', ['start ConnectRetry 5', 'connect'], 0],
  AutomaticStart_with_PassiveTcpEstablishment: ['Active', ['start ConnectRetry 5'], 0],
  ManualStop: ['Idle', [], 0],
  AutomaticStop: ['Idle', [], 0],
  MaxPrefixExceeded: ['Idle', [], 0],
  ConnectRetryTimer_Expires: ['Idle', [], 0],
  HoldTimer_Expires: ['Idle', [], 0],
  KeepaliveTimer_Expires: ['Idle', [], 0],
  IdleHoldTimer_Expires: ['Idle', [], 0],
  Tcp_CR_Acked: ['Idle', [], 0],
  TcpConnectionConfirmed: ['Idle', [], 0],
  TcpConnectionFails: ['Idle', [], 0],
  BGPOpen: ['Idle', [], 0],
  BGPHeaderErr: ['Idle', [], 0],
  BGPOpenMsgErr: ['Idle', [], 0],
  OpenCollisionDump: ['Idle', [], 0],
  NotifMsgVerErr: ['Idle', [], 0],
  NotifMsg: ['Idle', [], 0],
  KeepAliveMsg: ['Idle', [], 0],
  UpdateMsg: ['Idle', [], 0],
  RouteRefreshMsg: ['Idle', [], 0],
  UpdateMsgErr: ['Idle', [], 0],
  RouteRefreshMsgErr: ['Idle', [], 0],
}

const CONNECT: Table = {
  ManualStart: ['Connect', [], 0],
  ManualStart_with_PassiveTcpEstablishment: ['Connect', [], 0],
  AutomaticStart: ['Connect', [], 0],
  AutomaticStart_with_PassiveTcpEstablishment: ['Connect', [], 0],
  ManualStop: ['Idle', ['stop ConnectRetry', 'drop'], 0],
  AutomaticStop: idleFromCR(1),
  MaxPrefixExceeded: idleFromCR(1),
  ConnectRetryTimer_Expires: ['Connect', ['drop', 'start ConnectRetry 5', 'connect'], 0],
  HoldTimer_Expires: idleFromCR(1),
  KeepaliveTimer_Expires: idleFromCR(1),
  IdleHoldTimer_Expires: idleFromCR(1),
  Tcp_CR_Acked: ['OpenSent', ['stop ConnectRetry', 'open', 'start Hold 240'], 0],
  TcpConnectionConfirmed: ['OpenSent', ['stop ConnectRetry', 'open', 'start Hold 240'], 0],
  TcpConnectionFails: idleFromCR(0),
  BGPOpen: idleFromCR(1),
  BGPHeaderErr: idleFromCR(1),
  BGPOpenMsgErr: idleFromCR(1),
  OpenCollisionDump: idleFromCR(1),
  NotifMsgVerErr: idleFromCR(1),
  NotifMsg: idleFromCR(1),
  KeepAliveMsg: idleFromCR(1),
  UpdateMsg: idleFromCR(1),
  RouteRefreshMsg: idleFromCR(1),
  UpdateMsgErr: idleFromCR(1),
  RouteRefreshMsgErr: idleFromCR(1),
}

const ACTIVE: Table = {
  ...CONNECT,
  ManualStart: ['Active', [], 0],
  ManualStart_with_PassiveTcpEstablishment: ['Active', [], 0],
  AutomaticStart: ['Active', [], 0],
  AutomaticStart_with_PassiveTcpEstablishment: ['Active', [], 0],
  ConnectRetryTimer_Expires: ['Connect', ['start ConnectRetry 5', 'connect'], 0],
  TcpConnectionFails: idleFromCR(1),
}

const sentFall = (notify: string | null, counter: number): Row =>
  ['Idle', [...(notify ? [notify] : []), 'stop Hold', 'drop', IH], counter]

const OPENSENT: Table = {
  ManualStart: ['OpenSent', [], 0],
  ManualStart_with_PassiveTcpEstablishment: ['OpenSent', [], 0],
  AutomaticStart: ['OpenSent', [], 0],
  AutomaticStart_with_PassiveTcpEstablishment: ['OpenSent', [], 0],
  ManualStop: ['Idle', ['notify 6/2', 'stop Hold', 'drop'], 0],
  AutomaticStop: sentFall('notify 6/6', 1),
  MaxPrefixExceeded: sentFall('notify 6/1', 1),
  ConnectRetryTimer_Expires: sentFall('notify 5/0', 1),
  HoldTimer_Expires: sentFall('notify 4/0', 1),
  KeepaliveTimer_Expires: sentFall('notify 5/0', 1),
  IdleHoldTimer_Expires: sentFall('notify 5/0', 1),
  Tcp_CR_Acked: ['OpenSent', [], 0],
  TcpConnectionConfirmed: ['OpenSent', [], 0],
  TcpConnectionFails: ['Active', ['stop Hold', 'drop', 'start ConnectRetry 5'], 0],
  BGPOpen: ['OpenConfirm', ['keepalive', 'start Keepalive 3', 'start Hold 9'], 0],
  BGPHeaderErr: sentFall('notify 1/2', 1),
  BGPOpenMsgErr: sentFall('notify 2/4', 1),
  OpenCollisionDump: sentFall('notify 6/7', 1),
  NotifMsgVerErr: sentFall(null, 0),
  NotifMsg: sentFall(null, 1),
  KeepAliveMsg: sentFall('notify 5/1', 1),
  UpdateMsg: sentFall('notify 5/1', 1),
  RouteRefreshMsg: sentFall('notify 5/1', 1),
  UpdateMsgErr: sentFall('notify 5/1', 1),
  RouteRefreshMsgErr: sentFall('notify 5/1', 1),
}

const confFall = (notify: string | null, counter: number, down = false): Row =>
  ['Idle', [...(notify ? [notify] : []), 'stop Hold', 'stop Keepalive', 'drop', ...(down ? ['down'] : []), IH], counter]

const OPENCONFIRM: Table = {
  ManualStart: ['OpenConfirm', [], 0],
  ManualStart_with_PassiveTcpEstablishment: ['OpenConfirm', [], 0],
  AutomaticStart: ['OpenConfirm', [], 0],
  AutomaticStart_with_PassiveTcpEstablishment: ['OpenConfirm', [], 0],
  ManualStop: ['Idle', ['notify 6/2', 'stop Hold', 'stop Keepalive', 'drop'], 0],
  AutomaticStop: confFall('notify 6/6', 1),
  MaxPrefixExceeded: confFall('notify 6/1', 1),
  ConnectRetryTimer_Expires: confFall('notify 5/0', 1),
  HoldTimer_Expires: confFall('notify 4/0', 1),
  KeepaliveTimer_Expires: ['OpenConfirm', ['keepalive', 'start Keepalive 3'], 0],
  IdleHoldTimer_Expires: confFall('notify 5/0', 1),
  Tcp_CR_Acked: ['OpenConfirm', [], 0],
  TcpConnectionConfirmed: ['OpenConfirm', [], 0],
  TcpConnectionFails: confFall(null, 1),
  BGPOpen: confFall('notify 5/2', 1),
  BGPHeaderErr: confFall('notify 1/2', 1),
  BGPOpenMsgErr: confFall('notify 2/4', 1),
  OpenCollisionDump: confFall('notify 6/7', 1),
  NotifMsgVerErr: confFall(null, 0),
  NotifMsg: confFall(null, 1),
  KeepAliveMsg: ['Established', ['start Hold 9', 'established'], 0],
  UpdateMsg: confFall('notify 5/2', 1),
  RouteRefreshMsg: confFall('notify 5/2', 1),
  UpdateMsgErr: confFall('notify 5/2', 1),
  RouteRefreshMsgErr: confFall('notify 5/2', 1),
}

const ESTABLISHED: Table = {
  ManualStart: ['Established', [], 0],
  ManualStart_with_PassiveTcpEstablishment: ['Established', [], 0],
  AutomaticStart: ['Established', [], 0],
  AutomaticStart_with_PassiveTcpEstablishment: ['Established', [], 0],
  ManualStop: ['Idle', ['notify 6/2', 'stop Hold', 'stop Keepalive', 'drop', 'down'], 0],
  AutomaticStop: confFall('notify 6/6', 1, true),
  MaxPrefixExceeded: confFall('notify 6/1', 1, true),
  ConnectRetryTimer_Expires: confFall('notify 5/0', 1, true),
  HoldTimer_Expires: confFall('notify 4/0', 1, true),
  KeepaliveTimer_Expires: ['Established', ['keepalive', 'start Keepalive 3'], 0],
  IdleHoldTimer_Expires: confFall('notify 5/0', 1, true),
  Tcp_CR_Acked: ['Established', [], 0],
  TcpConnectionConfirmed: ['Established', [], 0],
  TcpConnectionFails: confFall(null, 1, true),
  BGPOpen: confFall('notify 5/3', 1, true),
  BGPHeaderErr: confFall('notify 1/2', 1, true),
  BGPOpenMsgErr: confFall('notify 2/4', 1, true),
  OpenCollisionDump: confFall('notify 6/7', 1, true),
  NotifMsgVerErr: confFall(null, 1, true),
  NotifMsg: confFall(null, 1, true),
  KeepAliveMsg: ['Established', ['start Hold 9'], 0],
  UpdateMsg: ['Established', ['start Hold 9'], 0],
  RouteRefreshMsg: ['Established', ['start Hold 9'], 0],
  UpdateMsgErr: confFall('notify 3/1', 1, true),
  RouteRefreshMsgErr: confFall('notify 7/1', 1, true),
}

const TABLES: [StateName, FsmEvent[], Table][] = [
  ['Idle', [], IDLE],
  ['Connect', toConnect, CONNECT],
  ['Active', toActive, ACTIVE],
  ['OpenSent', toOpenSent, OPENSENT],
  ['OpenConfirm', toOpenConfirm, OPENCONFIRM],
  ['Established', toEstablished, ESTABLISHED],
]

const eventTypes = Object.keys(EVENTS) as FsmEventType[]

t.test('every event type is covered in every state table', async (t) => {
  t.equal(eventTypes.length, 25)
  for (const [name, , table] of TABLES) t.same(Object.keys(table).sort(), [...eventTypes].sort(), name)
})

for (const [name, setup, table] of TABLES) {
  t.test(`${name} state`, async (t) => {
    const from: FsmState = run(initialState(config), setup).state
    t.equal(from.name, name, `setup reaches ${name}`)
    t.equal(from.connectRetryCounter, 0)
    for (const ev of eventTypes) {
      const [next, actions, counter] = table[ev]
      const r = step(from, EVENTS[ev], 1000)
      t.same({ state: r.state.name, actions: r.actions.map(fmt), counter: r.state.connectRetryCounter },
        { state: next, actions, counter }, `${name} + ${ev}`)
    }
  })
}

t.test('passive peer in Active keeps waiting when ConnectRetryTimer expires', async (t) => {
  const passive = fsmConfig({ localAs: 65001, remoteAs: 65002, routerId: '192.0.2.1', connectRetryTime: 5, passive: true })
  const a = run(initialState(passive), [{ type: 'ManualStart' }])
  t.equal(a.state.name, 'Active')
  t.same(a.actions, ['start ConnectRetry 5'], 'a passive ManualStart never connects')
  const r = step(a.state, { type: 'ConnectRetryTimer_Expires' }, 0)
  t.equal(r.state.name, 'Active')
  t.same(r.actions.map(fmt), ['start ConnectRetry 5'])
  const up = step(r.state, { type: 'TcpConnectionConfirmed' }, 0)
  t.equal(up.state.name, 'OpenSent')
  t.same(up.actions.map(fmt), ['stop ConnectRetry', 'open', 'start Hold 240'])
})
