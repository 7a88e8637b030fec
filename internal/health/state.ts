// Rise/fall damping of health-check results (HAProxy/keepalived semantics). Pure.
// A target starts down; `rise` consecutive successes bring it up, `fall` consecutive failures
// take it down. Results that agree with the current state reset the opposite counter.

export interface HealthState {
  readonly up: boolean
  /** consecutive results against the current state */
  readonly streak: number
  readonly checks: number
  readonly lastError?: string
}

export const INITIAL: HealthState = Object.freeze({ up: false, streak: 0, checks: 0 })

export function observe(s: HealthState, ok: boolean, rise: number, fall: number, error?: string): { state: HealthState; changed: boolean } {
  const checks = s.checks + 1
  const lastError = ok ? undefined : error
  if (ok === s.up) return { state: { up: s.up, streak: 0, checks, lastError }, changed: false }
  const streak = s.streak + 1
  if (streak >= (ok ? rise : fall)) return { state: { up: ok, streak: 0, checks, lastError }, changed: true }
  return { state: { up: s.up, streak, checks, lastError }, changed: false }
}
