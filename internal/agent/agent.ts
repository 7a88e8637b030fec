// The agent's reconcile loop: desired VIPs -> observe kernel -> plan -> apply, triggered by
// setDesired, by kernel notifications about Porter's objects (drift), and periodically.
// One reconcile runs at a time; triggers arriving meanwhile are merged into the next one.
// A failed reconcile is retried with exponential back-off; nothing is rolled back (the last
// good state stays in the kernel). stop() leaves the kernel state in place; cleanup() removes it.
import { backoffInit, backoffOnFailure, backoffOnSuccess, backoffPolicy, realClock, type Clock, type Logger } from '../base/index.ts'
import { PorterError, isPorterError } from '../errors/index.ts'
import type { Config } from '../config/index.ts'
import { NetlinkError, type NetlinkEvent } from '../netlink/index.ts'
import { FirewallError, parseChainRef, type ChainRef, type NftChange } from '../nft/index.ts'
import { normalizeVips, type Vip, type VipInput } from './vips.ts'
import { planChanges, planWrites, isPorterAddress, PORTER_PROTO, type Backend, type VipMode } from './plan.ts'
import { createKernel, type Kernel, type KernelOptions, type CleanupReport } from './kernel.ts'
import type { FirewallSetting, ResolvedFirewall } from './firewall.ts'

/** pino-compatible logger */
export type AgentLogger = Logger

export interface AgentOptions {
  /** the validated config; only `agent` is read */
  config: Pick<Config, 'agent'>
  log: AgentLogger
  /** timers and durations (now), timestamps in the status (wallNow); default the process clock */
  clock?: Clock
  /** VIPs as addresses on the interface or as `local` routes with protocol 0x50 (default: config agent.mode) */
  mode?: VipMode
  /** options of the real kernel adapter (exec seam, nft program, iptables flavour) */
  kernelOptions?: KernelOptions
  /** replace the kernel adapter (tests) */
  kernel?: Kernel
  /** wait this long after a notification before reconciling, to merge bursts (default 20 ms) */
  debounceMs?: number
  /** back-off after a failed reconcile: first delay and cap (default 500 ms, 30 s); a success resets it */
  retry?: { initialMs?: number; maxMs?: number }
  /** subscribe to kernel notifications (default true) */
  watch?: boolean
}

export type Trigger = 'start' | 'desired' | 'netlink' | 'nftables' | 'resync' | 'periodic' | 'retry' | 'manual'

export interface ReconcileResult {
  ok: boolean
  /** when it finished, ms since the epoch */
  at: number
  durationMs: number
  triggers: Trigger[]
  /** kernel writes made (netlink requests + firewall transactions) */
  changes: number
  /** the changes repaired drift (the kernel had diverged from an applied, unchanged desired state) */
  drift: boolean
  /** time spent reading the kernel state, planning and writing (ms) */
  phases?: { observeMs: number; planMs: number; applyMs: number }
  error?: { code: string; message: string; errno?: number }
}

export interface AgentStatus {
  running: boolean
  interface: string
  mode: VipMode
  /** resolved firewall backend (undefined before the first start/reconcile) */
  backend: Backend | undefined
  iptablesFlavour?: 'nft' | 'legacy'
  /** desired VIPs; undefined until setDesired is first called (the agent changes nothing before) */
  desired: string[] | undefined
  /** VIPs the last successful reconcile programmed */
  programmed: string[]
  /** desired VIPs already local through addresses/routes Porter does not own */
  foreign: string[]
  lastReconcile: ReconcileResult | undefined
  /** ms since the epoch of the last successful reconcile */
  lastSuccessAt: number | undefined
  counters: { reconciles: number; changes: number; failures: number; driftRepairs: number }
}

export interface Agent {
  /** Replace the desired VIP set (full set, never a delta). Throws on invalid input; nothing changes then. */
  setDesired(vips: readonly VipInput[]): void
  /** Resolve the firewall backend, subscribe to notifications, reconcile once desired VIPs are known. */
  start(): Promise<void>
  /** Stop reconciling; Porter's kernel state stays in place. */
  stop(): Promise<void>
  /** Stop, then remove every address, route, nft table/rule and iptables chain/jump Porter created. */
  cleanup(): Promise<CleanupReport>
  /**
   * Reconcile now (after any reconcile in progress) and return its result. `full`: read every
   * kernel object like the periodic check does, even what notifications vouch for.
   */
  reconcileNow(opts?: { full?: boolean }): Promise<ReconcileResult>
  status(): AgentStatus
}

/** a duration on the monotonic clock, rounded to 0.1 ms */
const ms = (d: number): number => Math.round(d * 10) / 10

const DRIFT_TRIGGERS: ReadonlySet<Trigger> = new Set(['netlink', 'nftables', 'resync', 'periodic', 'manual', 'retry'])

function errorInfo(e: unknown): { code: string; message: string; errno?: number } {
  if (isPorterError(e)) {
    const errno = (e as { errno?: unknown }).errno
    return typeof errno === 'number' && errno !== 0 ? { code: e.code, message: e.message, errno } : { code: e.code, message: e.message }
  }
  return { code: 'PORTER_ERR_INTERNAL', message: e instanceof Error ? e.message : String(e) }
}

export function createAgent(opts: AgentOptions): Agent {
  const cfg = opts.config.agent
  const log = opts.log
  const clock = opts.clock ?? realClock
  const mode: VipMode = opts.mode ?? cfg.mode
  const debounceMs = opts.debounceMs ?? 20
  const retryPolicy = backoffPolicy({ initialMs: opts.retry?.initialMs ?? 500, maxMs: opts.retry?.maxMs ?? 30_000 })
  const ifname = cfg.interface
  let nftAccept: ChainRef | undefined
  if (cfg.nftAcceptChain !== undefined) {
    const r = parseChainRef(cfg.nftAcceptChain)
    if (typeof r === 'string') throw new PorterError('PORTER_ERR_CONFIG_INVALID', `Cannot use agent.nftAcceptChain: ${r}`)
    nftAccept = r
  }

  let kernel: Kernel | undefined = opts.kernel
  const k = (): Kernel => (kernel ??= createKernel(opts.kernelOptions))

  let desired: Vip[] | undefined
  let desiredSet = new Set<string>()
  let desiredVersion = 0
  let appliedVersion = -1
  let fw: ResolvedFirewall | undefined
  let ifindex: number | undefined
  let started = false
  let watching = false
  // address mode: true while route notifications prove Porter has no routes (skips a route dump)
  let noPorterRoutes = false
  // bumped by every notification about a Porter route and by lost notifications
  let routeEpoch = 0

  let inFlight: Promise<ReconcileResult> | undefined
  const pending = new Set<Trigger>()
  let debounceTimer: unknown
  let retryTimer: unknown
  let periodicTimer: unknown
  let retry = backoffInit(retryPolicy)

  const st = {
    programmed: [] as string[],
    foreign: [] as string[],
    last: undefined as ReconcileResult | undefined,
    lastSuccessAt: undefined as number | undefined,
    counters: { reconciles: 0, changes: 0, failures: 0, driftRepairs: 0 },
  }

  async function ensureFirewall(): Promise<ResolvedFirewall> {
    if (!fw) {
      fw = await k().resolveFirewall(cfg.firewall as FirewallSetting)
      log.info({ backend: fw.backend, flavour: fw.flavour, reason: fw.reason }, `Firewall backend: ${fw.backend}`)
    }
    return fw
  }

  async function reconcile(triggers: Trigger[]): Promise<ReconcileResult> {
    const t0 = clock.now()
    const version = desiredVersion
    const vips = desired ?? []
    st.counters.reconciles++
    try {
      const firewall = await ensureFirewall()
      ifindex = await k().ifindex(ifname)
      if (ifindex === undefined) throw new NetlinkError(`program VIPs on interface "${ifname}"`, 19, `the interface does not exist (check agent.interface)`)
      const t1 = clock.now()
      // the periodic full check (and a start or resync) reads everything, whatever the notifications said
      const full = triggers.includes('periodic') || triggers.includes('start') || triggers.includes('resync')
      const routes = mode === 'local-route' ? 'local' : noPorterRoutes && !full ? 'none' : 'porter'
      const epoch = routeEpoch
      const observed = await k().observe({ firewall, routes, ...(nftAccept ? { nftAccept } : {}) })
      const t2 = clock.now()
      const plan = planChanges({ vips, ifname, ifindex, mode, firewall: firewall.backend, ...(nftAccept ? { nftAccept } : {}) }, observed)
      if (plan.problems.length) throw new FirewallError(firewall.backend, plan.problems.join('; '))
      const changes = planWrites(plan)
      const t3 = clock.now()
      if (changes) await k().apply(plan, firewall)
      const t4 = clock.now()
      if (mode === 'address' && watching && routes === 'porter' && epoch === routeEpoch) noPorterRoutes = observed.routes.length === 0
      const drift = changes > 0 && version === appliedVersion && st.last?.ok === true && triggers.some((t) => DRIFT_TRIGGERS.has(t)) && !triggers.includes('desired')
      st.counters.changes += changes
      if (drift) st.counters.driftRepairs++
      appliedVersion = version
      st.programmed = vips.map((v) => v.address)
      st.foreign = plan.foreign
      const t5 = clock.now()
      const at = clock.wallNow()
      st.lastSuccessAt = at
      const res: ReconcileResult = { ok: true, at, durationMs: ms(t5 - t0), triggers, changes, drift, phases: { observeMs: ms(t2 - t1), planMs: ms(t3 - t2), applyMs: ms(t4 - t3) } }
      if (changes) {
        const summary = {
          triggers, changes, durationMs: res.durationMs, vips: vips.length,
          netlink: plan.net.length, nftables: plan.nft ? plan.nft.ops.length : 0, iptables: Object.keys(plan.iptables ?? {}).length,
        }
        if (drift) log.warn(summary, 'Repaired drift: Porter\'s kernel state had been changed by someone else')
        else log.info(summary, 'Programmed VIPs')
      } else log.debug({ triggers, durationMs: res.durationMs, vips: vips.length }, 'Kernel state matches the desired VIPs')
      if (plan.foreign.length) log.debug({ foreign: plan.foreign }, 'VIPs already local through objects Porter does not own')
      return res
    } catch (e) {
      st.counters.failures++
      return { ok: false, at: clock.wallNow(), durationMs: ms(clock.now() - t0), triggers, changes: 0, drift: false, error: errorInfo(e) }
    }
  }

  function run(): Promise<ReconcileResult> {
    if (inFlight) return inFlight
    clock.clearTimeout(debounceTimer); debounceTimer = undefined
    clock.clearTimeout(retryTimer); retryTimer = undefined
    const triggers = [...pending]
    pending.clear()
    const p = reconcile(triggers).then((res) => {
      st.last = res
      inFlight = undefined
      if (res.ok) retry = backoffOnSuccess(retryPolicy, retry, clock.now())
      else {
        const b = backoffOnFailure(retryPolicy, retry, clock.now())
        retry = b.state
        log.error({ err: res.error, triggers: res.triggers, failures: retry.failures, retryInMs: started ? b.delayMs : undefined }, `Reconcile failed: ${res.error?.message}`)
        if (started) retryTimer = clock.setTimeout(() => { retryTimer = undefined; pending.add('retry'); run() }, b.delayMs)
      }
      if (started && pending.size && !retryTimer) schedule(debounceMs)
      return res
    })
    inFlight = p
    return p
  }

  function schedule(delay: number): void {
    if (!started || desired === undefined || inFlight || debounceTimer !== undefined) return
    // during back-off only a desired-state change jumps the queue
    if (retryTimer !== undefined && !pending.has('desired')) return
    debounceTimer = clock.setTimeout(() => { debounceTimer = undefined; run() }, delay)
  }

  function trigger(t: Trigger, delay = debounceMs): void {
    if (desired === undefined) return
    pending.add(t)
    schedule(delay)
  }

  function armPeriodic(): void {
    clock.clearTimeout(periodicTimer)
    periodicTimer = clock.setTimeout(() => {
      if (!started) return
      trigger('periodic', 0)
      armPeriodic()
    }, cfg.reconcileInterval)
  }

  function onNetlink(ev: NetlinkEvent): void {
    switch (ev.kind) {
      case 'overflow': noPorterRoutes = false; routeEpoch++; log.warn({ errno: ev.error.errno }, 'Netlink notifications were lost: re-reading the kernel state'); trigger('resync'); return
      case 'address': if (isPorterAddress(ev.entry) || desiredSet.has(ev.entry.address)) trigger('netlink'); return
      case 'route': if (ev.entry.protocol === PORTER_PROTO) { noPorterRoutes = false; routeEpoch++ }
        if (ev.entry.protocol === PORTER_PROTO || (ev.entry.table === 255 && desiredSet.has(ev.entry.dst))) trigger('netlink'); return
      case 'link': if (ev.entry.name === ifname || ev.entry.ifindex === ifindex) trigger('netlink'); return
    }
  }

  function onNft(c: NftChange | 'overflow'): void {
    if (c === 'overflow') { trigger('resync'); return }
    if (fw?.backend === 'nftables') {
      if ((c.family === 'inet' && c.table === 'porter') || (nftAccept && c.family === nftAccept.family && c.table === nftAccept.table)) trigger('nftables')
    } else if (fw?.backend === 'iptables' && fw.flavour === 'nft') {
      if (c.table === 'filter' && (c.family === 'ip' || c.family === 'ip6')) trigger('nftables')
    }
  }

  async function stop(): Promise<void> {
    const wasStarted = started
    started = false
    clock.clearTimeout(debounceTimer); debounceTimer = undefined
    clock.clearTimeout(retryTimer); retryTimer = undefined
    clock.clearTimeout(periodicTimer); periodicTimer = undefined
    pending.clear()
    if (inFlight) await inFlight
    noPorterRoutes = false
    kernel?.close()
    if (!opts.kernel) kernel = undefined
    watching = false
    if (wasStarted) log.info({ programmed: st.programmed.length }, 'Agent stopped; VIPs stay programmed')
  }

  return {
    setDesired(vips) {
      const next = normalizeVips(vips)
      desired = next
      desiredSet = new Set(next.map((v) => v.address))
      desiredVersion++
      trigger('desired', 0)
    },

    async start() {
      if (started) return
      await ensureFirewall()
      started = true
      if (opts.watch !== false && !watching) {
        k().watch({ netlink: onNetlink, nft: onNft })
        watching = true
      }
      armPeriodic()
      log.info({ interface: ifname, mode, backend: fw?.backend, reconcileIntervalMs: cfg.reconcileInterval, desired: desired?.length }, 'Agent started')
      if (desired !== undefined) {
        pending.add('start')
        await run()
      }
    },

    stop,

    async cleanup() {
      await stop()
      try {
        const report = await k().cleanup(nftAccept)
        st.programmed = []
        st.foreign = []
        appliedVersion = -1
        log.info({ ...report }, 'Removed everything Porter created')
        return report
      } finally {
        kernel?.close()
        if (!opts.kernel) kernel = undefined
      }
    },

    async reconcileNow(o = {}) {
      if (desired === undefined) throw new PorterError('PORTER_ERR_USAGE', 'Cannot reconcile before the desired VIPs are known: call setDesired first')
      if (inFlight) await inFlight
      pending.add(o.full ? 'periodic' : 'manual')
      return run()
    },

    status() {
      const s: AgentStatus = {
        running: started,
        interface: ifname,
        mode,
        backend: fw?.backend,
        desired: desired?.map((v) => v.address),
        programmed: [...st.programmed],
        foreign: [...st.foreign],
        lastReconcile: st.last,
        lastSuccessAt: st.lastSuccessAt,
        counters: { ...st.counters },
      }
      if (fw?.flavour) s.iptablesFlavour = fw.flavour
      return s
    },
  }
}
