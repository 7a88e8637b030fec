// Next-hop health checks: rise/fall damping (state.ts, pure), tcp/http/exec checkers
// (checks.ts) and the monitor that runs them on an injected Clock (monitor.ts).
export { HealthMonitor, type HealthMonitorDeps } from './monitor.ts'
export { runCheck, tcpCheck, httpCheck, execCheck, type Checker, type CheckResult } from './checks.ts'
export { observe, INITIAL, type HealthState } from './state.ts'
