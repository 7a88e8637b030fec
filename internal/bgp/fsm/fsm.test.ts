// FSM event replay (holo style): a story of events with an injected clock, expected actions out.
import t, { type Test } from 'tap'
import { PorterError } from '../../errors/index.ts'
import type { Capability } from '../wire/types.ts'
import { acceptsIncoming, initialState, maxPrefixData, notificationEvent, shutdownCommunication, step } from './fsm.ts'
import { makeCapabilities } from '../wire/open.ts'
import { buildOpen, fsmConfig, negotiateSession, validateOpen } from './open.ts'
import type { FsmAction, FsmConfig, FsmEvent, FsmState, StateName } from './types.ts'
import { fmt, peerOpen, run, toEstablished, toOpenConfirm, toOpenSent } from '../../../test/lib/fsm-testkit.ts'

const base = { localAs: 65001, remoteAs: 65002, routerId: '192.0.2.1', holdTime: 9, connectRetryTime: 5 }

/** Replay steps: [now ms, event, expected state, expected actions]. */
type ReplayStep = [number, FsmEvent, StateName, string[]]

function replay(t: Test, config: FsmConfig, steps: ReplayStep[], from?: FsmState): FsmState {
  let s = from ?? initialState(config)
  t.ok(steps.length > 0, 'replay has steps')
  for (const [i, [now, ev, name, actions]] of steps.entries()) {
    const r = step(s, ev, now)
    t.same({ state: r.state.name, actions: r.actions.map(fmt) }, { state: name, actions }, `step ${i}: ${ev.type} @${now}ms`)
    s = r.state
  }
  return s
}

const find = <T extends FsmAction['type']>(actions: FsmAction[], type: T): Extract<FsmAction, { type: T }> | undefined =>
  actions.find((a): a is Extract<FsmAction, { type: T }> => a.type === type)

t.test('active peer: connect, exchange OPENs, keepalives, graceful stop', async (t) => {
  const config = fsmConfig(base)
  let s = initialState(config)
  let r = step(s, { type: 'ManualStart' }, 0)
  t.same(r.actions.map(fmt), ['start ConnectRetry 5', 'connect'])
  s = r.state
  r = step(s, { type: 'ConnectRetryTimer_Expires' }, 5000)
  t.same(r.actions.map(fmt), ['drop', 'start ConnectRetry 5', 'connect'], 'retries after ConnectRetryTime')
  s = r.state
  r = step(s, { type: 'Tcp_CR_Acked' }, 6000)
  t.equal(r.state.name, 'OpenSent')
  const open = find(r.actions, 'send-open')?.open
  t.same(open, { type: 'open', version: 4, myAs: 65001, holdTime: 9, routerId: '192.0.2.1', capabilities: makeCapabilities({ asn: 65001, addPath: 'send' }) })
  s = r.state
  r = step(s, { type: 'BGPOpen', open: peerOpen({ holdTime: 30 }) }, 6100)
  t.equal(r.state.name, 'OpenConfirm')
  t.same(r.actions.map(fmt), ['keepalive', 'start Keepalive 3', 'start Hold 9'], 'hold = min(9, 30), keepalive = 9/3')
  s = r.state
  r = step(s, { type: 'KeepAliveMsg' }, 6200)
  t.equal(r.state.name, 'Established')
  const est = find(r.actions, 'established')
  t.ok(est, 'established action')
  t.equal(est?.negotiated.holdTime, 9)
  t.equal(est?.negotiated.peerAs, 65002)
  t.equal(est?.negotiated.peerRouterId, '192.0.2.2')
  t.same([...(est?.negotiated.codec.addPathTx ?? [])], [], 'both sides only send: no ADD-PATH either way')
  s = replay(t, config, [
    [9200, { type: 'KeepaliveTimer_Expires' }, 'Established', ['keepalive', 'start Keepalive 3']],
    [10000, { type: 'UpdateMsg' }, 'Established', ['start Hold 9']],
    [12200, { type: 'KeepaliveTimer_Expires' }, 'Established', ['keepalive', 'start Keepalive 3']],
    [13000, { type: 'ManualStop', message: 'maintenance' }, 'Idle', ['notify 6/2', 'stop Hold', 'stop Keepalive', 'drop', 'down']],
  ], r.state)
  t.equal(s.idleHoldRunning, false, 'no automatic restart after an operator stop')
  t.equal(s.lastError, 'stopped by operator: maintenance')
})

t.test('ManualStop carries the RFC 9003 shutdown communication; de-configured peer uses Cease/3', async (t) => {
  const config = fsmConfig(base)
  const est = run(initialState(config), toEstablished).state
  const r = step(est, { type: 'ManualStop', message: 'bye' }, 0)
  const n = find(r.actions, 'send-notification')
  t.same(n && [n.code, n.subcode, [...n.data]], [6, 2, [3, 0x62, 0x79, 0x65]])
  const r2 = step(est, { type: 'ManualStop', subcode: 3 }, 0)
  const n2 = find(r2.actions, 'send-notification')
  t.same(n2 && [n2.code, n2.subcode, n2.data.length], [6, 3, 0])
  t.equal(shutdownCommunication(undefined).length, 0)
  const long = shutdownCommunication('é'.repeat(200)) // 400 bytes of UTF-8
  t.equal(long[0], 254, 'cut to 255 octets on a character boundary')
  t.equal(long.length, 255)
  t.equal(new TextDecoder('utf-8', { fatal: true }).decode(long.subarray(1)), 'é'.repeat(127))
})

t.test('max-prefix: Cease/1 with AFI, SAFI and the limit; then back-off', async (t) => {
  const config = fsmConfig(base)
  const est = run(initialState(config), toEstablished).state
  const r = step(est, { type: 'MaxPrefixExceeded', afi: 2, safi: 1, limit: 1000 }, 0)
  t.equal(r.state.name, 'Idle')
  const n = find(r.actions, 'send-notification')
  t.same(n && [n.code, n.subcode, [...n.data]], [6, 1, [0, 2, 1, 0, 0, 0x03, 0xe8]])
  t.same([...maxPrefixData(1, 1, 0x01020304)], [0, 1, 1, 1, 2, 3, 4])
  t.same(r.actions.map(fmt).slice(-2), ['down', 'start IdleHold 1'])
  t.match(r.state.lastError, /maximum of 1000 prefixes/)
})

t.test('hold time negotiation', async (t) => {
  const cases: { ours: number; theirs: number; hold: number; ka: number; actions: string[] }[] = [
    { ours: 90, theirs: 180, hold: 90, ka: 30, actions: ['keepalive', 'start Keepalive 30', 'start Hold 90'] },
    { ours: 90, theirs: 3, hold: 3, ka: 1, actions: ['keepalive', 'start Keepalive 1', 'start Hold 3'] },
    { ours: 90, theirs: 10, hold: 10, ka: 3, actions: ['keepalive', 'start Keepalive 3', 'start Hold 10'] },
    { ours: 90, theirs: 0, hold: 0, ka: 0, actions: ['keepalive', 'stop Hold'] },
    { ours: 0, theirs: 90, hold: 0, ka: 0, actions: ['keepalive', 'stop Hold'] },
  ]
  for (const c of cases) {
    const config = fsmConfig({ ...base, holdTime: c.ours })
    const sent = run(initialState(config), toOpenSent).state
    const r = step(sent, { type: 'BGPOpen', open: peerOpen({ holdTime: c.theirs }) }, 0)
    t.equal(r.state.name, 'OpenConfirm', `ours ${c.ours} theirs ${c.theirs}`)
    t.same(r.actions.map(fmt), c.actions)
    t.same([r.state.negotiated?.holdTime, r.state.negotiated?.keepaliveTime], [c.hold, c.ka])
  }
  // with hold 0 nothing times out and no keepalives are sent
  const config = fsmConfig({ ...base, holdTime: 0 })
  const s = replay(t, config, [
    [0, { type: 'ManualStart' }, 'Connect', ['start ConnectRetry 5', 'connect']],
    [1, { type: 'Tcp_CR_Acked' }, 'OpenSent', ['stop ConnectRetry', 'open', 'start Hold 240']],
    [2, { type: 'BGPOpen', open: peerOpen() }, 'OpenConfirm', ['keepalive', 'stop Hold']],
    [3, { type: 'KeepAliveMsg' }, 'Established', ['established']],
    [4, { type: 'KeepaliveTimer_Expires' }, 'Established', []],
    [5, { type: 'UpdateMsg' }, 'Established', []],
    [6, { type: 'TcpConnectionFails' }, 'Idle', ['drop', 'down', 'start IdleHold 1']],
  ])
  t.equal(s.name, 'Idle')
})

t.test('peer hold time 1 or 2 is refused with OPEN error 6 (Unacceptable Hold Time)', async (t) => {
  const config = fsmConfig(base)
  for (const holdTime of [1, 2]) {
    const sent = run(initialState(config), toOpenSent).state
    const r = step(sent, { type: 'BGPOpen', open: peerOpen({ holdTime }) }, 0)
    t.equal(r.state.name, 'Idle')
    t.same(r.actions.map(fmt), ['notify 2/6', 'stop Hold', 'drop', 'start IdleHold 1'], `hold ${holdTime}`)
    t.match(r.state.lastError, /hold time/)
  }
  t.throws(() => fsmConfig({ ...base, holdTime: 2 }), PorterError, 'our own hold time must be 0 or >= 3')
})

t.test('OPEN validation', async (t) => {
  const config = fsmConfig(base)
  const as4 = fsmConfig({ ...base, localAs: 4200000001, remoteAs: 4200000002 })
  const ibgp = fsmConfig({ ...base, remoteAs: 65001 })
  const withoutCaps = (caps: Capability[], drop: Capability['kind']): Capability[] => caps.filter((c) => c.kind !== drop)
  const cases: { name: string; config: FsmConfig; open: ReturnType<typeof peerOpen>; subcode: number | null; data?: number[] }[] = [
    { name: 'good OPEN', config, open: peerOpen(), subcode: null },
    { name: 'version 3', config, open: peerOpen({ version: 3 }), subcode: 1, data: [0, 4] },
    { name: 'wrong AS', config, open: peerOpen({ myAs: 65003, capabilities: makeCapabilities({ asn: 65003, addPath: 'send' }) }), subcode: 2 },
    { name: '2-octet AS without 4-octet capability', config, open: peerOpen({ capabilities: withoutCaps(makeCapabilities({ asn: 65002, addPath: 'send' }), 'as4') }), subcode: null },
    { name: '4-octet AS capability replaces "My AS" (AS_TRANS)', config: as4, open: peerOpen({ myAs: 23456, capabilities: makeCapabilities({ asn: 4200000002, addPath: 'send' }) }), subcode: null },
    { name: '4-octet AS capability with another AS', config: as4, open: peerOpen({ myAs: 23456, capabilities: makeCapabilities({ asn: 4200000003, addPath: 'send' }) }), subcode: 2 },
    { name: 'AS_TRANS without the capability', config: as4, open: peerOpen({ myAs: 23456, capabilities: [] }), subcode: 2 },
    { name: 'identifier 0.0.0.0', config, open: peerOpen({ routerId: '0.0.0.0' }), subcode: 3 },
    { name: 'identifier not a dotted quad', config, open: peerOpen({ routerId: '192.0.2' }), subcode: 3 },
    { name: 'iBGP peer with our identifier', config: ibgp, open: peerOpen({ myAs: 65001, routerId: '192.0.2.1', capabilities: makeCapabilities({ asn: 65001, addPath: 'send' }) }), subcode: 3 },
    { name: 'iBGP peer with another identifier', config: ibgp, open: peerOpen({ myAs: 65001, capabilities: makeCapabilities({ asn: 65001, addPath: 'send' }) }), subcode: null },
    { name: 'eBGP peer with our identifier is allowed (RFC 6286)', config, open: peerOpen({ routerId: '192.0.2.1' }), subcode: null },
    { name: 'unsupported optional parameter', config, open: peerOpen({ otherParams: [{ type: 1, data: new Uint8Array(0) }] }), subcode: 4 },
    { name: 'unknown capability is ignored', config, open: peerOpen({ capabilities: [...makeCapabilities({ asn: 65002, addPath: 'send' }), { code: 200, kind: 'unknown', data: Uint8Array.of(1) }] }), subcode: null },
  ]
  t.ok(cases.length > 0)
  for (const c of cases) {
    const v = validateOpen(c.config, c.open)
    if (c.subcode === null) {
      t.ok(v.ok, c.name)
    } else {
      t.same(v.ok ? 'ok' : v.subcode, c.subcode, c.name)
      if (c.data && !v.ok) t.same([...v.data], c.data, `${c.name}: data`)
    }
  }
})

t.test('required capabilities: Unsupported Capability (subcode 7) with the missing TLVs', async (t) => {
  const config = fsmConfig({
    ...base,
    requiredCapabilities: [{ code: 65 }, { code: 1, afi: 2, safi: 1 }],
  })
  const v4only: Capability[] = [{ code: 1, kind: 'multiprotocol', afi: 1, safi: 1 }]
  const v = validateOpen(config, peerOpen({ capabilities: v4only }))
  t.equal(v.ok, false)
  if (!v.ok) {
    t.equal(v.subcode, 7)
    t.same([...v.data], [65, 4, 0, 0, 0xfd, 0xe9, 1, 4, 0, 2, 0, 1], '4-octet AS 65001 then MP IPv6 unicast')
    t.match(v.reason, /65/)
  }
  const sent = run(initialState(config), toOpenSent).state
  const r = step(sent, { type: 'BGPOpen', open: peerOpen({ capabilities: v4only }) }, 0)
  t.same(r.actions.map(fmt)[0], 'notify 2/7')
  t.ok(validateOpen(config, peerOpen()).ok, 'peer with both is accepted')
})

t.test('OPEN for a 4-octet local AS carries AS_TRANS', async (t) => {
  const config = fsmConfig({ ...base, localAs: 4200000001 })
  const open = buildOpen(config)
  t.equal(open.myAs, 23456)
  t.same(open.capabilities.find((c) => c.kind === 'as4'), { code: 65, kind: 'as4', asn: 4200000001 })
})

t.test('capability negotiation', async (t) => {
  const config = fsmConfig({ ...base, capabilities: makeCapabilities({ asn: 65001, addPath: 'both', extendedMessage: true }) })
  const n1 = negotiateSession(config, peerOpen({
    capabilities: [
      { code: 1, kind: 'multiprotocol', afi: 1, safi: 1 },
      { code: 1, kind: 'multiprotocol', afi: 2, safi: 1 },
      { code: 65, kind: 'as4', asn: 65002 },
      { code: 69, kind: 'add-path', families: [{ afi: 1, safi: 1, mode: 'receive' }, { afi: 2, safi: 1, mode: 'send' }] },
      { code: 6, kind: 'extended-message' },
      { code: 64, kind: 'graceful-restart', restarting: false, notification: false, restartTime: 120, families: [] },
    ],
  }))
  t.same(n1.families, ['ipv4-unicast', 'ipv6-unicast'])
  t.same([...n1.codec.addPathTx], ['ipv4-unicast'], 'we send path ids where the peer receives them')
  t.same([...n1.codec.addPathRx], ['ipv6-unicast'])
  t.equal(n1.codec.as4, true)
  t.equal(n1.codec.maxMessageLength, 65535)
  t.equal(n1.codec.maxReceiveLength, 65535)
  t.equal(n1.codec.ibgp, false)
  t.equal(n1.routeRefresh, false)
  t.equal(n1.peerGracefulRestart?.restartTime, 120)
  // a peer with no capabilities at all: IPv4 unicast only, 2-octet AS, 4096-byte messages
  const n2 = negotiateSession(config, peerOpen({ capabilities: [] }))
  t.same(n2.families, ['ipv4-unicast'])
  t.equal(n2.codec.as4, false)
  t.equal(n2.codec.maxMessageLength, 4096, 'we send extended messages only when the peer advertised them')
  t.equal(n2.codec.maxReceiveLength, 65535, 'we accept them because we advertised them')
  t.equal(n2.codec.addPathTx.size, 0)
  const ibgp = fsmConfig({ ...base, remoteAs: 65001 })
  t.equal(negotiateSession(ibgp, peerOpen({ myAs: 65001, capabilities: [] })).codec.ibgp, true)
})

t.test('hold timer expiry in OpenSent, OpenConfirm and Established', async (t) => {
  const config = fsmConfig(base)
  for (const [name, setup] of [['OpenSent', toOpenSent], ['OpenConfirm', toOpenConfirm], ['Established', toEstablished]] as const) {
    const s = run(initialState(config), setup).state
    t.equal(s.name, name)
    const r = step(s, { type: 'HoldTimer_Expires' }, 0)
    t.equal(r.state.name, 'Idle')
    t.same(r.actions[0] && fmt(r.actions[0]), 'notify 4/0', `${name}: Hold Timer Expired sent first`)
    t.equal(r.actions.some((a) => a.type === 'session-down'), name === 'Established', `${name}: session-down only from Established`)
    t.match(r.state.lastError, /hold timer expired/)
    t.equal(r.state.negotiated, undefined, 'negotiated state cleared in Idle')
  }
})

t.test('TCP failure in OpenSent goes back to Active and waits ConnectRetryTime', async (t) => {
  const config = fsmConfig(base)
  const sent = run(initialState(config), toOpenSent).state
  replay(t, config, [
    [0, { type: 'TcpConnectionFails' }, 'Active', ['stop Hold', 'drop', 'start ConnectRetry 5']],
    [5000, { type: 'ConnectRetryTimer_Expires' }, 'Connect', ['start ConnectRetry 5', 'connect']],
    [5100, { type: 'Tcp_CR_Acked' }, 'OpenSent', ['stop ConnectRetry', 'open', 'start Hold 240']],
  ], sent)
})

t.test('back-off: IdleHoldTime doubles up to the cap, resets after a stable session', async (t) => {
  const config = fsmConfig({ ...base, backoff: { initialSeconds: 1, maxSeconds: 16, multiplier: 2, stableSeconds: 60 } })
  let s = initialState(config)
  let now = 0
  const delays: number[] = []
  // a peer that refuses TCP: every attempt falls to Idle, each IdleHold longer than the last
  s = step(s, { type: 'ManualStart' }, now).state
  for (let i = 0; i < 7; i++) {
    const r = step(s, { type: 'TcpConnectionFails', reason: 'ECONNREFUSED' }, now)
    const ih = find(r.actions, 'start-timer')
    t.equal(ih?.timer, 'IdleHold')
    delays.push(ih?.seconds ?? -1)
    now += (ih?.seconds ?? 0) * 1000
    // AutomaticStart during the hold is damped
    const damped = step(r.state, { type: 'AutomaticStart' }, now - 1)
    t.same(damped.actions, [], 'AutomaticStart ignored while IdleHold runs')
    const again = step(r.state, { type: 'IdleHoldTimer_Expires' }, now)
    t.equal(again.state.name, 'Connect', 'IdleHold expiry restarts the peer')
    t.same(again.actions.map(fmt), ['start ConnectRetry 5', 'connect'])
    s = again.state
  }
  t.same(delays, [1, 2, 4, 8, 16, 16, 16])

  // a session that flaps quickly keeps growing the back-off ...
  const flap = (from: FsmState, upFor: number): { s: FsmState; delay: number } => {
    let x = from
    for (const e of [{ type: 'Tcp_CR_Acked' }, { type: 'BGPOpen', open: peerOpen() }, { type: 'KeepAliveMsg' }] as FsmEvent[]) x = step(x, e, now).state
    t.equal(x.name, 'Established')
    now += upFor
    const r = step(x, { type: 'HoldTimer_Expires' }, now)
    const ih = find(r.actions, 'start-timer')
    now += (ih?.seconds ?? 0) * 1000
    return { s: step(r.state, { type: 'IdleHoldTimer_Expires' }, now).state, delay: ih?.seconds ?? -1 }
  }
  const f1 = flap(s, 5_000)
  t.equal(f1.delay, 16, 'up for 5s: still damped at the cap')
  // ... and one that stayed up for stableSeconds starts over at initialSeconds
  const f2 = flap(f1.s, 60_000)
  t.equal(f2.delay, 1, 'up for 60s: back-off reset')
  const f3 = flap(f2.s, 1_000)
  t.equal(f3.delay, 2, 'and grows again from there')
})

t.test('ManualStart cancels a running IdleHold; ManualStop in Idle cancels it too', async (t) => {
  const config = fsmConfig(base)
  const est = run(initialState(config), toEstablished).state
  const down = step(est, { type: 'HoldTimer_Expires' }, 0).state
  t.equal(down.idleHoldRunning, true)
  const r = step(down, { type: 'ManualStart' }, 0)
  t.same(r.actions.map(fmt), ['stop IdleHold', 'start ConnectRetry 5', 'connect'])
  const stop = step(down, { type: 'ManualStop' }, 0)
  t.same(stop.actions.map(fmt), ['stop IdleHold'])
  t.equal(stop.state.idleHoldRunning, false)
  t.same(step(stop.state, { type: 'IdleHoldTimer_Expires' }, 0).actions, [], 'a stale IdleHold expiry does nothing')
  t.equal(step(stop.state, { type: 'IdleHoldTimer_Expires' }, 0).state.name, 'Idle')
  t.equal(stop.state.backoff.nextMs, 1000, 'operator stop forgets the back-off')
})

t.test('autoRestart off: falls to Idle without IdleHold, waits for a start event', async (t) => {
  const config = fsmConfig({ ...base, autoRestart: false })
  const est = run(initialState(config), toEstablished).state
  const r = step(est, { type: 'NotifMsg', code: 6, subcode: 2 }, 0)
  t.same(r.actions.map(fmt), ['stop Hold', 'stop Keepalive', 'drop', 'down'])
  t.equal(r.state.idleHoldRunning, false)
  t.match(r.state.lastError, /Cease subcode 2/)
  t.equal(step(r.state, { type: 'AutomaticStart' }, 0).state.name, 'Connect')
})

t.test('notification classification and incoming connection acceptance', async (t) => {
  t.same(notificationEvent(2, 1, Uint8Array.of(0, 4)).type, 'NotifMsgVerErr')
  t.same(notificationEvent(2, 2), { type: 'NotifMsg', code: 2, subcode: 2, data: new Uint8Array(0) })
  const config = fsmConfig(base)
  const states: [FsmEvent[], boolean][] = [[[], false], [[{ type: 'ManualStart' }], true], [toOpenSent, false], [toEstablished, false]]
  for (const [events, expected] of states) {
    const s = run(initialState(config), events).state
    t.equal(acceptsIncoming(s), expected, s.name)
  }
})

t.test('config validation', async (t) => {
  const bad: [string, Parameters<typeof fsmConfig>[0]][] = [
    ['router id 0.0.0.0', { ...base, routerId: '0.0.0.0' }],
    ['router id not dotted quad', { ...base, routerId: '192.0.2.300' }],
    ['local AS 0', { ...base, localAs: 0 }],
    ['remote AS too big', { ...base, remoteAs: 2 ** 32 }],
    ['hold time 1', { ...base, holdTime: 1 }],
    ['back-off max below initial', { ...base, backoff: { initialSeconds: 10, maxSeconds: 5 } }],
  ]
  for (const [name, input] of bad) {
    t.throws(() => fsmConfig(input), { name: 'PorterError', code: 'PORTER_ERR_CONFIG_INVALID' }, name)
  }
  const c = fsmConfig(base)
  t.same([c.largeHoldTime, c.passive, c.autoRestart, c.backoff.maxSeconds], [240, false, true, 120], 'defaults')
})
