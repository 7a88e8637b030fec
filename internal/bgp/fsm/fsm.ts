// RFC 4271 section 8.2.2 finite state machine as a pure function of (state, event, now).
// `now` is a monotonic clock in milliseconds; it only feeds the back-off policy.
//
// Deviations from the RFC table, all on purpose:
// - Falls to Idle that the operator did not ask for start the IdleHoldTimer (back-off, see
//   backoff.ts); its expiry restarts the peer (DampPeerOscillations, events 6, 7 and 13).
//   AutomaticStart while it runs is ignored; ManualStart cancels it; ManualStop in Idle cancels it.
// - Active with a passive peer: ConnectRetryTimer expiry restarts the timer and keeps waiting
//   instead of initiating a connection.
// - A received NOTIFICATION in OpenSent is not answered with an FSM Error NOTIFICATION.
// - BGPHeaderErr / BGPOpenMsgErr in Established send the header/OPEN error they carry (section 6),
//   and RouteRefreshMsgErr the ROUTE-REFRESH Message Error 7/x (RFC 7313 5), rather than an FSM Error.
// - A second OPEN on the same connection (OpenConfirm, Established) is an FSM Error: with one FSM
//   per connection, collisions between connections are resolved by `resolveCollision`.
// - ROUTE-REFRESH (RouteRefreshMsg) restarts the hold timer like UPDATE.
// - No DelayOpen, no SendNOTIFICATIONwithoutOPEN, no TcpConnection_Valid/Invalid events (the
//   session layer refuses unconfigured sources before the FSM sees them).
import { backoffInit, backoffOnDown, backoffOnEstablished } from './backoff.ts'
import { CeaseSubcode, ErrCode, FsmSubcode, encodeShutdownCommunication } from '../wire/index.ts'
import { buildOpen, validateOpen } from './open.ts'
import type { FsmAction, FsmConfig, FsmEvent, FsmState, StateName, StepResult } from './types.ts'

const EMPTY = new Uint8Array(0)

export function initialState(config: FsmConfig): FsmState {
  return { config, name: 'Idle', connectRetryCounter: 0, backoff: backoffInit(config.backoff), idleHoldRunning: false }
}

/** Whether the session layer should hand an incoming TCP connection for this peer to this FSM. */
export function acceptsIncoming(state: FsmState): boolean {
  return state.name === 'Connect' || state.name === 'Active'
}

/** RFC 9003 shutdown communication (the codec's encoding); no data at all without a message. */
export function shutdownCommunication(message: string | undefined): Uint8Array {
  if (message === undefined || message === '') return EMPTY
  return encodeShutdownCommunication(message)
}

/** RFC 4486 data for Cease / Maximum Number of Prefixes Reached: AFI (2), SAFI (1), limit (4). */
export function maxPrefixData(afi: number, safi: number, limit: number): Uint8Array {
  return Uint8Array.from([afi >> 8, afi & 0xff, safi & 0xff, (limit >>> 24) & 0xff, (limit >>> 16) & 0xff, (limit >>> 8) & 0xff, limit & 0xff])
}

/** Classify a received NOTIFICATION into the FSM event it causes. */
export function notificationEvent(code: number, subcode: number, data: Uint8Array = EMPTY): FsmEvent {
  if (code === ErrCode.OPEN_MESSAGE && subcode === 1) return { type: 'NotifMsgVerErr', data }
  return { type: 'NotifMsg', code, subcode, data }
}

const notif = (code: number, subcode: number, data: Uint8Array = EMPTY): FsmAction =>
  ({ type: 'send-notification', code, subcode, data })

interface Fall {
  reason: string
  /** notification to send first */
  notification?: FsmAction
  /** operator stop: counter to zero, no automatic restart, back-off forgotten */
  manual?: boolean
  /** RFC: increments ConnectRetryCounter */
  increment?: boolean
}

/** Timers that may be running in a state, stopped when leaving it for Idle. */
function runningTimers(s: FsmState): FsmAction[] {
  switch (s.name) {
    case 'Connect':
    case 'Active':
      return [{ type: 'stop-timer', timer: 'ConnectRetry' }]
    case 'OpenSent':
      return [{ type: 'stop-timer', timer: 'Hold' }]
    case 'OpenConfirm':
    case 'Established':
      return (s.negotiated?.holdTime ?? 0) > 0
        ? [{ type: 'stop-timer', timer: 'Hold' }, { type: 'stop-timer', timer: 'Keepalive' }]
        : []
    default:
      return []
  }
}

function toIdle(s: FsmState, f: Fall, now: number): StepResult {
  const actions: FsmAction[] = []
  if (f.notification) actions.push(f.notification)
  actions.push(...runningTimers(s))
  actions.push({ type: 'drop-connection' })
  if (s.name === 'Established') actions.push({ type: 'session-down', reason: f.reason })
  const counter = f.manual ? 0 : f.increment ? s.connectRetryCounter + 1 : s.connectRetryCounter
  let backoff = s.backoff
  let idleHoldRunning = false
  if (f.manual) {
    backoff = backoffInit(s.config.backoff)
  } else {
    const b = backoffOnDown(s.config.backoff, s.backoff, now)
    backoff = b.state
    if (s.config.autoRestart) {
      actions.push({ type: 'start-timer', timer: 'IdleHold', seconds: b.delaySeconds })
      idleHoldRunning = true
    }
  }
  const state: FsmState = {
    config: s.config, name: 'Idle', connectRetryCounter: counter, backoff, idleHoldRunning, lastError: f.reason,
  }
  return { state, actions }
}

function start(s: FsmState, passive: boolean): StepResult {
  const actions: FsmAction[] = []
  if (s.idleHoldRunning) actions.push({ type: 'stop-timer', timer: 'IdleHold' })
  actions.push({ type: 'start-timer', timer: 'ConnectRetry', seconds: s.config.connectRetryTime })
  if (!passive) actions.push({ type: 'connect' })
  const name: StateName = passive ? 'Active' : 'Connect'
  const state: FsmState = { config: s.config, name, connectRetryCounter: 0, backoff: s.backoff, idleHoldRunning: false }
  if (s.lastError !== undefined) return { state: { ...state, lastError: s.lastError }, actions }
  return { state, actions }
}

function stay(s: FsmState, actions: FsmAction[] = []): StepResult {
  return { state: s, actions }
}

function go(s: FsmState, name: StateName, actions: FsmAction[], patch: Partial<FsmState> = {}): StepResult {
  return { state: { ...s, ...patch, name }, actions }
}

/** TCP is up (either direction): send OPEN, wait for the peer's with the large hold timer. */
function tcpUp(s: FsmState): StepResult {
  return go(s, 'OpenSent', [
    { type: 'stop-timer', timer: 'ConnectRetry' },
    { type: 'send-open', open: buildOpen(s.config) },
    { type: 'start-timer', timer: 'Hold', seconds: s.config.largeHoldTime },
  ])
}

function describeNotification(code: number, subcode: number): string {
  const names: Record<number, string> = {
    1: 'Message Header Error', 2: 'OPEN Message Error', 3: 'UPDATE Message Error', 4: 'Hold Timer Expired',
    5: 'Finite State Machine Error', 6: 'Cease', 7: 'ROUTE-REFRESH Message Error',
  }
  return `${names[code] ?? `code ${code}`} subcode ${subcode}`
}

function ceaseFor(e: Extract<FsmEvent, { type: 'ManualStop' | 'AutomaticStop' | 'MaxPrefixExceeded' }>): { action: FsmAction; reason: string } {
  switch (e.type) {
    case 'ManualStop': {
      const subcode = e.subcode ?? CeaseSubcode.ADMINISTRATIVE_SHUTDOWN
      const data = subcode === CeaseSubcode.ADMINISTRATIVE_SHUTDOWN || subcode === CeaseSubcode.ADMINISTRATIVE_RESET
        ? shutdownCommunication(e.message) : EMPTY
      return { action: notif(ErrCode.CEASE, subcode, data), reason: e.message ? `stopped by operator: ${e.message}` : 'stopped by operator' }
    }
    case 'AutomaticStop':
      return {
        action: notif(ErrCode.CEASE, e.subcode ?? CeaseSubcode.OTHER_CONFIGURATION_CHANGE, e.data ?? EMPTY),
        reason: e.reason ?? 'stopped automatically',
      }
    case 'MaxPrefixExceeded':
      return {
        action: notif(ErrCode.CEASE, CeaseSubcode.MAXIMUM_PREFIXES_REACHED, maxPrefixData(e.afi, e.safi, e.limit)),
        reason: `peer exceeded the maximum of ${e.limit} prefixes (afi ${e.afi} safi ${e.safi})`,
      }
  }
}

/** Stop a session that has exchanged OPENs: Cease, then Idle (a manual stop resets the counter and back-off). */
function stopWithCease(s: FsmState, e: Extract<FsmEvent, { type: 'ManualStop' | 'AutomaticStop' | 'MaxPrefixExceeded' }>, now: number): StepResult {
  const c = ceaseFor(e)
  const manual = e.type === 'ManualStop'
  return toIdle(s, { reason: c.reason, notification: c.action, manual, increment: !manual }, now)
}

function isStartEvent(t: FsmEvent['type']): boolean {
  return t === 'ManualStart' || t === 'ManualStart_with_PassiveTcpEstablishment' ||
    t === 'AutomaticStart' || t === 'AutomaticStart_with_PassiveTcpEstablishment'
}

function isMessageEvent(t: FsmEvent['type']): boolean {
  return t === 'KeepAliveMsg' || t === 'UpdateMsg' || t === 'UpdateMsgErr' || t === 'RouteRefreshMsg' || t === 'RouteRefreshMsgErr' || t === 'BGPOpen'
}

/** FSM Error NOTIFICATION for an event a state does not expect (RFC 6608 subcodes). */
function fsmError(s: FsmState, e: FsmEvent, now: number): StepResult {
  let subcode: number = FsmSubcode.UNSPECIFIED
  if (isMessageEvent(e.type)) {
    if (s.name === 'OpenSent') subcode = FsmSubcode.UNEXPECTED_MESSAGE_IN_OPENSENT
    else if (s.name === 'OpenConfirm') subcode = FsmSubcode.UNEXPECTED_MESSAGE_IN_OPENCONFIRM
    else if (s.name === 'Established') subcode = FsmSubcode.UNEXPECTED_MESSAGE_IN_ESTABLISHED
  }
  return toIdle(s, { reason: `unexpected ${e.type} in ${s.name}`, notification: notif(ErrCode.FSM, subcode), increment: true }, now)
}

function idle(s: FsmState, e: FsmEvent): StepResult {
  switch (e.type) {
    case 'ManualStart':
      return start(s, s.config.passive)
    case 'ManualStart_with_PassiveTcpEstablishment':
      return start(s, true)
    case 'AutomaticStart':
      return s.idleHoldRunning ? stay(s) : start(s, s.config.passive)
    case 'AutomaticStart_with_PassiveTcpEstablishment':
      return s.idleHoldRunning ? stay(s) : start(s, true)
    case 'IdleHoldTimer_Expires':
      return s.idleHoldRunning ? start({ ...s, idleHoldRunning: false }, s.config.passive) : stay(s)
    case 'ManualStop':
      if (!s.idleHoldRunning) return stay(s)
      return go(s, 'Idle', [{ type: 'stop-timer', timer: 'IdleHold' }], { idleHoldRunning: false, backoff: backoffInit(s.config.backoff) })
    default:
      // RFC: any other event in Idle causes no change
      return stay(s)
  }
}

function connectOrActive(s: FsmState, e: FsmEvent, now: number): StepResult {
  const inConnect = s.name === 'Connect'
  switch (e.type) {
    case 'ManualStart':
    case 'ManualStart_with_PassiveTcpEstablishment':
    case 'AutomaticStart':
    case 'AutomaticStart_with_PassiveTcpEstablishment':
      return stay(s)
    case 'ManualStop':
      return toIdle(s, { reason: ceaseFor(e).reason, manual: true }, now)
    case 'ConnectRetryTimer_Expires':
      if (inConnect) {
        return stay(s, [
          { type: 'drop-connection' },
          { type: 'start-timer', timer: 'ConnectRetry', seconds: s.config.connectRetryTime },
          { type: 'connect' },
        ])
      }
      if (s.config.passive) return stay(s, [{ type: 'start-timer', timer: 'ConnectRetry', seconds: s.config.connectRetryTime }])
      return go(s, 'Connect', [
        { type: 'start-timer', timer: 'ConnectRetry', seconds: s.config.connectRetryTime },
        { type: 'connect' },
      ])
    case 'Tcp_CR_Acked':
    case 'TcpConnectionConfirmed':
      return tcpUp(s)
    case 'TcpConnectionFails':
      // RFC: Connect -> Idle without incrementing the counter; Active -> Idle incrementing it
      return toIdle(s, { reason: `TCP connection failed${e.reason ? `: ${e.reason}` : ''}`, increment: !inConnect }, now)
    case 'NotifMsgVerErr':
      return toIdle(s, { reason: 'peer does not support BGP version 4', increment: true }, now)
    default:
      return toIdle(s, { reason: `unexpected ${e.type} in ${s.name}`, increment: true }, now)
  }
}

function openSent(s: FsmState, e: FsmEvent, now: number): StepResult {
  switch (e.type) {
    case 'ManualStop':
    case 'AutomaticStop':
    case 'MaxPrefixExceeded':
      return stopWithCease(s, e, now)
    case 'HoldTimer_Expires':
      return toIdle(s, { reason: 'hold timer expired waiting for OPEN', notification: notif(ErrCode.HOLD_TIMER_EXPIRED, 0), increment: true }, now)
    case 'Tcp_CR_Acked':
    case 'TcpConnectionConfirmed':
      // a second connection: tracked by the session layer (collision detection)
      return stay(s)
    case 'TcpConnectionFails':
      return go(s, 'Active', [
        { type: 'stop-timer', timer: 'Hold' },
        { type: 'drop-connection' },
        { type: 'start-timer', timer: 'ConnectRetry', seconds: s.config.connectRetryTime },
      ])
    case 'BGPOpen': {
      const v = validateOpen(s.config, e.open)
      if (!v.ok) {
        return toIdle(s, { reason: `refused peer OPEN: ${v.reason}`, notification: notif(ErrCode.OPEN_MESSAGE, v.subcode, v.data), increment: true }, now)
      }
      const n = v.negotiated
      const actions: FsmAction[] = [{ type: 'send-keepalive' }]
      if (n.holdTime > 0) {
        actions.push({ type: 'start-timer', timer: 'Keepalive', seconds: n.keepaliveTime })
        actions.push({ type: 'start-timer', timer: 'Hold', seconds: n.holdTime })
      } else {
        actions.push({ type: 'stop-timer', timer: 'Hold' })
      }
      return go(s, 'OpenConfirm', actions, { negotiated: n })
    }
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return toIdle(s, headerOrOpenFall(e), now)
    case 'OpenCollisionDump':
      return toIdle(s, collisionFall(), now)
    case 'NotifMsgVerErr':
      return toIdle(s, { reason: 'peer does not support BGP version 4' }, now)
    case 'NotifMsg':
      return toIdle(s, { reason: `peer sent NOTIFICATION ${describeNotification(e.code, e.subcode)}`, increment: true }, now)
    default:
      if (isStartEvent(e.type)) return stay(s)
      return fsmError(s, e, now)
  }
}

function headerOrOpenFall(e: Extract<FsmEvent, { type: 'BGPHeaderErr' | 'BGPOpenMsgErr' }>): Fall {
  const code = e.type === 'BGPHeaderErr' ? ErrCode.MESSAGE_HEADER : ErrCode.OPEN_MESSAGE
  return {
    reason: e.reason ?? `bad message from peer: ${describeNotification(code, e.subcode)}`,
    notification: notif(code, e.subcode, e.data ?? EMPTY),
    increment: true,
  }
}

function collisionFall(): Fall {
  return { reason: 'connection collision: closed this connection', notification: notif(ErrCode.CEASE, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION), increment: true }
}

function openConfirmOrEstablished(s: FsmState, e: FsmEvent, now: number): StepResult {
  const established = s.name === 'Established'
  const hold = s.negotiated?.holdTime ?? 0
  const restartHold: FsmAction[] = hold > 0 ? [{ type: 'start-timer', timer: 'Hold', seconds: hold }] : []
  switch (e.type) {
    case 'ManualStop':
    case 'AutomaticStop':
    case 'MaxPrefixExceeded':
      return stopWithCease(s, e, now)
    case 'HoldTimer_Expires':
      return toIdle(s, { reason: 'hold timer expired', notification: notif(ErrCode.HOLD_TIMER_EXPIRED, 0), increment: true }, now)
    case 'KeepaliveTimer_Expires':
      if (hold === 0) return stay(s)
      return stay(s, [{ type: 'send-keepalive' }, { type: 'start-timer', timer: 'Keepalive', seconds: s.negotiated?.keepaliveTime ?? 0 }])
    case 'Tcp_CR_Acked':
    case 'TcpConnectionConfirmed':
      return stay(s)
    case 'TcpConnectionFails':
      return toIdle(s, { reason: `TCP connection failed${e.reason ? `: ${e.reason}` : ''}`, increment: true }, now)
    case 'NotifMsg':
      return toIdle(s, { reason: `peer sent NOTIFICATION ${describeNotification(e.code, e.subcode)}`, increment: true }, now)
    case 'NotifMsgVerErr':
      return toIdle(s, { reason: 'peer does not support BGP version 4', increment: established }, now)
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return toIdle(s, headerOrOpenFall(e), now)
    case 'OpenCollisionDump':
      return toIdle(s, collisionFall(), now)
    case 'KeepAliveMsg':
      if (established) return stay(s, restartHold)
      if (!s.negotiated) return fsmError(s, e, now) // unreachable: OpenConfirm always has it
      return go(s, 'Established', [...restartHold, { type: 'established', negotiated: s.negotiated }], {
        backoff: backoffOnEstablished(s.config.backoff, s.backoff, now),
      })
    case 'UpdateMsg':
    case 'RouteRefreshMsg':
      if (established) return stay(s, restartHold)
      return fsmError(s, e, now)
    case 'UpdateMsgErr':
      if (!established) return fsmError(s, e, now)
      return toIdle(s, {
        reason: e.reason ?? `bad UPDATE from peer: ${describeNotification(ErrCode.UPDATE_MESSAGE, e.subcode)}`,
        notification: notif(ErrCode.UPDATE_MESSAGE, e.subcode, e.data ?? EMPTY),
        increment: true,
      }, now)
    case 'RouteRefreshMsgErr':
      if (!established) return fsmError(s, e, now)
      return toIdle(s, {
        reason: e.reason ?? `bad ROUTE-REFRESH from peer: ${describeNotification(ErrCode.ROUTE_REFRESH, e.subcode)}`,
        notification: notif(ErrCode.ROUTE_REFRESH, e.subcode, e.data ?? EMPTY),
        increment: true,
      }, now)
    default:
      if (isStartEvent(e.type)) return stay(s)
      return fsmError(s, e, now)
  }
}

/** One FSM transition. Pure: same inputs, same outputs. */
export function step(state: FsmState, event: FsmEvent, now: number): StepResult {
  switch (state.name) {
    case 'Idle':
      return idle(state, event)
    case 'Connect':
    case 'Active':
      return connectOrActive(state, event, now)
    case 'OpenSent':
      return openSent(state, event, now)
    case 'OpenConfirm':
    case 'Established':
      return openConfirmOrEstablished(state, event, now)
  }
}
