// Next-hop health checks: rise/fall damping (state.ts, pure), node liveness from BFD state
// changes (liveness.ts, pure), tcp/http/exec checkers (checks.ts) and the monitor that runs them
// on an injected Clock and keeps the BFD sessions of `bfd` checks (monitor.ts).
export { HealthMonitor, NEXT_HOP_BFD_KEY, type HealthMonitorDeps } from './monitor.ts'
export { observeLiveness, livenessError, type LivenessChange } from './liveness.ts'
export { runCheck, tcpCheck, httpCheck, execCheck, type Checker, type CheckResult } from './checks.ts'
export { observe, INITIAL, type HealthState } from './state.ts'
