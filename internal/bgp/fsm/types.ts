// Types of the pure BGP FSM (RFC 4271 section 8). No I/O: the session layer feeds events and
// executes the returned actions (sockets, timers, logging).
import type { Capability, CodecContext, FamilyKey, OpenMessage } from '../wire/index.ts'
import type { BackoffPolicy, BackoffState } from './backoff.ts'

export type StateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established'

/** Timers the session layer runs for the FSM. Their expiry comes back as `<Name>Timer_Expires`. */
export type TimerName = 'ConnectRetry' | 'Hold' | 'Keepalive' | 'IdleHold'

/**
 * A capability the peer MUST advertise, else the OPEN is refused with
 * OPEN Message Error / Unsupported Capability (RFC 5492). `afi`/`safi` narrow codes 1 and 69.
 */
export interface RequiredCapability {
  code: number
  afi?: number
  safi?: number
}

export interface FsmConfig {
  /** our AS (4-octet allowed; the OPEN carries AS_TRANS when it does not fit in 16 bits) */
  readonly localAs: number
  /** the AS the peer must announce (its 4-octet capability when present, else "My AS") */
  readonly remoteAs: number
  /** our BGP identifier, dotted quad */
  readonly routerId: string
  /** hold time we propose, seconds: 0 (no keepalives) or >= 3. Default 90 */
  readonly holdTime: number
  /** ConnectRetryTime, seconds. Default 120 */
  readonly connectRetryTime: number
  /** hold timer while waiting for the peer's OPEN (RFC 4271 suggests 4 minutes). Default 240 */
  readonly largeHoldTime: number
  /** wait for the peer to connect; never initiate TCP. Default false */
  readonly passive: boolean
  /**
   * After a fall to Idle that an operator did not ask for, start the IdleHoldTimer (back-off)
   * and restart automatically when it expires. Default true
   */
  readonly autoRestart: boolean
  /** capabilities sent in our OPEN (see the codec's `makeCapabilities`) */
  readonly capabilities: readonly Capability[]
  /** capabilities the peer must advertise. Default none */
  readonly requiredCapabilities: readonly RequiredCapability[]
  /** peer oscillation damping policy */
  readonly backoff: BackoffPolicy
}

/** What the two OPENs agreed on. */
export interface Negotiated {
  peerAs: number
  peerRouterId: string
  /** min(ours, peer's); 0 = no Hold/Keepalive timers */
  holdTime: number
  /** floor(holdTime / 3), at least 1 second; 0 when holdTime is 0 */
  keepaliveTime: number
  /** address families both sides announced (IPv4 unicast implied when a side sends no MP capability) */
  families: FamilyKey[]
  /** ready to give the codec */
  codec: CodecContext
  /** the peer accepts ROUTE-REFRESH (RFC 2918) */
  routeRefresh: boolean
  /** the peer's graceful restart capability, if it sent one */
  peerGracefulRestart?: Extract<Capability, { kind: 'graceful-restart' }>
  /** every capability the peer sent, as decoded */
  peerCapabilities: Capability[]
}

export interface FsmState {
  readonly config: FsmConfig
  readonly name: StateName
  /** RFC 4271 ConnectRetryCounter */
  readonly connectRetryCounter: number
  /** set from OpenConfirm on; cleared in Idle */
  readonly negotiated?: Negotiated
  readonly backoff: BackoffState
  /** true while Idle waits for the IdleHoldTimer before an automatic restart */
  readonly idleHoldRunning: boolean
  /** why the FSM last fell to Idle (human readable) */
  readonly lastError?: string
}

export type FsmEvent =
  | { type: 'ManualStart' }
  | { type: 'ManualStart_with_PassiveTcpEstablishment' }
  | { type: 'AutomaticStart' }
  | { type: 'AutomaticStart_with_PassiveTcpEstablishment' }
  /** operator stop: Cease / Administrative Shutdown (2) unless `subcode` says otherwise (e.g. 3 Peer De-configured);
   *  `message` is the RFC 9003 shutdown communication */
  | { type: 'ManualStop'; subcode?: number; message?: string }
  /** local system decided to stop the session (Cease with `subcode`, default Other Configuration Change) */
  | { type: 'AutomaticStop'; subcode?: number; data?: Uint8Array; reason?: string }
  /** the peer sent more prefixes than allowed: AutomaticStop with Cease / Maximum Number of Prefixes Reached */
  | { type: 'MaxPrefixExceeded'; afi: number; safi: number; limit: number }
  | { type: 'ConnectRetryTimer_Expires' }
  | { type: 'HoldTimer_Expires' }
  | { type: 'KeepaliveTimer_Expires' }
  | { type: 'IdleHoldTimer_Expires' }
  /** our outgoing TCP connection is up (Event 16) */
  | { type: 'Tcp_CR_Acked' }
  /** the peer's incoming TCP connection was accepted (Event 17) */
  | { type: 'TcpConnectionConfirmed' }
  | { type: 'TcpConnectionFails'; reason?: string }
  | { type: 'BGPOpen'; open: OpenMessage }
  /** the codec rejected a message header: NOTIFICATION code 1 with this subcode/data */
  | { type: 'BGPHeaderErr'; subcode: number; data?: Uint8Array; reason?: string }
  /** the codec rejected an OPEN: NOTIFICATION code 2 with this subcode/data */
  | { type: 'BGPOpenMsgErr'; subcode: number; data?: Uint8Array; reason?: string }
  /** collision resolution chose to close this connection (Cease / Connection Collision Resolution) */
  | { type: 'OpenCollisionDump' }
  /** received NOTIFICATION OPEN Message Error / Unsupported Version Number */
  | { type: 'NotifMsgVerErr'; data?: Uint8Array }
  /** received any other NOTIFICATION */
  | { type: 'NotifMsg'; code: number; subcode: number; data?: Uint8Array }
  | { type: 'KeepAliveMsg' }
  | { type: 'UpdateMsg' }
  /** received ROUTE-REFRESH (RFC 2918); valid only in Established */
  | { type: 'RouteRefreshMsg' }
  /** an UPDATE error whose RFC 7606 action is session-reset: NOTIFICATION code 3 with this subcode/data */
  | { type: 'UpdateMsgErr'; subcode: number; data?: Uint8Array; reason?: string }
  /** the codec rejected a ROUTE-REFRESH (RFC 7313 5): NOTIFICATION code 7 with this subcode/data */
  | { type: 'RouteRefreshMsgErr'; subcode: number; data?: Uint8Array; reason?: string }

export type FsmEventType = FsmEvent['type']

/**
 * Actions, executed in order. `start-timer` on a running timer restarts it. `drop-connection`
 * after `send-notification` means: flush the NOTIFICATION, then close.
 */
export type FsmAction =
  | { type: 'start-timer'; timer: TimerName; seconds: number }
  | { type: 'stop-timer'; timer: TimerName }
  /** initiate an outgoing TCP connection to the peer (its result comes back as Tcp_CR_Acked or TcpConnectionFails) */
  | { type: 'connect' }
  | { type: 'drop-connection' }
  | { type: 'send-open'; open: OpenMessage }
  | { type: 'send-keepalive' }
  | { type: 'send-notification'; code: number; subcode: number; data: Uint8Array }
  /** the session is up: configure the codec with `negotiated.codec`, send the Adj-RIB-Out, then End-of-RIB */
  | { type: 'established'; negotiated: Negotiated }
  /** leaving Established: reset the Adj-RIB-Out, forget the peer's routes */
  | { type: 'session-down'; reason: string }

export interface StepResult {
  state: FsmState
  actions: FsmAction[]
}
