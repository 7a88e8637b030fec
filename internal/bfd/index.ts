// BFD (RFC 5880 asynchronous mode over RFC 5881 single-hop UDP): the pure codec (packet.ts), the
// pure session state machine (session.ts), and the UDP adapter (udp.ts: port 3784, TTL 255 sent
// and checked), and a set of sessions kept equal to a wanted one (plan.ts pure, peers.ts).
export {
  BFD_PORT, BfdWireError, CONTROL_PACKET_LENGTH, Diag, SOURCE_PORT_MAX, SOURCE_PORT_MIN, decode, diagName, encode,
  type BfdState, type BfdWireReason, type ControlPacket,
} from './packet.ts'
export {
  BfdSession, SLOW_TX_US, isPathFailure,
  type BfdEffect, type BfdEvent, type BfdSessionOptions, type BfdSessionStatus, type BfdTimer, type BfdTimers, type StateChange,
} from './session.ts'
export { BfdService, type BfdAcceptor, type BfdPeerOptions, type BfdServiceDeps } from './udp.ts'
export { planSessions, wireTimers, bfdStatusView, sameSession, type BfdTimersMs, type SessionPlan } from './plan.ts'
export { BfdPeers, type BfdPort, type BfdPeersDeps } from './peers.ts'
export { PassivePeers, accepts, type PassivePeersDeps } from './passive.ts'
export { checkAuth, checkReceived, sameAuth, signPacket, verifyPacket, BFD_AUTH_TYPES, type BfdAuth, type BfdAuthType, type AuthRxState } from './auth.ts'
