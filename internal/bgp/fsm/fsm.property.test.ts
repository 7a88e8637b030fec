// fast-check: random event sequences keep the FSM's invariants (timer hygiene, established /
// session-down pairing, negotiated state only where it belongs). Stale timer events included.
import fc from 'fast-check'
import t from 'tap'
import { initialState, step } from './fsm.ts'
import { fsmConfig } from './open.ts'
import type { FsmEvent, FsmState, TimerName } from './types.ts'
import { peerOpen } from '../../../test/lib/fsm-testkit.ts'
import { fastCheckSeed } from '../../../test/lib/fuzz.ts'

fastCheckSeed(t)

const event: fc.Arbitrary<FsmEvent> = fc.oneof(
  fc.constantFrom<FsmEvent>(
    { type: 'ManualStart' }, { type: 'ManualStart_with_PassiveTcpEstablishment' }, { type: 'AutomaticStart' },
    { type: 'AutomaticStart_with_PassiveTcpEstablishment' }, { type: 'ManualStop' }, { type: 'AutomaticStop' },
    { type: 'MaxPrefixExceeded', afi: 1, safi: 1, limit: 10 }, { type: 'ConnectRetryTimer_Expires' }, { type: 'HoldTimer_Expires' },
    { type: 'KeepaliveTimer_Expires' }, { type: 'IdleHoldTimer_Expires' }, { type: 'Tcp_CR_Acked' }, { type: 'TcpConnectionConfirmed' },
    { type: 'TcpConnectionFails' }, { type: 'BGPHeaderErr', subcode: 1 }, { type: 'BGPOpenMsgErr', subcode: 2 }, { type: 'OpenCollisionDump' },
    { type: 'NotifMsgVerErr' }, { type: 'NotifMsg', code: 6, subcode: 2 }, { type: 'UpdateMsg' }, { type: 'RouteRefreshMsg' },
    { type: 'UpdateMsgErr', subcode: 3 },
  ),
  fc.constantFrom<FsmEvent>({ type: 'KeepAliveMsg' }, { type: 'Tcp_CR_Acked' }),
  fc.integer({ min: 0, max: 40 }).map((holdTime): FsmEvent => ({ type: 'BGPOpen', open: peerOpen({ holdTime: holdTime === 1 || holdTime === 2 ? 0 : holdTime }) })),
  fc.constantFrom<FsmEvent>({ type: 'BGPOpen', open: peerOpen({ version: 3 }) }),
)

/** Random events mixed with whole happy-path runs, so sequences reach Established often. */
const events: fc.Arbitrary<FsmEvent[]> = fc.array(
  fc.oneof(
    { arbitrary: event.map((e) => [e]), weight: 4 },
    { arbitrary: fc.constant<FsmEvent[]>([{ type: 'ManualStart' }, { type: 'Tcp_CR_Acked' }, { type: 'BGPOpen', open: peerOpen() }, { type: 'KeepAliveMsg' }]), weight: 1 },
  ),
  { minLength: 1, maxLength: 30 },
).map((chunks) => chunks.flat())

const EXPIRES: Partial<Record<FsmEvent['type'], TimerName>> = {
  ConnectRetryTimer_Expires: 'ConnectRetry', HoldTimer_Expires: 'Hold', KeepaliveTimer_Expires: 'Keepalive', IdleHoldTimer_Expires: 'IdleHold',
}

function expectedTimers(s: FsmState): TimerName[] {
  switch (s.name) {
    case 'Idle': return s.idleHoldRunning ? ['IdleHold'] : []
    case 'Connect': case 'Active': return ['ConnectRetry']
    case 'OpenSent': return ['Hold']
    case 'OpenConfirm': case 'Established': return (s.negotiated?.holdTime ?? 0) > 0 ? ['Hold', 'Keepalive'] : []
  }
}

t.test('random event sequences keep the invariants', async (t) => {
  let reachedEstablished = 0
  t.doesNotThrow(() => fc.assert(fc.property(fc.boolean(), fc.boolean(), events, (passive, autoRestart, events) => {
    const config = fsmConfig({ localAs: 65001, remoteAs: 65002, routerId: '192.0.2.1', holdTime: 9, passive, autoRestart })
    let s = initialState(config)
    const running = new Set<TimerName>()
    let now = 0
    for (const e of events) {
      now += 500
      const fired = EXPIRES[e.type]
      if (fired) running.delete(fired)
      const r = step(s, e, now)
      for (const a of r.actions) {
        if (a.type === 'start-timer') running.add(a.timer)
        if (a.type === 'stop-timer') running.delete(a.timer)
      }
      const types = r.actions.map((a) => a.type)
      const wentUp = s.name !== 'Established' && r.state.name === 'Established'
      const wentDown = s.name === 'Established' && r.state.name !== 'Established'
      if (types.includes('established') !== wentUp) throw new Error(`established action mismatch on ${e.type}`)
      if (types.includes('session-down') !== wentDown) throw new Error(`session-down mismatch on ${e.type}`)
      if (types.includes('send-notification') && !['OpenSent', 'OpenConfirm', 'Established'].includes(s.name)) {
        throw new Error(`NOTIFICATION sent from ${s.name}`)
      }
      const hasNeg = r.state.negotiated !== undefined
      if (hasNeg !== (r.state.name === 'OpenConfirm' || r.state.name === 'Established')) throw new Error(`negotiated in ${r.state.name}`)
      if (r.state.name !== 'Idle' && r.state.idleHoldRunning) throw new Error('idleHoldRunning outside Idle')
      if (r.state.name === 'Idle' && s.name !== 'Idle' && autoRestart && !r.state.idleHoldRunning && e.type !== 'ManualStop') {
        throw new Error(`fell to Idle on ${e.type} without back-off`)
      }
      const want = expectedTimers(r.state).sort().join(',')
      const have = [...running].sort().join(',')
      if (want !== have) throw new Error(`${s.name} --${e.type}--> ${r.state.name}: timers ${have}, expected ${want}`)
      if (wentUp) reachedEstablished++
      s = r.state
    }
    return true
  }), { numRuns: 2000 }))
  t.ok(reachedEstablished > 0, `sequences reached Established (${reachedEstablished} times)`)
})
