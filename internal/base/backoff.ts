// The one back-off: exponential with a cap, reset after a stable period. Pure: the state is a
// value and every step takes `now` (monotonic ms) from the caller's Clock.
//
// Used by BGP peer oscillation damping (RFC 4271 8.1.1 IdleHoldTimer), informer restarts and
// the agent's and controller's reconcile retries.

export interface BackoffPolicy {
  /** first delay, ms */
  readonly initialMs: number
  /** cap, ms */
  readonly maxMs: number
  /** growth factor per failure (>= 1) */
  readonly multiplier: number
  /** up (or successful) at least this long before a failure: start over from initialMs. 0: any success resets */
  readonly stableMs: number
}

export interface BackoffState {
  /** the delay the next failure will use, ms */
  readonly nextMs: number
  /** consecutive failures so far */
  readonly failures: number
  /** `now` of the last success, while no failure followed it */
  readonly upSince?: number
}

type PolicyInput = { readonly [K in keyof BackoffPolicy]?: BackoffPolicy[K] | undefined } & Pick<BackoffPolicy, 'initialMs' | 'maxMs'>

/**
 * A validated, frozen policy (multiplier 2 and stableMs 0 unless given; an `undefined` field
 * takes the default). Throws a RangeError unless 0 < initialMs <= maxMs, multiplier >= 1 and
 * stableMs >= 0.
 */
export function backoffPolicy(p: PolicyInput): BackoffPolicy {
  const policy: BackoffPolicy = {
    initialMs: p.initialMs,
    maxMs: p.maxMs,
    multiplier: p.multiplier ?? 2,
    stableMs: p.stableMs ?? 0,
  }
  if (!(policy.initialMs > 0) || !(policy.maxMs >= policy.initialMs) || !(policy.multiplier >= 1) || !(policy.stableMs >= 0)) {
    throw new RangeError(`Cannot use back-off policy ${JSON.stringify(policy)}: expected 0 < initialMs <= maxMs, multiplier >= 1, stableMs >= 0`)
  }
  return Object.freeze(policy)
}

export function backoffInit(policy: BackoffPolicy): BackoffState {
  return { nextMs: policy.initialMs, failures: 0 }
}

/** Success (session Established, request answered) at `now`. */
export function backoffOnSuccess(policy: BackoffPolicy, s: BackoffState, now: number): BackoffState {
  if (policy.stableMs === 0) return { nextMs: policy.initialMs, failures: 0, upSince: now }
  return { nextMs: s.nextMs, failures: s.failures, upSince: s.upSince ?? now }
}

/** Failure at `now`: how long to wait before the next attempt, and the state after it. */
export function backoffOnFailure(policy: BackoffPolicy, s: BackoffState, now: number): { delayMs: number; state: BackoffState } {
  const stable = s.upSince !== undefined && now - s.upSince >= policy.stableMs
  const delayMs = stable ? policy.initialMs : Math.min(s.nextMs, policy.maxMs)
  const failures = stable ? 1 : s.failures + 1
  return { delayMs, state: { nextMs: Math.min(delayMs * policy.multiplier, policy.maxMs), failures } }
}
