// Pure BGP finite state machine (RFC 4271 section 8): (state, event, now) -> { state, actions }.
//
// How a session layer drives it (one FSM per TCP connection; `now` = monotonic ms):
//   const config = fsmConfig({ localAs, remoteAs, routerId, holdTime, passive, capabilities, ... })
//   let s = initialState(config)
//   feed(event): ({ state: s, actions } = step(s, event, clock.now())); run the actions in order:
//     start-timer {timer, seconds}  (re)arm; on expiry feed `${timer}Timer_Expires`
//                                   (ConnectRetry, Hold, Keepalive, IdleHold)
//     stop-timer {timer}            cancel (no expiry event may follow)
//     connect                       dial the peer; feed Tcp_CR_Acked or TcpConnectionFails
//     send-open {open}              encode and write the OPEN
//     send-keepalive                write a KEEPALIVE
//     send-notification {code, subcode, data}   write it; a drop-connection follows: flush, then close
//     drop-connection               close the socket (no TcpConnectionFails for it)
//     established {negotiated}      codec context = negotiated.codec; send the Adj-RIB-Out, End-of-RIB
//     session-down {reason}         AdjRibOut.reset(); forget received routes
//   Socket events: accepted incoming -> TcpConnectionConfirmed (when acceptsIncoming(s)); socket
//   error/close -> TcpConnectionFails. Messages: OPEN -> BGPOpen {open}; KEEPALIVE -> KeepAliveMsg;
//   UPDATE -> UpdateMsg (or UpdateMsgErr for RFC 7606 session-reset errors); ROUTE-REFRESH ->
//   RouteRefreshMsg (RouteRefreshMsgErr when it does not decode); NOTIFICATION ->
//   notificationEvent(code, subcode, data); header / OPEN decode
//   errors -> BGPHeaderErr / BGPOpenMsgErr {subcode, data}. Operator: ManualStart / ManualStop
//   {message}; too many prefixes: MaxPrefixExceeded {afi, safi, limit}.
//   Collisions: an incoming connection while the first is in OpenSent/OpenConfirm gets its own FSM
//   (ManualStart_with_PassiveTcpEstablishment, TcpConnectionConfirmed); after each BGPOpen call
//   resolveCollision(a, b, ids) and feed OpenCollisionDump to the loser.
export type {
  FsmAction, FsmConfig, FsmEvent, FsmEventType, FsmState, Negotiated, RequiredCapability, StateName, StepResult, TimerName,
} from './types.ts'
export { acceptsIncoming, initialState, maxPrefixData, notificationEvent, shutdownCommunication, step } from './fsm.ts'
export {
  buildOpen, fsmConfig, negotiateSession, validateOpen,
  type FsmConfigInput, type OpenVerdict,
} from './open.ts'
export { resolveCollision, type CollisionConnection, type CollisionIds, type CollisionOptions } from './collision.ts'
export { DEFAULT_BACKOFF, backoffInit, backoffOnDown, backoffOnEstablished, type BackoffPolicy, type BackoffState } from './backoff.ts'
