// Pure BGP finite state machine (RFC 4271 section 8): (state, event, now) -> { state, actions }.
export type {
  FsmAction, FsmConfig, FsmEvent, FsmEventType, FsmState, Negotiated, RequiredCapability, StateName, StepResult, TimerName,
} from './types.ts'
export { acceptsIncoming, initialState, maxPrefixData, notificationEvent, shutdownCommunication, step } from './fsm.ts'
export {
  buildOpen, defaultCapabilities, encodeCapabilityTlv, familyKey, fsmConfig, negotiate, peerAsOf, routerIdToU32, validateOpen,
  type FsmConfigInput, type OpenVerdict,
} from './open.ts'
export { resolveCollision, type CollisionConnection, type CollisionIds, type CollisionOptions } from './collision.ts'
export { DEFAULT_BACKOFF, backoffInit, backoffOnDown, backoffOnEstablished, type BackoffPolicy, type BackoffState } from './backoff.ts'
export { AS_TRANS, BGP_VERSION, CeaseSubcode, FsmErrorSubcode, NotifCode, OpenSubcode } from './codes.ts'
