// Runs each next hop's health check on its interval and reports state changes.
// Time and the checker are injected so tests can drive it step by step.
import type { Logger } from 'pino'
import type { Config, HealthCheckConfig } from '../config/index.ts'
import type { Clock } from '../base/index.ts'
import { INITIAL, observe, type HealthState } from './state.ts'
import type { Checker } from './checks.ts'
import { isDeepStrictEqual } from 'node:util'

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
  /** called after a next hop changed state (once per change) */
  onChange: () => void
}

const keyOf = (vip: string, nh: string) => `${vip}|${nh}`
const sameCheck = (a: HealthCheckConfig, b: HealthCheckConfig): boolean => isDeepStrictEqual(a, b)

export class HealthMonitor {
  private targets = new Map<string, Target>()
  private stopped = false
  constructor(private readonly deps: HealthMonitorDeps) {}

  /** (Re)configure from the vips section: unchanged checks keep their state; new ones start down. */
  configure(cfg: Config, vipKey: (v: Config['vips'][number], i: number) => string): void {
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
      if (!this.stopped) this.schedule(t, 0)
    }
  }

  /** Healthy = up, or no check configured for it. */
  healthy(vip: string, nextHop: string): boolean {
    const t = this.targets.get(keyOf(vip, nextHop))
    return t ? t.state.up : true
  }

  describe(vip: string, nextHop: string): { health: string; lastError?: string } {
    const t = this.targets.get(keyOf(vip, nextHop))
    if (!t) return { health: 'no check' }
    if (t.state.checks === 0) return { health: 'pending' }
    return { health: t.state.up ? 'up' : 'down', lastError: t.state.lastError }
  }

  stop(): void {
    this.stopped = true
    for (const t of this.targets.values()) this.cancel(t)
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
    const r = await this.deps.checker(t.address, t.check).catch((e: Error) => ({ ok: false, error: e.message }))
    if (gen !== t.gen || this.stopped) return
    const { state, changed } = observe(t.state, r.ok, t.check.rise, t.check.fall, r.error)
    t.state = state
    if (changed) {
      this.deps.log.info({ vip: t.vip, nextHop: t.address, health: state.up ? 'up' : 'down', error: r.error }, 'next hop health changed')
      this.deps.onChange()
    }
    this.schedule(t, t.check.interval)
  }
}
