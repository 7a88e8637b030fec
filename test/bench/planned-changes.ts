// Benchmark (run by hand, as root): `node --import tsx test/bench/planned-changes.ts [--rounds=3] [--limit=15] [--only=kill,shutdown,move]`
//
// Issue 11's planned and unplanned stops of a speaker, with the built dist/porter (config files,
// signals) and gobgpd side by side under the same faults, in one lab and one run. The lab is the
// graceful-shutdown e2e's (test/e2e/graceful-shutdown.test.ts) with two gobgpd namespaces added:
//
//   client c (198.51.100.2) -- (198.51.100.1) router r [BIRD 2, kernel export, merge paths] (192.0.2.1) -- bridge lan
//     lan: pa 192.0.2.2, pb 192.0.2.3 [dist/porter controller, AS 65002, eBGP]
//          ga 192.0.2.4, gb 192.0.2.5 [gobgpd 3.10, AS 65001: iBGP, as gobgpd keeps a third-party next hop only there]
//          hx 192.0.2.11 (X), hy 192.0.2.12 (Y) [HTTP on the VIP 203.0.113.10 on their lo]
//   BIRD: graceful restart on for every peer, ADD-PATH rx, import filter honouring GRACEFUL_SHUTDOWN
//   (`if (65535, 0) ~ bgp_community then bgp_local_pref = 0; accept;`).
//
// kill      one speaker announces the VIP via X and Y; it gets SIGKILL. Measured: the kill (the
//           bench's clock) -> the router's kernel reports the VIP's route Deleted (`ip monitor route`
//           in r, lib/route-watch.ts); and from BIRD's log (`debug { states, events }`, ms) when it
//           saw the connection close, its graceful-restart timer expire and the protocol go Down.
//           porter with gracefulRestart { enabled: true, restartTime: 5 } and { enabled: false };
//           gobgpd with graceful-restart (restart-time 5) and without. The kernel closes the
//           killed speaker's socket (FIN), so without GR BIRD drops the routes at once; with GR it
//           keeps them as stale for the restart time, then flushes them.
// shutdown  two replicas announce the VIP via X and Y; the client sends continuous HTTP requests
//           (a new connection each, lib/http-load.ts) through the router; replica A gets SIGTERM.
//           Measured: failed requests (an error, or no answer within 800 ms: a SYN lost to a missing
//           route is resent only after 1 s) from the warm-up to 2 s after A exited, the FIB's next-hop
//           sets over that window, SIGTERM -> A's exit. porter with bgp.gracefulShutdown { wait: 2s }
//           (GR on); porter without it (GR on: a silent close, the router keeps A's paths stale);
//           gobgpd (its default: no GR) stopped by SIGTERM.
// move      one speaker moves the VIP from X to Y (then back: each round the other way) under the
//           same load. porter: its config rewritten and SIGHUP (make-before-break); gobgpd by its
//           CLI as an operator's script would: `gobgp global rib del` of the old path then `add` of
//           the new, and the reverse order. Measured: failed requests, the spells in which the FIB
//           had no route for the VIP (a Deleted message until the next install), and the change's
//           start (SIGHUP / the first CLI spawn) -> the FIB has the VIP via the new hop only.
//           A request in flight when the FIB's next-hop set changes may be hashed to the other host
//           mid-connection and reset (ECONNRESET): the failures are counted by kind.
// Between variants every BGP protocol of BIRD is restarted, so no stale path carries over.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { createLab, waitFor, type Lab } from '../e2e/lib/netns.ts'
import { Bird } from '../e2e/lib/bird.ts'
import { Gobgp, renderGobgpConfig, type GobgpSpec } from '../e2e/lib/gobgp.ts'
import { PorterProc } from '../e2e/lib/porter.ts'
import { bgpSection, gateways, routedLan, ROUTER_AS, PORTER_AS } from '../e2e/lib/bgp-lab.ts'
import { httpServer } from '../../build/demo/scenario.ts'
import { builtPorter } from '../lib/dist.ts'
import { sleep, log } from './lib/push-lab.ts'
import { median } from './lib/rounds.ts'
import { RouteWatch, absences, type RouteEvent } from './lib/route-watch.ts'
import { HttpLoad, type Request } from './lib/http-load.ts'

const args = process.argv.slice(2)
const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const ROUNDS = Number(opt('rounds') ?? 3)
const LIMIT_MS = Number(opt('limit') ?? 15) * 1000
const ONLY = (opt('only') ?? 'kill,shutdown,move').split(',')

const VIP = '203.0.113.10'
const PFX = `${VIP}/32`
const X = '192.0.2.11'
const Y = '192.0.2.12'
const ROUTER = '192.0.2.1'
const SPEAKERS = { pa: '192.0.2.2', pb: '192.0.2.3', ga: '192.0.2.4', gb: '192.0.2.5' }
const GSHUT_FILTER = 'if (65535, 0) ~ bgp_community then bgp_local_pref = 0; accept;'
const GR_120 = 'gracefulRestart: { enabled: true, restartTime: 120 }'

interface Lab1 {
  lab: Lab
  binary: string
  r: string
  c: string
  ns: Record<keyof typeof SPEAKERS, string>
  bird: Bird
  watch: RouteWatch
  load: HttpLoad
  fib(): Promise<string[]>
  waitFib(want: string[], what: string, timeoutMs?: number): Promise<void>
}

/** porter's config: the e2e's `bgp` section (graceful restart `gr`) and the VIP via `hops` */
function porterYaml(self: string, hops: string[], gr = GR_120, extra = ''): string {
  return `${bgpSection(self, extra).replace(GR_120, gr)}vips:\n  - { name: web, address: ${VIP}, nextHops: [${hops.join(', ')}] }\n`
}

/** gobgpd in `ns` (iBGP to the router, ADD-PATH send), graceful restart with restart-time `grTime` when given */
function gobgpd(L: Lab1, name: keyof typeof SPEAKERS, label: string, grTime?: number): Gobgp {
  const spec: GobgpSpec = { ns: L.ns[name], as: ROUTER_AS, routerId: SPEAKERS[name], listenPort: -1, peers: [
    { address: ROUTER, as: ROUTER_AS, passive: false, addPathTx: true, addPathRx: false, holdTime: 9, gracefulRestart: grTime !== undefined },
  ] }
  const g = new Gobgp(L.lab, spec, label)
  if (grTime !== undefined) writeFileSync(g.configFile, renderGobgpConfig(spec).replace('restart-time = 120', `restart-time = ${grTime}`))
  return g
}

const PATH_ID: Record<string, number> = { [X]: 1, [Y]: 2 }
async function gobgpAnnounce(g: Gobgp, hops: string[]): Promise<void> {
  await g.start()
  for (const h of hops) await g.addRoute(PFX, { nextHop: h, pathId: PATH_ID[h] })
}

async function setup(lab: Lab): Promise<Lab1> {
  const binary = builtPorter(lab.dir)
  const { r, c, ns: all } = await routedLan(lab, { ...SPEAKERS, hx: X, hy: Y }, { lan: ROUTER })
  const ns = { pa: all.pa!, pb: all.pb!, ga: all.ga!, gb: all.gb! }
  for (const [h, name] of [[all.hx!, 'x'], [all.hy!, 'y']] as const) {
    await lab.addr(h, 'lo', `${VIP}/32`)
    httpServer(lab, h, name)
  }
  const bird = new Bird(lab, { ns: r, as: ROUTER_AS, routerId: ROUTER, peers: (Object.keys(SPEAKERS) as (keyof typeof SPEAKERS)[]).map((name) => ({
    address: SPEAKERS[name], as: name.startsWith('p') ? PORTER_AS : ROUTER_AS, passive: true, name, gracefulRestart: true, importFilter: GSHUT_FILTER, extra: ['debug { states, events };'],
  })) })
  await bird.start()
  const watch = new RouteWatch(r)
  await watch.ready('198.18.0.1/32', X)
  const fib = () => gateways(r, PFX)
  const waitFib = async (want: string[], what: string, timeoutMs = 30_000) => {
    await waitFor(async () => (await fib()).join() === [...want].sort().join() || undefined, { timeoutMs, intervalMs: 50, what })
  }
  return { lab, binary, r, c, ns, bird, watch, load: new HttpLoad(lab, c, VIP), fib, waitFib }
}

/** no stale path of a previous variant: every BGP protocol restarted, the VIP gone from the FIB */
async function clean(L: Lab1): Promise<void> {
  for (const name of Object.keys(SPEAKERS)) await L.bird.birdc(['restart', name])
  await L.waitFib([], 'the VIP gone from the FIB between variants')
}

const hopName = (g: string[]): string => g.length ? g.map((h) => (h === X ? 'X' : h === Y ? 'Y' : h)).join('+') : 'none'

// ---------------------------------------------------------------- kill
type KillMode = 'porter-gr' | 'porter-nogr' | 'gobgp-gr' | 'gobgp-nogr'
const KILL_LABEL: Record<KillMode, string> = {
  'porter-gr': 'porter, gracefulRestart on (restartTime 5)',
  'porter-nogr': 'porter, gracefulRestart off',
  'gobgp-gr': 'gobgpd, graceful-restart on (restart-time 5)',
  'gobgp-nogr': 'gobgpd, graceful-restart off',
}

/** BIRD's own account of a session after `t0` (its log, `debug { states, events }`; local wall-clock time, ms): ms after t0 */
function birdTrace(L: Lab1, proto: string, t0: number): { closed?: number; grTimeout?: number; down?: number } {
  const at: Record<string, number> = {}
  for (const line of readFileSync(L.bird.logFile, 'utf8').split('\n')) {
    const m = /^(\S+) (\S+) <TRACE> (\S+): (Connection closed|Neighbor graceful restart timeout|Down)$/.exec(line)
    if (!m || m[3] !== proto) continue
    const t = new Date(`${m[1]}T${m[2]}`).getTime()
    if (t >= t0 - 5 && at[m[4]!] === undefined) at[m[4]!] = t - t0 // BIRD's clock has ms: a line of the same ms counts
  }
  return { closed: at['Connection closed'], grTimeout: at['Neighbor graceful restart timeout'], down: at.Down }
}

interface KillResult { ms?: number; bird: ReturnType<typeof birdTrace> }

async function killRounds(L: Lab1, mode: KillMode): Promise<KillResult[]> {
  const out: KillResult[] = []
  const gr = mode.endsWith('-gr')
  const porter = mode.startsWith('porter')
    ? new PorterProc(L.lab, L.ns.pa, porterYaml(SPEAKERS.pa, [X, Y], `gracefulRestart: { enabled: ${gr}, restartTime: 5 }`), 'controller', L.binary) : undefined
  const gobgp = porter ? undefined : gobgpd(L, 'ga', mode, gr ? 5 : undefined)
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      if (porter) { await porter.start(); await porter.waitPeers('Established') } else await gobgpAnnounce(gobgp!, [X, Y])
      await L.waitFib([X, Y], `${mode}: the VIP via X and Y`)
      await sleep(1000)
      const t0 = Date.now()
      if (porter) porter.signal('SIGKILL')
      else await gobgp!.crash()
      await L.waitFib([], `${mode}: the VIP gone`, LIMIT_MS).catch(() => undefined)
      const del = L.watch.events(PFX, t0).find((e) => e.deleted)
      const res: KillResult = { ms: del && del.at - t0, bird: birdTrace(L, porter ? 'pa' : 'ga', t0) }
      out.push(res)
      log(`kill ${mode} round ${round}: ${res.ms !== undefined ? `${res.ms} ms` : `not within ${LIMIT_MS / 1000} s`}; BIRD: ${JSON.stringify(res.bird)}`)
      if (!del) await clean(L)
      if (porter) await waitFor(() => porter.child!.exitCode !== null || porter.child!.signalCode !== null, { what: 'porter gone' })
    }
  } finally {
    porter?.cleanup()
    await gobgp?.crash()
  }
  await clean(L)
  return out
}

// ---------------------------------------------------------------- shutdown
type ShutMode = 'porter-gshut' | 'porter-gr' | 'gobgp'
const SHUT_LABEL: Record<ShutMode, string> = {
  'porter-gshut': 'porter, gracefulShutdown { wait: 2s } (GR on)',
  'porter-gr': 'porter, no gracefulShutdown (GR on: silent close)',
  'gobgp': 'gobgpd, SIGTERM (no GR)',
}
interface ShutResult { failed: number; total: number; failures: string[]; slowestMs: number; cell: string; fibSets: string[]; minHops: number; exitMs: number }

/** the next-hop sets the FIB went through from `before` (the state at the start) over `events` */
function fibStory(before: string[], events: RouteEvent[]): { sets: string[]; minHops: number } {
  const sets = [hopName(before)]
  let minHops = before.length
  for (const e of events) {
    const g = e.deleted ? [] : e.gateways
    minHops = Math.min(minHops, g.length)
    if (hopName(g) !== sets[sets.length - 1]) sets.push(hopName(g))
  }
  return { sets, minHops }
}

/** failed / all requests, each failure as "<error> at +<ms after t0>", and the slowest answer */
function tally(reqs: Request[], t0: number): { failed: number; total: number; failures: string[]; slowestMs: number; cell: string } {
  const failed = reqs.filter((q) => !q.ok)
  const kinds = new Map<string, number>()
  for (const q of failed) kinds.set(q.detail, (kinds.get(q.detail) ?? 0) + 1)
  return {
    failed: failed.length, total: reqs.length, slowestMs: Math.max(0, ...reqs.filter((q) => q.ok).map((q) => q.ms)),
    cell: `${failed.length}/${reqs.length}${kinds.size ? ` (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')})` : ''}`,
    failures: failed.map((q) => `${q.detail} at ${q.at - t0 >= 0 ? '+' : ''}${q.at - t0} ms`),
  }
}

async function shutdownRounds(L: Lab1, mode: ShutMode): Promise<ShutResult[]> {
  const out: ShutResult[] = []
  const porters = mode === 'gobgp' ? [] : [
    new PorterProc(L.lab, L.ns.pa, porterYaml(SPEAKERS.pa, [X, Y], GR_120, mode === 'porter-gshut' ? '  gracefulShutdown: { wait: 2s }\n' : ''), 'controller', L.binary),
    new PorterProc(L.lab, L.ns.pb, porterYaml(SPEAKERS.pb, [X, Y]), 'controller', L.binary),
  ]
  const gobgps = mode === 'gobgp' ? [gobgpd(L, 'ga', 'shut-a'), gobgpd(L, 'gb', 'shut-b')] : []
  const up = async (i: number) => {
    if (porters.length) { await porters[i]!.start(); await porters[i]!.waitPeers('Established') } else await gobgpAnnounce(gobgps[i]!, [X, Y])
    await L.bird.waitEstablished([i === 0 ? (porters.length ? 'pa' : 'ga') : (porters.length ? 'pb' : 'gb')])
  }
  try {
    await up(1)
    for (let round = 1; round <= ROUNDS; round++) {
      await up(0)
      await waitFor(async () => (await L.bird.routes(['table', 'master4', 'for', PFX])).filter((p) => !/stale/i.test(String(p.raw))).length === 4 || undefined, { what: `${mode}: BIRD with both replicas' two paths` })
      await L.waitFib([X, Y], `${mode}: the VIP via X and Y`)
      await sleep(1000)
      const before = await L.fib()
      await L.load.start()
      const t0 = Date.now()
      let exitAt: number
      if (porters.length) {
        const child = porters[0]!.child!
        const exited = new Promise<void>((res) => child.once('exit', () => res()))
        porters[0]!.signal('SIGTERM')
        await exited
        exitAt = Date.now()
      } else {
        await gobgps[0]!.stop()
        exitAt = Date.now()
      }
      await sleep(2000)
      const reqs = await L.load.stop()
      const story = fibStory(before, L.watch.events(PFX, t0))
      const res: ShutResult = { ...tally(reqs, t0), fibSets: story.sets, minHops: story.minHops, exitMs: exitAt - t0 }
      out.push(res)
      log(`shutdown ${mode} round ${round}: ${res.failed}/${res.total} failed${res.failures.length ? ` (${res.failures.slice(0, 5).join(', ')})` : ''}, slowest answer ${res.slowestMs} ms, FIB ${res.fibSets.join(' -> ')}, exit after ${res.exitMs} ms`)
    }
  } finally {
    for (const p of porters) { await p.stop(); p.cleanup() }
    for (const g of gobgps) await g.crash()
  }
  await clean(L)
  return out
}

// ---------------------------------------------------------------- move
type MoveMode = 'porter' | 'gobgp-del-add' | 'gobgp-add-del'
const MOVE_LABEL: Record<MoveMode, string> = {
  porter: 'porter, SIGHUP (make-before-break)',
  'gobgp-del-add': 'gobgpd CLI: del old, then add new',
  'gobgp-add-del': 'gobgpd CLI: add new, then del old',
}
interface MoveResult { failed: number; total: number; failures: string[]; slowestMs: number; cell: string; absentMs: number[]; doneMs: number; fibSets: string[] }

async function moveRounds(L: Lab1, mode: MoveMode): Promise<MoveResult[]> {
  const out: MoveResult[] = []
  const porter = mode === 'porter' ? new PorterProc(L.lab, L.ns.pa, porterYaml(SPEAKERS.pa, [X]), 'controller', L.binary) : undefined
  const gobgp = porter ? undefined : gobgpd(L, 'ga', mode)
  try {
    if (porter) { await porter.start(); await porter.waitPeers('Established') } else await gobgpAnnounce(gobgp!, [X])
    let from = X
    for (let round = 1; round <= ROUNDS; round++) {
      const to = from === X ? Y : X
      await L.waitFib([from], `${mode}: the VIP via ${hopName([from])}`)
      await sleep(1000)
      await L.load.start()
      const t0 = Date.now()
      if (porter) {
        porter.writeConfig(porterYaml(SPEAKERS.pa, [to]))
        porter.signal('SIGHUP')
      } else if (mode === 'gobgp-del-add') {
        await gobgp!.delRoute(PFX, PATH_ID[from])
        await gobgp!.addRoute(PFX, { nextHop: to, pathId: PATH_ID[to] })
      } else {
        await gobgp!.addRoute(PFX, { nextHop: to, pathId: PATH_ID[to] })
        await gobgp!.delRoute(PFX, PATH_ID[from])
      }
      await L.waitFib([to], `${mode}: the VIP via ${hopName([to])} only`)
      await sleep(1000)
      const reqs = await L.load.stop()
      const end = Date.now()
      const events = L.watch.events(PFX, t0)
      const done = events.find((e) => !e.deleted && e.gateways.join() === to)
      const res: MoveResult = {
        ...tally(reqs, t0),
        absentMs: absences(events, end).map((a) => a.ms), doneMs: done ? done.at - t0 : NaN, fibSets: fibStory([from], events).sets,
      }
      out.push(res)
      log(`move ${mode} round ${round} ${hopName([from])} -> ${hopName([to])}: ${res.failed}/${res.total} failed${res.failures.length ? ` (${res.failures.slice(0, 5).join(', ')})` : ''}, slowest answer ${res.slowestMs} ms, FIB ${res.fibSets.join(' -> ')}, absent ${res.absentMs.length ? res.absentMs.map((m) => `${m} ms`).join(', ') : 'never'}, done after ${res.doneMs} ms`)
      from = to
    }
  } finally {
    if (porter) { await porter.stop(); porter.cleanup() }
    await gobgp?.crash()
  }
  await clean(L)
  return out
}

// ---------------------------------------------------------------- report
const fmt = (ms: number | undefined): string => ms === undefined || Number.isNaN(ms) ? '-' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`
const ratio = (a: number | undefined, b: number | undefined): string => a === undefined || b === undefined || !b ? '-' : `${(a / b).toFixed(2)}x`

const medianOf = (xs: (number | undefined)[]): string => { const v = xs.filter((x): x is number => x !== undefined); return v.length ? fmt(median(v)) : '-' }

function killTable(res: Map<KillMode, KillResult[]>): void {
  console.log(`\nSIGKILL of the speaker -> the router's FIB deletes the VIP (medians of ${ROUNDS}; BIRD's columns from its log)\n`)
  console.log('| speaker | kill -> FIB drops the VIP | rounds | kill -> BIRD: connection closed | -> GR timer expired | -> protocol Down |')
  console.log('| --- | ---: | --- | ---: | ---: | ---: |')
  const med = new Map<KillMode, number | undefined>()
  for (const [mode, rs] of res) {
    const xs = rs.map((r) => r.ms)
    const seen = xs.filter((x): x is number => x !== undefined)
    const m = seen.length === xs.length ? median(seen) : undefined
    med.set(mode, m)
    const b = (k: keyof KillResult['bird']) => medianOf(rs.map((r) => r.bird[k]))
    console.log(`| ${KILL_LABEL[mode]} | ${m === undefined ? `not within ${LIMIT_MS / 1000} s in ${xs.length - seen.length} of ${xs.length}` : fmt(m)} | ${xs.map(fmt).join(', ')} | ${b('closed')} | ${b('grTimeout')} | ${b('down')} |`)
  }
  const pr = [`porter / gobgpd: GR on ${ratio(med.get('porter-gr'), med.get('gobgp-gr'))}, GR off ${ratio(med.get('porter-nogr'), med.get('gobgp-nogr'))}`]
  pr.push(`GR on / restart time (5 s): porter ${ratio(med.get('porter-gr'), 5000)}, gobgpd ${ratio(med.get('gobgp-gr'), 5000)}`)
  console.log(pr.join('; '))
}

function shutTable(res: Map<ShutMode, ShutResult[]>): void {
  console.log(`\nSIGTERM of one of two replicas under continuous requests (${ROUNDS} rounds each)\n`)
  console.log('| variant | failed / requests | slowest answer | FIB next hops over the event | fewest next hops | SIGTERM -> exit (median) |')
  console.log('| --- | --- | ---: | --- | ---: | ---: |')
  for (const [mode, rs] of res) {
    const sets = [...new Set(rs.map((r) => r.fibSets.join(' -> ')))]
    console.log(`| ${SHUT_LABEL[mode]} | ${rs.map((r) => r.cell).join(', ')} | ${fmt(Math.max(...rs.map((r) => r.slowestMs)))} | ${sets.join('; ')} | ${Math.min(...rs.map((r) => r.minHops))} | ${fmt(median(rs.map((r) => r.exitMs)))} |`)
  }
}

function moveTable(res: Map<MoveMode, MoveResult[]>): void {
  console.log(`\nThe VIP moved to the other next hop under continuous requests (${ROUNDS} rounds each, alternating X -> Y, Y -> X)\n`)
  console.log('| variant | failed / requests | slowest answer | FIB route absent | change -> FIB via the new hop only (median) | rounds |')
  console.log('| --- | --- | ---: | --- | ---: | --- |')
  const med = new Map<MoveMode, number>()
  for (const [mode, rs] of res) {
    const absent = rs.flatMap((r) => r.absentMs)
    med.set(mode, median(rs.map((r) => r.doneMs)))
    console.log(`| ${MOVE_LABEL[mode]} | ${rs.map((r) => r.cell).join(', ')} | ${fmt(Math.max(...rs.map((r) => r.slowestMs)))} | ${absent.length ? `${absent.length} times: ${absent.map(fmt).join(', ')}` : 'never'} | ${fmt(med.get(mode))} | ${rs.map((r) => fmt(r.doneMs)).join(', ')} |`)
  }
  console.log(`porter / gobgpd (change -> done): del-add ${ratio(med.get('porter'), med.get('gobgp-del-add'))}, add-del ${ratio(med.get('porter'), med.get('gobgp-add-del'))}`)
}

async function main(): Promise<void> {
  const started = Date.now()
  const load0 = loadavg()
  const lab = createLab()
  try {
    console.log(`planned-changes: ${ROUNDS} rounds, ${cpus().length} CPUs, load ${load0.map((x) => x.toFixed(2)).join(' ')}, ${new Date().toISOString()}`)
    const L = await setup(lab)
    console.log(`binary: ${execFileSync(L.binary, ['version'], { encoding: 'utf8' }).trim()}`)
    const kill = new Map<KillMode, KillResult[]>()
    const shut = new Map<ShutMode, ShutResult[]>()
    const move = new Map<MoveMode, MoveResult[]>()
    if (ONLY.includes('kill')) for (const m of ['porter-gr', 'porter-nogr', 'gobgp-gr', 'gobgp-nogr'] as const) kill.set(m, await killRounds(L, m))
    if (ONLY.includes('shutdown')) for (const m of ['porter-gshut', 'porter-gr', 'gobgp'] as const) shut.set(m, await shutdownRounds(L, m))
    if (ONLY.includes('move')) for (const m of ['porter', 'gobgp-del-add', 'gobgp-add-del'] as const) move.set(m, await moveRounds(L, m))
    L.watch.stop()
    if (kill.size) killTable(kill)
    if (shut.size) shutTable(shut)
    if (move.size) moveTable(move)
    console.log(`\nrun took ${((Date.now() - started) / 1000).toFixed(0)} s; load average at the start ${load0.map((x) => x.toFixed(2)).join(' ')}, at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  } finally {
    await lab.cleanup()
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1) })
