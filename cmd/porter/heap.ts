// V8 heap policy of the long-running modes (`porter controller`, `porter agent`), set before
// the config is read.
//
// The young generation: V8 grows each semi-space from 1 MiB up to 16 MiB when a burst of
// allocation (a 100k-VIP config, a full table push) runs, and keeps it at that size for the life
// of the process: about 45 MiB of RSS that an idle daemon never gives back (the memory reducer
// did not shrink it within minutes here). Growth factor 1 keeps it at 1 MiB; a burst then costs
// more scavenges, which test/bench/binary.ts measures (push and reload times, RSS and peak).
// `--max-semi-space-size` would be the direct flag, but it is read only when the heap is made:
// set at run time it does nothing, while the growth factor is read at each resize. An operator
// who sets a semi-space flag in NODE_OPTIONS keeps it: then this does nothing.
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

export function daemonHeapPolicy(env: Readonly<Record<string, string | undefined>> = process.env): void {
  if (/--(max-)?semi-space/.test(env.NODE_OPTIONS ?? '')) return
  setFlagsFromString('--semi-space-growth-factor=1')
}

/**
 * The tiers of V8 a daemon runs its JavaScript in. 'baseline': the interpreter and Sparkplug, V8's
 * non-optimizing compiler, without TurboFan (`--max-opt=1`). 'full': V8's default, TurboFan too.
 *
 * `porter controller` without Kubernetes runs at 'baseline'. Its work is reading the config (the
 * address lists by regular expressions and V8's built-ins, internal/config/load.ts), the
 * Adj-RIB-Out diff and the BGP encoding, whose pace the router sets. TurboFan's first optimized
 * compile maps ~3.5 MiB of the executable's pages (the compiler's own code) and its compile zones
 * into the process, whatever the size of the table: that was most of what 1k or 10k VIPs cost
 * over an idle controller. Without it the push, the withdrawal and a one-VIP reload keep their
 * targets (test/bench/binary.ts; test/bench/README.md, "A controller without the optimizing
 * compiler").
 *
 * 'full' for `porter agent` (encoding every VIP's netlink and nft messages is its own CPU: 1.47 x
 * `ip -batch` at 'baseline' against 1.10 x), for anything with Kubernetes (the controller's
 * reconciles of 5,000 Services fell 37 s behind the API server at 'baseline'), and for a controller
 * whose config has FULL_TIER_VIPS addresses or more: there TurboFan's fixed cost is under 90 bytes
 * per route and the work grows with the table (1M IPv6 VIPs took 20.6 s to reach the peer at
 * 'baseline', 11.9 s at 'full').
 */
export type DaemonTier = 'full' | 'baseline'

/** VIP addresses from which a controller without Kubernetes runs at 'full' (see DaemonTier) */
export const FULL_TIER_VIPS = 50_000

export function daemonTier(mode: 'controller' | 'agent', kubernetes: boolean, vips = 0): DaemonTier {
  return mode === 'controller' && !kubernetes && vips < FULL_TIER_VIPS ? 'baseline' : 'full'
}

/**
 * After a reload: to 'full' when the new config asks for it, never back (TurboFan's code is
 * mapped and what it optimized stays). Returns the tier set, or undefined when nothing changed.
 */
export function raiseDaemonTier(tier: DaemonTier): DaemonTier | undefined {
  if (tier !== 'full' || currentDaemonTier() !== 'baseline') return undefined
  setDaemonTier('full')
  return 'full'
}

/**
 * Set the tier (from now on: code already optimized stays so) and record it where the daemon
 * bundle's loader reads which code cache to take (build/build.mjs: a cache per tier, as V8
 * takes one only under the flags it was made with) and the "started" log line reports it.
 */
export function setDaemonTier(tier: DaemonTier): void {
  if (tier === 'baseline') setFlagsFromString('--max-opt=1')
  else {
    // V8's defaults again: `--max-opt=1` also set `--no-turbofan` (an implication), and a code
    // cache is taken only under the same flags (the controller reads its config at 'baseline'
    // before it knows it runs with Kubernetes)
    setFlagsFromString('--max-opt=999')
    setFlagsFromString('--turbofan')
  }
  ;(globalThis as { [k: symbol]: unknown })[Symbol.for('porter.daemonTier')] = tier
}

/** The tier setDaemonTier set last, if any. */
export function currentDaemonTier(): DaemonTier | undefined {
  return (globalThis as { [k: symbol]: unknown })[Symbol.for('porter.daemonTier')] as DaemonTier | undefined
}

/**
 * The V8 flags in force when a daemon of `tier` compiles its bundles (dist/porter-daemon.cjs, and
 * dist/porter-kube.cjs later), set the way the daemon sets them: daemonHeapPolicy, setDaemonTier,
 * then compactingGc (which leaves no flag behind). V8 takes a code cache only if it was made
 * under the same flags, so build/build.mjs runs exactly this before it makes those caches.
 */
export function daemonFlags(tier: DaemonTier = 'full'): void {
  daemonHeapPolicy({})
  setDaemonTier(tier)
  compactingGc()
}

/** What the trimmer reads every interval. */
export interface TrimSample {
  /** resident set size, bytes */
  rss: number
  /** V8 heap in use, bytes */
  heapUsed: number
  /** CPU (user + system) the process used since the previous sample, ms */
  cpuMs: number
}

export interface TrimPolicy {
  everyMs: number
  /** RSS growth above its low that makes a settled process run a full collection (and trim) */
  gcGrowthBytes: number
  /** RSS growth above its low that makes a settled process trim malloc's arenas */
  trimGrowthBytes: number
  /**
   * CPU of busy samples since the last full collection that makes a settled process run one,
   * whatever its RSS: a long burst (a 1M-route push) may be collected in a pause in its middle,
   * after which its own garbage no longer raises the RSS (V8 reuses the space) but stays
   */
  gcBusyMs: number
  /**
   * Settled samples in a row before the trimmer acts: a collection in a short pause of a burst
   * (between the writes of a 100k-route push, between two reloads) delays what comes next
   */
  quietSamples: number
}

export interface TrimState {
  /** lowest RSS since the last full collection */
  gcLow: number
  /** lowest RSS since the last malloc trim */
  trimLow: number
  /** V8 heap in use at the previous sample */
  lastUsed: number
  /** CPU ms of the samples that were not settled, since the last full collection */
  busyMs: number
  /** settled samples in a row, up to this one */
  quiet: number
}

export const DEFAULT_TRIM_POLICY: TrimPolicy = { everyMs: 500, gcGrowthBytes: 1024 * 1024, trimGrowthBytes: 1024 * 1024, gcBusyMs: 2000, quietSamples: 4 }

/**
 * One step of the trimmer (pure). A sample is settled when the V8 heap in use stopped growing (at
 * most 1 MiB more than at the previous sample) and the process used under a tenth of the interval
 * in CPU; a burst is over after `quietSamples` settled samples in a row. Then, with the RSS
 * `gcGrowthBytes` above its low: a full collection and a malloc trim; with it `trimGrowthBytes`
 * above the low of the last trim: a malloc trim only. Each low restarts from the RSS at its action
 * and follows the RSS down after it.
 */
export function trimStep(policy: TrimPolicy, state: TrimState, s: TrimSample): { state: TrimState; gc: boolean; trim: boolean } {
  const settled = s.heapUsed <= state.lastUsed + 1024 * 1024 && s.cpuMs < policy.everyMs / 10
  const quiet = settled ? state.quiet + 1 : 0
  const over = quiet >= policy.quietSamples
  const gcLow = Math.min(state.gcLow, s.rss)
  const trimLow = Math.min(state.trimLow, s.rss)
  const busyMs = settled ? state.busyMs : state.busyMs + s.cpuMs
  const gc = over && (s.rss > gcLow + policy.gcGrowthBytes || busyMs >= policy.gcBusyMs)
  const trim = gc || (over && s.rss > trimLow + policy.trimGrowthBytes)
  return { state: { gcLow: gc ? s.rss : gcLow, trimLow: trim ? s.rss : trimLow, lastUsed: s.heapUsed, busyMs: gc ? 0 : busyMs, quiet }, gc, trim }
}

/**
 * A full collection that also compacts. A plain one frees dead objects but moves none: after a
 * 1M-route push the old space stays spread over half-empty pages, which V8 keeps. Compacting
 * moves the live objects together and releases the pages they leave. memory-v6.ts, 1M IPv6
 * routes: RSS 358-361 -> 239-242 MiB. The pause is longer (--trace-gc: 52 ms at 100k routes,
 * 674 ms at 1M, once, after the burst), far inside BGP's hold time. The flag is set only around
 * this one call: V8's own collections choose what to compact as before.
 */
export function compactingGc(): () => void {
  setFlagsFromString('--expose-gc')
  const fullGc = runInNewContext('gc') as () => void
  // off again once the function is ours: a bundle compiled later (the Kubernetes code) runs under
  // the flags its code cache was made with (daemonFlags), and no new context gets a `gc` global
  setFlagsFromString('--no-expose-gc')
  return () => {
    setFlagsFromString('--compact-on-every-full-gc')
    try { fullGc() } finally { setFlagsFromString('--no-compact-on-every-full-gc') }
  }
}

export interface HeapTrimmerOptions extends Partial<TrimPolicy> {
  /** glibc's malloc_trim (internal/sys mallocTrim); without it only full collections are run */
  mallocTrim?: () => ((pad: number) => number) | undefined
}

/**
 * Give memory back after a burst. A burst (a 100k-VIP config read, a full table push, a reload)
 * leaves RSS in pages V8 no longer needs and keeps until its memory reducer runs, seconds to
 * minutes later in an idle daemon, and in free malloc memory that glibc keeps in its arenas (the
 * optimizing compiler's zones, freed on V8's worker threads; parser and buffer memory on the main
 * thread) until something trims them. Every `everyMs` this looks at the RSS (trimStep): once the
 * burst is over (two seconds without work), 1 MiB of growth gets one full, compacting collection
 * (compactingGc), after which V8 releases the emptied pages, and `malloc_trim(0)` (well under a
 * millisecond at 1k-10k VIPs), which returns the arenas' free pages. The growth was 16 MiB, then
 * 4 (three one-VIP reloads of a 100k-VIP config, each under 16 MiB, left the settled controller
 * at 80.6 MiB RSS instead of 71.0), and with 4 a controller given 1k VIPs kept up to 1.9 MiB of
 * garbage in some starts; 1 MiB after a single quiet half second collected in the pauses of a
 * 100k-route push and between two reloads, and slowed them (test/bench/README.md). Never during a
 * burst: a full collection in the middle of a 100k-route push slowed it by a third. A daemon
 * whose memory does not grow is never touched. The timer does not keep the process alive.
 * Returns a stop function.
 */
export function startHeapTrimmer(opts: HeapTrimmerOptions = {}): () => void {
  const policy: TrimPolicy = { ...DEFAULT_TRIM_POLICY, ...opts }
  const gc = compactingGc()
  let state: TrimState = { gcLow: process.memoryUsage.rss(), trimLow: process.memoryUsage.rss(), lastUsed: Infinity, busyMs: 0, quiet: 0 }
  let lastCpu = process.cpuUsage()
  const timer = setInterval(() => {
    const cpu = process.cpuUsage(lastCpu)
    lastCpu = process.cpuUsage()
    const step = trimStep(policy, state, { rss: process.memoryUsage.rss(), heapUsed: getHeapStatistics().used_heap_size, cpuMs: (cpu.user + cpu.system) / 1000 })
    state = step.state
    if (step.gc) {
      gc()
      state = { ...state, lastUsed: getHeapStatistics().used_heap_size }
    }
    if (step.trim) opts.mallocTrim?.()?.(0)
  }, policy.everyMs)
  timer.unref()
  return () => clearInterval(timer)
}
