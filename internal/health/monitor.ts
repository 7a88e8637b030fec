// Runs each next hop's health check on its interval and reports state changes. A `bfd` check
// is not polled: one BFD session per next-hop address (shared by every VIP using it, through
// internal/bfd BfdPeers) and its state changes drive the same HealthState (liveness.ts), so both
// kinds report through `healthy`, `describe` and `onChange`.
// Time, the checker and the BFD sessions are injected so tests can drive it step by step.
import type { Logger } from 'pino'
import type { Config, HealthCheckConfig } from '../config/index.ts'
import type { Clock } from '../base/index.ts'
import type { BfdPeerStatus } from '../admin/status.ts'
import { BfdPeers, diagName, sameSession, type BfdPort, type BfdTimersMs, type StateChange } from '../bfd/index.ts'
import { nextHopSessions } from '../config/liveness.ts'
import { INITIAL, observe, type HealthState } from './state.ts'
import { observeLiveness } from './liveness.ts'
import type { Checker } from './checks.ts'
import { isDeepStrictEqual } from 'node:util'

type PolledCheck = Exclude<HealthCheckConfig, { type: 'bfd' }>

interface Target {
  key: string
  vip: string
  address: string
  check: HealthCheckConfig
  state: HealthState
  timer?: unknown
  running: boolean
  gen: number
}

export interface HealthMonitorDeps {
  clock: Clock
  checker: Checker
  log: Logger
  /** called after a next hop changed state (once per change; a BFD session's change once for all its VIPs) */
  onChange: () => void
  /** the BFD sessions for `bfd` checks (the controller's BfdService); absent: such next hops stay down */
  bfd?: BfdPort
}

/** the BfdService key prefix of next-hop sessions (a BGP peer's session is keyed by its address) */
export const NEXT_HOP_BFD_KEY = 'next-hop '

const keyOf = (vip: string, nh: string) => `${vip}|${nh}`
const sameCheck = (a: HealthCheckConfig, b: HealthCheckConfig): boolean => isDeepStrictEqual(a, b)

export class HealthMonitor {
  private targets = new Map<string, Target>()
  private stopped = false
  /** bfd checks: one session and one state per next-hop address */
  private readonly sessions: BfdPeers
  private liveness = new Map<string, HealthState>()
  /** the sessions the vips section asks for / the Kubernetes nodes' (setNodes) */
  private configBfd = new Map<string, BfdTimersMs>()
  private nodeBfd = new Map<string, BfdTimersMs>()
  /** what the sessions were last synced to */
  private synced = new Map<string, BfdTimersMs>()

  constructor(private readonly deps: HealthMonitorDeps) {
    this.sessions = new BfdPeers({
      bfd: deps.bfd, log: deps.log, clock: deps.clock, keyPrefix: NEXT_HOP_BFD_KEY,
      unavailable: 'BFD is not available in this process',
      onState: (address, c) => this.onLiveness(address, c),
    })
  }

  /**
   * (Re)configure from the vips section: unchanged checks keep their state; new ones start down.
   * `bfd`: the sessions of the `bfd` checks, keys read (the caller reads them before it changes anything)
   */
  configure(cfg: Config, vipKey: (v: Config['vips'][number], i: number) => string, bfd: Map<string, BfdTimersMs> = nextHopSessions(cfg)): void {
    const wanted = new Map<string, { vip: string; address: string; check: HealthCheckConfig }>()
    cfg.vips.forEach((v, i) => {
      for (const nh of v.nextHops) {
        const check = nh.check ?? v.check
        if (check) wanted.set(keyOf(vipKey(v, i), nh.address), { vip: vipKey(v, i), address: nh.address, check })
      }
    })
    for (const [k, t] of this.targets) {
      const w = wanted.get(k)
      if (!w || !sameCheck(w.check, t.check)) {
        this.cancel(t)
        this.targets.delete(k)
      }
    }
    for (const [k, w] of wanted) {
      if (this.targets.has(k)) continue
      const t: Target = { key: k, ...w, state: INITIAL, running: false, gen: 0 }
      this.targets.set(k, t)
      if (!this.stopped && t.check.type !== 'bfd') this.schedule(t, 0)
    }
    this.configBfd = bfd
    this.syncSessions()
  }

  /**
   * Node liveness for Kubernetes next hops (kubernetes.nodeLiveness): a session with each of
   * `addresses` (the config's timers win for an address both use); none when `timers` is absent.
   */
  setNodes(addresses: Iterable<string>, timers: BfdTimersMs | undefined): void {
    this.nodeBfd = new Map(timers ? [...addresses].map((a) => [a, timers]) : [])
    this.syncSessions()
  }

  /** Whether the BFD session with `address` is Up (false without one). */
  live(address: string): boolean {
    return this.liveness.get(address)?.up ?? false
  }

  /** The BFD session with a Kubernetes node (setNodes), for status. */
  nodeStatus(): (BfdPeerStatus & { address: string })[] {
    return [...this.nodeBfd.keys()].map((address) => ({ address, ...this.sessions.status(address)! }))
  }

  private syncSessions(): void {
    const all = new Map([...this.nodeBfd, ...this.configBfd])
    let changed = false
    for (const [a, s] of this.liveness) {
      // gone, or another port or key (BfdPeers starts a new session): down until the session says Up
      const was = this.synced.get(a)
      if (!all.has(a) || !was || !sameSession(all.get(a)!, was)) {
        this.liveness.delete(a)
        changed ||= s.up && all.has(a)
      }
    }
    this.synced = all
    if (this.stopped) return
    this.sessions.sync(all)
    if (changed) this.deps.onChange()
  }

  /** Healthy = up, or no check configured for it. */
  healthy(vip: string, nextHop: string): boolean {
    const t = this.targets.get(keyOf(vip, nextHop))
    return t ? this.stateOf(t).up : true
  }

  /** `bfd`: the session's status, for next hops with a bfd check */
  describe(vip: string, nextHop: string): { health: string; lastError?: string; bfd?: BfdPeerStatus } {
    const t = this.targets.get(keyOf(vip, nextHop))
    if (!t) return { health: 'no check' }
    const bfd = t.check.type === 'bfd' ? this.sessions.status(t.address) : undefined
    const s = this.stateOf(t)
    const lastError = s.lastError ?? bfd?.error
    return { health: s.checks === 0 ? 'pending' : s.up ? 'up' : 'down', ...(lastError !== undefined ? { lastError } : {}), ...(bfd ? { bfd } : {}) }
  }

  /** Stop checking; the BFD sessions end with AdminDown (awaited by the returned promise). */
  stop(): Promise<void> {
    this.stopped = true
    for (const t of this.targets.values()) this.cancel(t)
    return this.sessions.stop()
  }

  private stateOf(t: Target): HealthState {
    return t.check.type === 'bfd' ? this.liveness.get(t.address) ?? INITIAL : t.state
  }

  private onLiveness(address: string, c: StateChange): void {
    const { state, changed } = observeLiveness(this.liveness.get(address) ?? INITIAL, { to: c.to, remoteState: c.remoteState, diag: diagName(c.diag) })
    this.liveness.set(address, state)
    if (!changed || this.stopped) return
    const vips = [...this.targets.values()].filter((t) => t.address === address && t.check.type === 'bfd').map((t) => t.vip)
    this.deps.log.info({ nextHop: address, vips, node: this.nodeBfd.has(address), health: state.up ? 'up' : 'down', error: state.lastError }, 'next hop liveness changed')
    this.deps.onChange()
  }

  private cancel(t: Target): void {
    t.gen++
    if (t.timer !== undefined) this.deps.clock.clearTimeout(t.timer)
    t.timer = undefined
  }

  private schedule(t: Target, delay: number): void {
    const gen = t.gen
    t.timer = this.deps.clock.setTimeout(() => {
      t.timer = undefined
      if (gen === t.gen) void this.run(t, gen)
    }, delay)
  }

  private async run(t: Target, gen: number): Promise<void> {
    const check = t.check as PolledCheck
    const r = await this.deps.checker(t.address, check).catch((e: Error) => ({ ok: false, error: e.message }))
    if (gen !== t.gen || this.stopped) return
    const { state, changed } = observe(t.state, r.ok, check.rise, check.fall, r.error)
    t.state = state
    if (changed) {
      this.deps.log.info({ vip: t.vip, nextHop: t.address, health: state.up ? 'up' : 'down', error: r.error }, 'next hop health changed')
      this.deps.onChange()
    }
    this.schedule(t, check.interval)
  }
}
