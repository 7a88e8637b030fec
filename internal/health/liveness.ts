// Node liveness as a health state (pure): a next hop with a `bfd` check is up while its BFD
// session is Up, and down at once otherwise: a path failure (detection time expired, the node
// said Down) and the node's AdminDown (it left cleanly) alike. No rise/fall: BFD's detect
// multiplier is the damping. Starts down (pending) until the first Up, like every check.
import type { BfdState } from '../bfd/index.ts'
import type { HealthState } from './state.ts'

export interface LivenessChange {
  to: BfdState
  /** our diag for the change, as text ("Control Detection Time Expired") */
  diag: string
  /** the last state the node sent */
  remoteState: BfdState
}

/** Why a next hop whose session is not Up is down, for `porter status` and the logs. */
export function livenessError(c: LivenessChange): string {
  if (c.remoteState === 'AdminDown') return 'BFD: the node said AdminDown (its agent stopped or left)'
  if (c.to === 'AdminDown') return 'BFD: stopped here'
  return c.diag && c.diag !== 'No Diagnostic' ? `BFD ${c.to}: ${c.diag}` : `BFD ${c.to}`
}

export function observeLiveness(s: HealthState, c: LivenessChange): { state: HealthState; changed: boolean } {
  const up = c.to === 'Up'
  const state: HealthState = { up, streak: 0, checks: s.checks + 1, ...(up ? {} : { lastError: livenessError(c) }) }
  return { state, changed: up !== s.up }
}
