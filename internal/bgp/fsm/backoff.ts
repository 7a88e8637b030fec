// Peer oscillation damping (RFC 4271 8.1.1 "DampPeerOscillations", method left to the
// implementation). Pure: every function takes the policy, the current back-off state and `now`.
//
// Policy: each time the session falls back to Idle for a reason other than an operator stop,
// the peer waits `delaySeconds` (the IdleHoldTimer) before the next automatic start. The delay
// starts at `initialSeconds` and is multiplied by `multiplier` after every fall, capped at
// `maxSeconds`. When the session had stayed Established for at least `stableSeconds` before it
// fell, the peer is considered healthy again and the delay starts over from `initialSeconds`.

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

export interface BackoffState {
  /** IdleHoldTime the next fall will use, seconds */
  readonly nextSeconds: number
  /** `now` (ms) when the session last reached Established, if it is still up */
  readonly establishedAt?: number
}

export function backoffInit(policy: BackoffPolicy): BackoffState {
  return { nextSeconds: policy.initialSeconds }
}

/** The session reached Established at `now` (ms). */
export function backoffOnEstablished(_policy: BackoffPolicy, s: BackoffState, now: number): BackoffState {
  return { nextSeconds: s.nextSeconds, establishedAt: now }
}

/**
 * The session fell back to Idle at `now` (ms). Returns how long to hold in Idle before the next
 * automatic start, and the state for the fall after that.
 */
export function backoffOnDown(policy: BackoffPolicy, s: BackoffState, now: number): { delaySeconds: number; state: BackoffState } {
  const stable = s.establishedAt !== undefined && now - s.establishedAt >= policy.stableSeconds * 1000
  const delaySeconds = stable ? policy.initialSeconds : Math.min(s.nextSeconds, policy.maxSeconds)
  const nextSeconds = Math.min(delaySeconds * policy.multiplier, policy.maxSeconds)
  return { delaySeconds, state: { nextSeconds } }
}
