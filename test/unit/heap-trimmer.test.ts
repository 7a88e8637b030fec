// cmd/porter/heap.ts: the heap trimmer's decisions (trimStep) as a story: one state, samples in, actions out.
import t, { type Test } from 'tap'
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compactingGc, daemonTier, FULL_TIER_VIPS, trimStep, type TrimPolicy, type TrimSample, type TrimState } from '../../cmd/porter/heap.ts'
import { ROOT } from '../lib/cli.ts'

const MiB = 1024 * 1024
const policy: TrimPolicy = { everyMs: 500, gcGrowthBytes: 16 * MiB, trimGrowthBytes: 1 * MiB, gcBusyMs: 2000, quietSamples: 1 }

type Step = [what: string, sample: TrimSample, want: { gc: boolean; trim: boolean }]

/** the samples in order through trimStep, each step's actions asserted; the state at the end */
function play(t: Test, p: TrimPolicy, state: TrimState, steps: Step[]): TrimState {
  for (const [what, sample, want] of steps) {
    const r = trimStep(p, state, sample)
    t.same({ gc: r.gc, trim: r.trim }, want, what)
    state = r.state
  }
  return state
}

t.test('a burst is left alone while it runs; then small growth is trimmed, large growth collected', async (t) => {
  const start: TrimState = { gcLow: 60 * MiB, trimLow: 60 * MiB, lastUsed: Infinity, busyMs: 0, quiet: 0 }
  const steps: Step[] = [
    ['idle at the start', { rss: 60 * MiB, heapUsed: 10 * MiB, cpuMs: 2 }, { gc: false, trim: false }],
    ['half a MiB more, idle: below both thresholds', { rss: 60.5 * MiB, heapUsed: 10 * MiB, cpuMs: 2 }, { gc: false, trim: false }],
    ['a 1k-route push: busy', { rss: 65 * MiB, heapUsed: 11 * MiB, cpuMs: 200 }, { gc: false, trim: false }],
    ['busy by heap growth alone (2 MiB more in use)', { rss: 65 * MiB, heapUsed: 13 * MiB, cpuMs: 10 }, { gc: false, trim: false }],
    ['over: 5 MiB above the low -> malloc trim, no collection', { rss: 65 * MiB, heapUsed: 13 * MiB, cpuMs: 10 }, { gc: false, trim: true }],
    ['the trim gave 1 MiB back; the low follows it down', { rss: 64 * MiB, heapUsed: 13 * MiB, cpuMs: 1 }, { gc: false, trim: false }],
    ['less than 1 MiB above the new low', { rss: 64.9 * MiB, heapUsed: 13 * MiB, cpuMs: 1 }, { gc: false, trim: false }],
    ['a 100k-route push: busy', { rss: 150 * MiB, heapUsed: 90 * MiB, cpuMs: 400 }, { gc: false, trim: false }],
    ['over: 90 MiB above the low -> collection and trim', { rss: 150 * MiB, heapUsed: 90 * MiB, cpuMs: 5 }, { gc: true, trim: true }],
    ['pages going back after the collection: nothing more', { rss: 120 * MiB, heapUsed: 60 * MiB, cpuMs: 5 }, { gc: false, trim: false }],
    ['steady', { rss: 120 * MiB, heapUsed: 60 * MiB, cpuMs: 5 }, { gc: false, trim: false }],
  ]
  const state = play(t, policy, start, steps)
  t.equal(state.gcLow, 120 * MiB, 'the collection low followed the RSS down')
  t.equal(state.trimLow, 120 * MiB, 'the trim low followed the RSS down')
})

t.test('a daemon whose memory does not grow is never touched', async (t) => {
  let state: TrimState = { gcLow: 59 * MiB, trimLow: 59 * MiB, lastUsed: Infinity, busyMs: 0, quiet: 0 }
  let actions = 0
  for (let i = 0; i < 1000; i++) {
    const r = trimStep(policy, state, { rss: (59 + (i % 7) / 10) * MiB, heapUsed: 10 * MiB + (i % 5) * 1000, cpuMs: 1 })
    state = r.state
    if (r.gc || r.trim) actions++
  }
  t.equal(actions, 0)
})

t.test('a long burst collected in a pause in its middle is collected again when it ends', async (t) => {
  const start: TrimState = { gcLow: 60 * MiB, trimLow: 60 * MiB, lastUsed: Infinity, busyMs: 0, quiet: 0 }
  const steps: Step[] = [
    ['a 1M-route push: busy', { rss: 300 * MiB, heapUsed: 250 * MiB, cpuMs: 450 }, { gc: false, trim: false }],
    ['a pause in it (the peer reads slowly): collection and trim', { rss: 380 * MiB, heapUsed: 250 * MiB, cpuMs: 20 }, { gc: true, trim: true }],
    ['the push goes on, 1.8 s of CPU in all', { rss: 386 * MiB, heapUsed: 280 * MiB, cpuMs: 450 }, { gc: false, trim: false }],
    ['busy', { rss: 386 * MiB, heapUsed: 300 * MiB, cpuMs: 450 }, { gc: false, trim: false }],
    ['busy', { rss: 386 * MiB, heapUsed: 320 * MiB, cpuMs: 450 }, { gc: false, trim: false }],
    ['busy', { rss: 386 * MiB, heapUsed: 340 * MiB, cpuMs: 450 }, { gc: false, trim: false }],
    ['over, and the RSS never rose 16 MiB above the last collection: collected for the 1.8 s of CPU', { rss: 386 * MiB, heapUsed: 340 * MiB, cpuMs: 5 }, { gc: true, trim: true }],
    ['idle after it: nothing more', { rss: 250 * MiB, heapUsed: 200 * MiB, cpuMs: 5 }, { gc: false, trim: false }],
  ]
  const state = play(t, { ...policy, gcBusyMs: 1800 }, start, steps)
  t.equal(state.busyMs, 0, 'the busy CPU starts again from the collection')
})

t.test('the daemon\'s policy waits for a quiet of quietSamples: nothing in a short pause of a burst', async (t) => {
  const p: TrimPolicy = { ...policy, gcGrowthBytes: 1 * MiB, quietSamples: 4 }
  const start: TrimState = { gcLow: 60 * MiB, trimLow: 60 * MiB, lastUsed: Infinity, busyMs: 0, quiet: 0 }
  const busy = (rss: number, used: number): TrimSample => ({ rss: rss * MiB, heapUsed: used * MiB, cpuMs: 300 })
  const calm = (rss: number, used: number): TrimSample => ({ rss: rss * MiB, heapUsed: used * MiB, cpuMs: 5 })
  const none = { gc: false, trim: false }
  /** n quiet samples at the same RSS and heap, none of them acting */
  const quietFor = (n: number, what: string, rss: number, used: number): Step[] => Array.from({ length: n }, (_, i) => [`${what}: quiet ${i + 1}`, calm(rss, used), none])
  const state = play(t, p, start, [
    ['a 100k-route push', busy(80, 40), none],
    ...quietFor(3, 'a pause in it (the peer reads)', 90, 40),
    ['the push goes on: the count starts again', busy(95, 45), none],
    ...quietFor(3, 'after the push', 95, 45),
    ['quiet 4: over, 35 MiB above the low -> collection and trim', calm(95, 45), { gc: true, trim: true }],
    ['still quiet, at the new low: nothing more', calm(70, 30), none],
    ['a 1k-route push leaves 1.5 MiB', busy(71.5, 31), none],
    ...quietFor(3, 'after it', 71.5, 31),
    ['quiet 4: 1.5 MiB above the low -> collection and trim', calm(71.5, 31), { gc: true, trim: true }],
  ])
  t.equal(state.quiet, 4, 'quiet samples counted since the last busy one')
  t.equal(state.gcLow, 71.5 * MiB, 'the low restarted at the last collection')
})

t.test('the trimmer\'s collection compacts: a half-empty old space gives its pages back', async (t) => {
  const gc = compactingGc()
  t.throws(() => runInNewContext('gc'), { name: 'ReferenceError' }, 'no later context gets a gc global: --expose-gc is off again (the Kubernetes bundle compiles under the flags of its code cache)')
  setFlagsFromString('--expose-gc')
  plainGc = runInNewContext('gc') as () => void
  setFlagsFromString('--no-expose-gc')
  // 300k small objects moved to the old space, then three in four dropped: pages a quarter full
  const keep: ({ a: number; s: string } | null)[] = []
  for (let i = 0; i < 300_000; i++) keep.push({ a: i, s: `x${i}` })
  runPlainGc()
  runPlainGc()
  for (let i = 0; i < keep.length; i++) if (i % 4 !== 0) keep[i] = null
  // a plain full collection, as V8's own: frees the dead objects, keeps the pages
  const plain = runPlainGc()
  gc()
  const compacted = oldSpaceSize()
  // the pages of the dropped ~9 MiB of objects (measured: 15 MiB of old space); a ratio of the
  // whole heap (tap's and tsx's too) sat at 0.84-0.85 x, against a bound of 0.85
  t.ok(plain - compacted > 8 * 2 ** 20, `old space after compacting ${(compacted / 2 ** 20).toFixed(1)} MiB, more than 8 MiB below a plain collection's ${(plain / 2 ** 20).toFixed(1)} MiB`)
  t.equal(keep.filter((x) => x !== null).length, 75_000, 'the live objects survive the move')
  t.equal(keep[299_996]!.s, 'x299996', 'and keep their contents')
})

/** V8's gc(), exposed for the test alone */
let plainGc: () => void = () => { throw new Error('no gc yet') }
/**
 * V8's gc() without compaction, the heap's size after it: compacts only if compactingGc left its
 * flag on, and then the test above fails
 */
function runPlainGc(): number {
  plainGc()
  return oldSpaceSize()
}

function oldSpaceSize(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_size
}

t.test('the daemon tiers: without the optimizing compiler only the controller without Kubernetes', async (t) => {
  t.equal(daemonTier('controller', false), 'baseline', 'controller, config file only')
  t.equal(daemonTier('controller', true), 'full', 'controller with Kubernetes')
  t.equal(daemonTier('agent', false), 'full', 'agent')
  t.equal(daemonTier('agent', true), 'full', 'agent with Kubernetes')
  t.equal(daemonTier('controller', false, FULL_TIER_VIPS - 1), 'baseline', `controller, ${FULL_TIER_VIPS - 1} VIP addresses`)
  t.equal(daemonTier('controller', false, FULL_TIER_VIPS), 'full', `controller, ${FULL_TIER_VIPS} VIP addresses`)
  t.equal(daemonTier('agent', false, 0), 'full', 'agent without VIPs')
  // in a child, as the daemon sets it (a flag is for the life of a process): hot code stays in
  // Sparkplug at 'baseline', and reaches TurboFan at 'full'
  const tierOf = (tier: string, first?: string) => {
    const code = [
      'const { setDaemonTier, currentDaemonTier } = await import(process.argv[1])',
      'const before = currentDaemonTier()',
      ...(first ? [`setDaemonTier(${JSON.stringify(first)})`] : []),
      `setDaemonTier(${JSON.stringify(tier)})`,
      'const hot = (n) => { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s }',
      'for (let i = 0; i < 3000; i++) hot(10000)',
      'process.stdout.write(JSON.stringify({ before: before ?? null, tier: currentDaemonTier(), turbofan: %ActiveTierIsTurbofan(hot) }))',
    ].join('\n')
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', code, join(ROOT, 'cmd', 'porter', 'heap.ts')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
    t.equal(r.status, 0, `child at ${tier} exited 0 ${r.stderr}`)
    return JSON.parse(r.stdout || 'null') as { before: string | null; tier: string; turbofan: boolean } | null
  }
  t.same(tierOf('baseline'), { before: null, tier: 'baseline', turbofan: false }, 'baseline: the hot loop is not optimized')
  t.same(tierOf('full'), { before: null, tier: 'full', turbofan: true }, 'full: the same loop is optimized')
  t.same(tierOf('full', 'baseline'), { before: null, tier: 'full', turbofan: true }, 'baseline, then full (a controller with Kubernetes): optimized again')
  // raiseDaemonTier (a reload): only from baseline to full
  const raised = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', [
    'const { setDaemonTier, raiseDaemonTier, currentDaemonTier } = await import(process.argv[1])',
    'const steps = []',
    "setDaemonTier('baseline')",
    "steps.push(raiseDaemonTier('baseline') ?? null, currentDaemonTier())",
    "steps.push(raiseDaemonTier('full') ?? null, currentDaemonTier())",
    "steps.push(raiseDaemonTier('baseline') ?? null, raiseDaemonTier('full') ?? null, currentDaemonTier())",
    'const hot = (n) => { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s }',
    'for (let i = 0; i < 3000; i++) hot(10000)',
    'process.stdout.write(JSON.stringify({ steps, turbofan: %ActiveTierIsTurbofan(hot) }))',
  ].join('\n'), join(ROOT, 'cmd', 'porter', 'heap.ts')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  t.equal(raised.status, 0, `raise child exited 0 ${raised.stderr}`)
  t.same(JSON.parse(raised.stdout || 'null'), { steps: [null, 'baseline', 'full', 'full', null, null, 'full'], turbofan: true },
    'raise: baseline stays, full raises once, never back; then optimized')
  // and under the flags a code cache was made with at 'full' (build.mjs): a cache made in one
  // child at 'full' is taken in another that went through 'baseline' first
  const dir = mkdtempSync(join(tmpdir(), 'porter-tier-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const cacheRun = (make: boolean, tiers: string[]) => spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', [
    "const vm = await import('node:vm'); const fs = await import('node:fs')",
    'const { setDaemonTier } = await import(process.argv[1])',
    ...tiers.map((x) => `setDaemonTier(${JSON.stringify(x)})`),
    "const code = 'function f(a) { return a + 1 }; f(1)'",
    `const file = ${JSON.stringify(join(dir, 'cache.bin'))}`,
    make ? "fs.writeFileSync(file, new vm.Script(code, { filename: 'x.js' }).createCachedData())" : "process.stdout.write(new vm.Script(code, { filename: 'x.js', cachedData: fs.readFileSync(file) }).cachedDataRejected ? 'rejected' : 'used')",
  ].join('\n'), join(ROOT, 'cmd', 'porter', 'heap.ts')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  t.equal(cacheRun(true, ['full']).status, 0, 'a cache made at full')
  t.equal(cacheRun(false, ['baseline', 'full']).stdout, 'used', 'is taken at full after baseline')
  t.equal(cacheRun(false, ['baseline']).stdout, 'rejected', 'and not at baseline (which has its own cache)')
})
