// Peer oscillation damping (RFC 4271 8.1.1 "DampPeerOscillations", method left to the
// implementation) on the one back-off (internal/base). Pure: every function takes the policy,
// the current back-off state and `now` (monotonic ms).
//
// Policy: each time the session falls back to Idle for a reason other than an operator stop,
// the peer waits `delaySeconds` (the IdleHoldTimer) before the next automatic start. The delay
// starts at `initialSeconds` and is multiplied by `multiplier` after every fall, capped at
// `maxSeconds`. When the session had stayed Established for at least `stableSeconds` before it
// fell, the peer is considered healthy again and the delay starts over from `initialSeconds`.
// The policy is in seconds like the RFC's timers; the state is the base back-off's (ms).
import {
  backoffInit as baseInit, backoffOnFailure, backoffOnSuccess, backoffPolicy,
  type BackoffPolicy as MsPolicy, type BackoffState,
} from '../../base/index.ts'

export type { BackoffState }

export interface BackoffPolicy {
  /** first IdleHoldTime, seconds (default 1) */
  readonly initialSeconds: number
  /** cap, seconds (default 120) */
  readonly maxSeconds: number
  /** growth factor per fall (default 2) */
  readonly multiplier: number
  /** Established at least this long resets the back-off (default 60) */
  readonly stableSeconds: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  initialSeconds: 1,
  maxSeconds: 120,
  multiplier: 2,
  stableSeconds: 60,
})

const converted = new WeakMap<BackoffPolicy, MsPolicy>()

/** The base policy (ms) for a policy in seconds. */
function inMs(p: BackoffPolicy): MsPolicy {
  let ms = converted.get(p)
  if (!ms) {
    ms = backoffPolicy({ initialMs: p.initialSeconds * 1000, maxMs: p.maxSeconds * 1000, multiplier: p.multiplier, stableMs: p.stableSeconds * 1000 })
    converted.set(p, ms)
  }
  return ms
}

export function backoffInit(policy: BackoffPolicy): BackoffState {
  return baseInit(inMs(policy))
}

/** The session reached Established at `now` (ms). */
export function backoffOnEstablished(policy: BackoffPolicy, s: BackoffState, now: number): BackoffState {
  return backoffOnSuccess(inMs(policy), s, now)
}

/**
 * The session fell back to Idle at `now` (ms). Returns how long to hold in Idle before the next
 * automatic start, and the state for the fall after that.
 */
export function backoffOnDown(policy: BackoffPolicy, s: BackoffState, now: number): { delaySeconds: number; state: BackoffState } {
  const r = backoffOnFailure(inMs(policy), s, now)
  return { delaySeconds: r.delayMs / 1000, state: r.state }
}
