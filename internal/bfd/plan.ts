// PURE: which BFD sessions to start, stop or retime so that the running set becomes the wanted
// one (peer address -> timers), and a session's status as `porter status` shows it. Used by the
// controller's next-hop liveness (internal/health) and the agent's liveness (agent.liveness).
import type { BfdPeerStatus } from '../admin/status.ts'
import { diagName } from './packet.ts'
import type { BfdSessionStatus, BfdTimers } from './session.ts'
import { sameAuth, type BfdAuth } from './auth.ts'

/** BFD timers as the config gives them: milliseconds and a detect multiplier; with the session's port and authentication */
export interface BfdTimersMs {
  minTx: number
  minRx: number
  multiplier: number
  /** the peer's receiving port, when not 3784 (a change restarts the session) */
  port?: number
  /** Keyed / Meticulous Keyed SHA1 with the key read (a change of type, key ID or key restarts the session) */
  auth?: BfdAuth
}

export interface SessionPlan {
  /** addresses to start a session with, in the wanted order */
  add: [string, BfdTimersMs][]
  remove: string[]
  /** running sessions whose timers change (a Poll Sequence when Up, RFC 5880 6.8.3) */
  retime: [string, BfdTimersMs][]
}

/** the same intervals and multiplier (the port is the session's address, not a timer) */
export const sameTimers = (a: BfdTimersMs, b: BfdTimersMs) => a.minTx === b.minTx && a.minRx === b.minRx && a.multiplier === b.multiplier

/** the same port and authentication: else the running session is replaced by a new one */
export const sameSession = (a: BfdTimersMs, b: BfdTimersMs) => a.port === b.port && sameAuth(a.auth, b.auth)

export function planSessions(running: ReadonlyMap<string, BfdTimersMs>, wanted: ReadonlyMap<string, BfdTimersMs>): SessionPlan {
  const plan: SessionPlan = { add: [], remove: [], retime: [] }
  for (const a of running.keys()) if (!wanted.has(a)) plan.remove.push(a)
  for (const [a, t] of wanted) {
    const r = running.get(a)
    const fresh = !r || !sameSession(r, t)
    if (r && fresh) plan.remove.push(a) // another port or key: a new session
    if (fresh) plan.add.push([a, { ...t }])
    else if (!sameTimers(r, t)) plan.retime.push([a, { ...t }])
  }
  return plan
}

/** config milliseconds -> the session's microseconds (as on the wire) */
export function wireTimers(t: BfdTimersMs): BfdTimers {
  return { desiredMinTx: t.minTx * 1000, requiredMinRx: t.minRx * 1000, detectMult: t.multiplier }
}

/** A session's status for `porter status`; without a session (not started, or failed to): Down with the reason. */
export function bfdStatusView(s: BfdSessionStatus | undefined, now: number, error?: string): BfdPeerStatus {
  if (!s) return { state: 'Down', diag: diagName(0), remoteState: 'Down', txIntervalMs: 0, detectTimeMs: 0, sinceSeconds: 0, downs: 0, error: error ?? 'starting' }
  return {
    state: s.state, diag: s.diag, remoteState: s.remoteState, remoteDiag: s.remoteDiag, txIntervalMs: s.txIntervalMs,
    detectTimeMs: s.detectTimeMs, sinceSeconds: Math.round((now - s.since) / 1000), downs: s.downs,
  }
}
