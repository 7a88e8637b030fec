// Benchmark (run by hand, as root): `node --import tsx test/bench/bgp-push.ts [N] [options]`
//
// Pushes N (default 100,000) IPv4 /32 prefixes from 198.18.0.0/15, one next hop each, to ONE
// BIRD 2 router in a network namespace, from each speaker in turn, in the same namespaces:
//   porter   Porter's Speaker in its own process (test/bench/lib/bgp-driver.ts, bundled with
//            esbuild and run with plain node), advertisements set before the session starts
//   gobgpd   the same N routes preloaded from an MRT TABLE_DUMP_V2 file with
//            `gobgp mrt inject global` while the neighbour is admin-down, then `neighbor enable`
//   floor    (reference) pre-encoded UPDATE bytes written in one go after a hand-made OPEN
//            exchange (test/bench/lib/bgp-blast.ts): how fast BIRD itself can import them
// Each run starts with a freshly restarted BIRD (empty table). Measured:
//   push      BIRD's session Established (its protocol "since" time, microseconds) -> BIRD's
//             channel reports N routes imported (also shown from the speaker's own Established)
//   withdraw  withdrawal triggered (porter: speaker.set([]) on a stdin command; gobgpd:
//             `gobgp global rib -a ipv4 del all` started) -> BIRD reports 0 imported
//   peak RSS  VmHWM of the speaker process (/proc/PID/status) at the end of its run
// BIRD is polled over its control socket directly (no process spawn per poll), every
// --poll ms (default 20): `show protocols all speaker` costs BIRD microseconds.
// Prints the table and the ratios Porter/GoBGP against the targets of issue 3
// (time <= 0.5 x GoBGP, peak RSS <= GoBGP).
//
// Options:
//   --add-path        negotiate ADD-PATH send (all speakers; BIRD `add paths rx`). Default off:
//                     one next hop per prefix, so ADD-PATH would only add 4 bytes per NLRI
//   --fib             let BIRD export the routes to its namespace's kernel FIB (default: BIRD's
//                     kernel protocols disabled, so BIRD's CPU goes to BGP import only)
//   --only=a,b        run only these of porter,gobgp,floor (default all three)
//   --poll=MS         BIRD poll interval (default 20)
//   --cpu-prof        run Porter's driver with --cpu-prof; prints where its CPU went per phase
//                     (the .cpuprofile is kept under node_modules/.cache/porter-bench/profiles)
//   --rounds=K        repeat everything K times (default 1); the verdict uses the medians
//   --json=FILE       also write the results as JSON
import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync, readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, dirname } from 'node:path'
import { createInterface } from 'node:readline'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { createLab, waitFor, type Lab } from '../e2e/lib/netns.ts'
import { Bird } from '../e2e/lib/bird.ts'
import { Gobgp, renderGobgpConfig, type GobgpSpec } from '../e2e/lib/gobgp.ts'
import { BirdCtl } from './lib/birdctl.ts'
import { writeMrtRib } from './lib/mrt.ts'
import { summarize, formatSummary } from './lib/cpuprofile.ts'
import { benchPrefixes } from './lib/prefixes.ts'
import type { DriverConfig } from './lib/bgp-driver.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..', '..')

const ROUTER_AS = 65001
const SPEAKER_AS = 65002
const ROUTER_IP = '192.0.2.1'
const SPEAKER_IP = '192.0.2.2'
const HOLD = 90
const PROTO = 'speaker'

// ---- arguments ----
const args = process.argv.slice(2)
const flag = (name: string): boolean => args.includes(`--${name}`)
const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const N = Number(args.find((a) => !a.startsWith('--')) ?? 100_000)
const ADD_PATH = flag('add-path')
const FIB = flag('fib')
const POLL_MS = Number(opt('poll') ?? 20)
const CPU_PROF = flag('cpu-prof')
const ONLY = (opt('only') ?? 'porter,gobgp,floor').split(',')
const JSON_OUT = opt('json')
const ROUNDS = Number(opt('rounds') ?? 1)
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds must be a positive integer, got "${opt('rounds')}"`)
if (!Number.isInteger(N) || N < 1 || N > 1 << 17) throw new Error(`N must be an integer from 1 to 131072, got "${args[0]}"`)
for (const o of ONLY) if (!['porter', 'gobgp', 'floor'].includes(o)) throw new Error(`--only: unknown speaker "${o}"; use porter, gobgp, floor`)

const now = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const log = (s: string): void => { process.stderr.write(`bench: ${s}\n`) }

interface RunResult {
  speaker: string
  round: number
  /** ms: BIRD's session Established (its protocol "since", us precision) -> N imported */
  push: number
  /** ms: the speaker's own Established -> N imported */
  pushFromSpeaker?: number
  /** ms: withdrawal triggered -> 0 imported */
  withdraw: number
  /** MiB, VmHWM at the end of the run */
  peakRss: number
  /** bytes and packets BIRD's interface received during the push and the withdrawal */
  wire: { push: Counter; withdraw: Counter }
  /** ms: preparing the routes before the session (Porter: set() + start(), which builds the peer's RIB; gobgpd: MRT inject until the RIB is complete; floor: encoding) */
  prepare: number
  notes: string[]
  profile?: string
}

interface Counter { bytes: number; packets: number }

// ---- BIRD ----
function birdSpec(r: string) {
  return {
    ns: r, as: ROUTER_AS, routerId: ROUTER_IP,
    // microsecond protocol times, so "since" can cross-check the speaker's Established time
    extra: ['timeformat protocol "%F %T.%6f";'],
    kernelExtra: FIB ? [] : ['disabled on;'],
    peers: [{ name: PROTO, address: SPEAKER_IP, as: SPEAKER_AS, passive: true, holdTime: HOLD, addPathRx: ADD_PATH }],
  }
}

/** Epoch ms of BIRD's "since" for the protocol ("2025-01-02 03:04:05.123456", local time). */
function birdSince(since: string): number | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?/.exec(since)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, frac] = m
  const base = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)).getTime()
  return base + (frac ? Number(`0.${frac}`) * 1000 : 0)
}

/** Poll BIRD until `pred(imported)`; returns the time the satisfying reply arrived. */
async function pollImported(ctl: BirdCtl, pred: (n: number) => boolean, what: string, timeoutMs = 120_000): Promise<{ t: number; polls: number; state: string; since: string }> {
  const deadline = now() + timeoutMs
  let polls = 0
  for (;;) {
    const p = await ctl.protocol(PROTO)
    const t = now()
    polls++
    if (pred(p.imported)) return { t, polls, state: p.state, since: p.since }
    if (t > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for BIRD: ${what} (imported ${p.imported}, state ${p.state})`)
    await sleep(POLL_MS)
  }
}

function vm(pid: number): { hwmKB: number; rssKB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN)
  return { hwmKB: kb('VmHWM'), rssKB: kb('VmRSS') }
}

/** BIRD's interface receive counters (one `ip` spawn; taken only around the phases, never while polling). */
async function rx(lab: Lab, r: string): Promise<Counter> {
  const j = JSON.parse((await lab.exec(r, ['ip', '-s', '-j', 'link', 'show', 'eth0'])).stdout) as { stats64: { rx: Counter } }[]
  return { bytes: j[0]!.stats64.rx.bytes, packets: j[0]!.stats64.rx.packets }
}
const delta = (a: Counter, b: Counter): Counter => ({ bytes: b.bytes - a.bytes, packets: b.packets - a.packets })

/** The start of the push: BIRD's Established time when it parses, else the speaker's. */
function startOf(since: string, speakerEst: number, notes: string[]): number {
  const b = birdSince(since)
  if (b === undefined || Math.abs(b - speakerEst) > 5000) {
    notes.push(`BIRD's Established time "${since}" unusable: timed from the speaker's Established`)
    return speakerEst
  }
  return b
}

// ---- a line-protocol child (Porter driver, floor) ----
class LineChild {
  readonly events: Record<string, unknown>[] = []
  private waiters: { pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = []
  readonly exited: Promise<number | null>

  constructor(readonly child: ChildProcess, readonly logFile: string) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      let e: Record<string, unknown>
      try { e = JSON.parse(l) as Record<string, unknown> } catch { return }
      e.recv = now()
      this.events.push(e)
      if (e.ev === 'error') log(`${logFile}: ${String(e.error)}`)
      this.waiters = this.waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true))
    })
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)))
  }

  wait(ev: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const seen = this.events.find((e) => e.ev === ev)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms waiting for "${ev}" from ${this.logFile}`)), timeoutMs)
      this.waiters.push({ pred: (e) => e.ev === ev, resolve: (e) => { clearTimeout(timer); resolve(e) } })
      void this.exited.then((code) => { clearTimeout(timer); reject(new Error(`driver exited (${code}) before "${ev}"; see ${this.logFile}`)) })
    })
  }

  send(cmd: string): void { this.child.stdin!.write(`${cmd}\n`) }
}

/**
 * Our TypeScript bundled into one ESM file run with plain `node` (no tsx loader thread in the
 * RSS); packages stay external and load from node_modules (hence the output under
 * node_modules/.cache). koffi is imported lazily, as the shipped bundle does (build/build.mjs),
 * so a speaker without TCP MD5 keys never loads it.
 */
async function bundle(entry: string, name: string): Promise<string> {
  const require = createRequire(join(ROOT, 'package.json'))
  const esbuild = require('esbuild') as typeof import('esbuild')
  const outDir = join(ROOT, 'node_modules', '.cache', 'porter-bench')
  mkdirSync(outDir, { recursive: true })
  const out = join(outDir, `${name}.mjs`)
  await esbuild.build({
    entryPoints: [entry], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    packages: 'external', logLevel: 'error', sourcemap: 'inline', // names in --cpu-prof profiles
    plugins: [{
      name: 'lazy-koffi',
      setup(b) {
        b.onResolve({ filter: /^koffi$/ }, () => ({ path: 'koffi', namespace: 'lazy-koffi' }))
        b.onLoad({ filter: /.*/, namespace: 'lazy-koffi' }, () => ({
          loader: 'js',
          contents: `import { createRequire } from 'node:module'\n` +
            `let real\nconst get = () => (real ??= createRequire(${JSON.stringify(join(ROOT, 'package.json'))})('koffi'))\n` +
            'export default new Proxy({}, { get: (_t, k) => get()[k] })\n',
        }))
      },
    }],
  })
  return out
}

function spawnDriver(lab: Lab, ns: string, script: string, cfg: DriverConfig, label: string, nodeArgs: string[] = []): LineChild {
  const logFile = join(lab.dir, `${label}.log`)
  const fd = openSync(logFile, 'a')
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...nodeArgs, script, JSON.stringify(cfg)], {
    stdio: ['pipe', 'pipe', fd],
  })
  closeSync(fd)
  return new LineChild(child, logFile)
}

const driverCfg: DriverConfig = {
  n: N, localAs: SPEAKER_AS, peerAs: ROUTER_AS, routerId: SPEAKER_IP, peerAddress: ROUTER_IP,
  nextHop: SPEAKER_IP, holdTime: HOLD, addPath: ADD_PATH,
}

/** Porter driver or the floor: both speak the same line protocol. */
async function runLineSpeaker(lab: Lab, r: string, s: string, ctl: BirdCtl, name: string, script: string, nodeArgs: string[] = [], profDir?: string): Promise<RunResult> {
  const before = profDir ? new Set(readdirSync(profDir)) : new Set<string>()
  const rx0 = await rx(lab, r)
  const d = spawnDriver(lab, s, script, driverCfg, name, nodeArgs)
  const pid = d.child.pid!
  const ready = await d.wait('ready', 120_000)
  const est = await d.wait('established', 60_000)
  const done = await pollImported(ctl, (n) => n >= N, `${N} routes imported from ${name}`)
  const rx1 = await rx(lab, r)
  const notes = [`${done.polls} polls until all imported`]
  const tEst = startOf(done.since, est.t as number, notes)
  await sleep(500) // let both sides go idle before the withdrawal
  const sent = d.events.find((e) => e.ev === 'sent')
  if (sent) notes.push(`End-of-RIB written ${((sent.t as number) - tEst).toFixed(0)} ms after Established` +
    (sent.rssMB !== undefined ? `; then RSS ${(sent.rssMB as number).toFixed(0)} MB, V8 heap ${(sent.heapUsedMB as number).toFixed(0)} of ${(sent.heapTotalMB as number).toFixed(0)} MB` : ''))
  const rx2 = await rx(lab, r)
  const tW = now()
  d.send('withdraw')
  const gone = await pollImported(ctl, (n) => n === 0, `0 routes from ${name}`)
  const rx3 = await rx(lab, r)
  const mem = vm(pid)
  d.send('quit')
  const bye = await d.wait('bye', 15_000)
  const code = await d.exited
  if (code !== 0) throw new Error(`${name} exited with ${code}; see ${d.logFile}`)
  const wd = d.events.find((e) => e.ev === 'withdrawing')
  const started = d.events.find((e) => e.ev === 'started')
  const prepare = (ready.setMs as number) + ((started?.startMs as number | undefined) ?? 0)
  if (name === 'porter') notes.push(`new Speaker + set(${N}) ${(ready.setMs as number).toFixed(0)} ms, start() (builds the peer's RIB) ${(started?.startMs as number ?? NaN).toFixed(0)} ms; set([]) ${(wd?.setMs as number ?? NaN).toFixed(0)} ms`)
  const res: RunResult = {
    speaker: name,
    round: 0,
    push: done.t - tEst,
    pushFromSpeaker: done.t - (est.t as number),
    withdraw: gone.t - tW,
    peakRss: Math.max(mem.hwmKB, bye.vmHwmKB as number) / 1024,
    wire: { push: delta(rx0, rx1), withdraw: delta(rx2, rx3) },
    prepare,
    notes,
  }
  if (profDir) {
    const file = readdirSync(profDir).find((f) => !before.has(f) && f.endsWith('.cpuprofile'))
    if (file) {
      const path = join(profDir, file)
      // hr: the driver's microsecond clock (the profile's); t: epoch ms. Map the windows across.
      const hrAt = (t: number) => (est.hr as number) + (t - (est.t as number)) * 1000
      const windows = [
        { name: 'start -> Established (Speaker, RIB, connect, OPEN)', fromUs: 0, toUs: est.hr as number },
        { name: `push: Established -> BIRD has all ${N}`, fromUs: hrAt(tEst), toUs: hrAt(done.t) },
        { name: `withdraw: set([]) -> BIRD has 0`, fromUs: wd ? (wd.hr as number) : hrAt(tW), toUs: hrAt(gone.t) },
      ]
      res.profile = `cpu profile ${path}\n${summarize(path, windows).map(formatSummary).join('\n')}`
    }
  }
  return res
}

async function runGobgp(lab: Lab, r: string, s: string, ctl: BirdCtl, mrtFile: string): Promise<RunResult> {
  const spec: GobgpSpec = {
    ns: s, as: SPEAKER_AS, routerId: SPEAKER_IP, listenPort: 179,
    peers: [{ address: ROUTER_IP, as: ROUTER_AS, passive: false, holdTime: HOLD, addPathRx: false, addPathTx: ADD_PATH }],
  }
  const g = new Gobgp(lab, spec, 'gobgp-bench')
  // admin-down: the session stays down while the RIB is loaded; `neighbor enable` brings it up
  const toml = renderGobgpConfig(spec).replace(`    peer-as = ${ROUTER_AS}\n`, `    peer-as = ${ROUTER_AS}\n    admin-down = true\n`)
  if (!toml.includes('admin-down = true')) throw new Error('could not mark the gobgpd neighbour admin-down')
  if (ADD_PATH) writeFileSync(g.configFile, toml.replace('send-max = 8', 'send-max = 1'))
  else writeFileSync(g.configFile, toml)
  await g.start()
  const pid = g.pid!
  const t0 = now()
  // inject until the RIB holds all N (see lib/mrt.ts on the CLI's lost tail; the file is padded)
  let injects = 0
  let have = 0
  const count = async (): Promise<number> => {
    const r = await g.cli(['global', 'rib', 'summary', '-a', 'ipv4'])
    const m = /Destination:\s*(\d+),\s*Path:\s*(\d+)/.exec(r.stdout)
    return m && m[1] === m[2] ? Number(m[1]) : -1
  }
  while (have < N && injects < 5) {
    injects++
    await g.cli(['mrt', 'inject', 'global', mrtFile])
    // AddPathStream returned; wait until the RIB stops growing
    let last = -2
    for (;;) {
      have = await count()
      if (have === last) break
      last = have
      await sleep(200)
    }
  }
  if (have !== N) throw new Error(`gobgpd global RIB holds ${have} paths after ${injects} MRT injections, expected ${N}`)
  const prepare = now() - t0
  // the neighbour's state changes, as a stream
  const monLog = join(lab.dir, 'gobgp-monitor.log')
  const mon = spawn('ip', ['netns', 'exec', s, 'gobgp', '-u', '127.0.0.1', '-p', String(g.apiPort), 'monitor', 'neighbor', ROUTER_IP, '-j'],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  const monLines: string[] = []
  let tEst: number | undefined
  createInterface({ input: mon.stderr! }).on('line', (l) => monLines.push(`stderr: ${l}`))
  createInterface({ input: mon.stdout! }).on('line', (l) => {
    monLines.push(l)
    if (tEst !== undefined) return
    const st = (() => { try { return (JSON.parse(l) as { state?: { session_state?: unknown } }).state?.session_state } catch { return undefined } })()
    if (st === 6 || /established/i.test(String(st))) tEst = now()
  })
  await sleep(300) // the monitor stream is open
  const rx0 = await rx(lab, r)
  await g.cli(['neighbor', ROUTER_IP, 'enable'])
  try {
    await waitFor(() => tEst, { timeoutMs: 60_000, intervalMs: 5, what: 'gobgpd neighbour Established (gobgp monitor neighbor)' })
  } finally {
    writeFileSync(monLog, monLines.join('\n') + '\n')
  }
  const done = await pollImported(ctl, (n) => n >= N, `${N} routes imported from gobgpd`)
  const rx1 = await rx(lab, r)
  mon.kill()
  const notes = [`${done.polls} polls until all imported`, `${injects} x mrt inject, RIB complete after ${prepare.toFixed(0)} ms`]
  const start = startOf(done.since, tEst!, notes)
  await sleep(500)
  const rx2 = await rx(lab, r)
  const tW = now()
  const del = g.cli(['global', 'rib', '-a', 'ipv4', 'del', 'all'])
  const gone = await pollImported(ctl, (n) => n === 0, '0 routes from gobgpd')
  await del
  notes.push(`\`gobgp global rib -a ipv4 del all\` returned after ${(now() - tW).toFixed(0)} ms`)
  const rx3 = await rx(lab, r)
  const mem = vm(pid)
  await g.stop()
  return {
    speaker: 'gobgpd',
    round: 0,
    push: done.t - start,
    pushFromSpeaker: done.t - tEst!,
    withdraw: gone.t - tW,
    peakRss: mem.hwmKB / 1024,
    wire: { push: delta(rx0, rx1), withdraw: delta(rx2, rx3) },
    prepare,
    notes,
  }
}

function table(rows: RunResult[]): string {
  const L: string[] = []
  const cols: [string, number, (r: RunResult) => string][] = [
    ['push (s)', 9, (r) => (r.push / 1000).toFixed(3)],
    ['withdraw (s)', 13, (r) => (r.withdraw / 1000).toFixed(3)],
    ['peak RSS (MB)', 14, (r) => r.peakRss.toFixed(1)],
    ['push*(s)', 9, (r) => (r.pushFromSpeaker === undefined ? '-' : (r.pushFromSpeaker / 1000).toFixed(3))],
    ['push KB/pkts', 15, (r) => `${(r.wire.push.bytes / 1024).toFixed(0)}/${r.wire.push.packets.toFixed(0)}`],
    ['withdraw KB/pkts', 17, (r) => `${(r.wire.withdraw.bytes / 1024).toFixed(0)}/${r.wire.withdraw.packets.toFixed(0)}`],
    ['prepare (s)', 12, (r) => (r.prepare / 1000).toFixed(3)],
  ]
  L.push(`${'speaker'.padEnd(8)} ${cols.map(([h, w]) => h.padStart(w)).join(' ')}`)
  for (const r of rows) L.push(`${r.speaker.padEnd(8)} ${cols.map(([, w, f]) => f(r).padStart(w)).join(' ')}`)
  L.push('')
  L.push('push: BIRD\'s Established -> BIRD has imported all N; push*: the same from the speaker\'s own Established')
  L.push('withdraw: trigger (porter: set([]) command; gobgpd: `gobgp global rib -a ipv4 del all` started) -> BIRD has 0')
  L.push('KB/pkts: bytes and packets BIRD\'s interface received in that phase (TCP/IP headers included)')
  return L.join('\n')
}

async function main(): Promise<void> {
  const lab = createLab()
  const results: RunResult[] = []
  let ctl: BirdCtl | undefined
  try {
    const r = await lab.ns('r')
    const s = await lab.ns('s')
    await lab.veth({ ns: r, ifname: 'eth0' }, { ns: s, ifname: 'eth0' })
    await lab.addr(r, 'eth0', `${ROUTER_IP}/24`)
    await lab.addr(s, 'eth0', `${SPEAKER_IP}/24`)
    const bird = new Bird(lab, birdSpec(r))
    const driver = await bundle(join(HERE, 'lib', 'bgp-driver.ts'), 'bgp-driver')
    const blast = await bundle(join(HERE, 'lib', 'bgp-blast.ts'), 'bgp-blast')
    const mrtFile = join(lab.dir, 'rib.mrt')
    const mrtBytes = writeMrtRib(mrtFile, { peerId: SPEAKER_IP, peerAs: SPEAKER_AS, nextHop: SPEAKER_IP, hosts: benchPrefixes(N).map((p) => p.slice(0, -3)), pad: 8192 })
    const profDir = join(ROOT, 'node_modules', '.cache', 'porter-bench', 'profiles')
    log(`N=${N}, ADD-PATH ${ADD_PATH ? 'on' : 'off'}, BIRD kernel export ${FIB ? 'on' : 'off'}, poll ${POLL_MS} ms, MRT file ${(mrtBytes / 2 ** 20).toFixed(1)} MiB`)

    const fresh = async (): Promise<BirdCtl> => {
      ctl?.close()
      if (bird.pid) await bird.restart()
      else await bird.start()
      return (ctl = await new BirdCtl(bird.socket).open())
    }
    const check = async (name: string, c: BirdCtl) => {
      const p = await c.protocol(PROTO)
      if (p.imported !== 0) throw new Error(`BIRD did not start empty before ${name}: ${p.imported} imported`)
    }
    for (let round = 1; round <= ROUNDS; round++) for (const which of ONLY) {
      const c = await fresh()
      await check(which, c)
      log(`round ${round}/${ROUNDS}, ${which}: running (load average ${loadavg().map((x) => x.toFixed(2)).join(' ')})`)
      let res: RunResult
      if (which === 'porter') {
        const nodeArgs = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=250'] : []
        if (CPU_PROF) mkdirSync(profDir, { recursive: true })
        res = await runLineSpeaker(lab, r, s, c, 'porter', driver, nodeArgs, CPU_PROF ? profDir : undefined)
      } else if (which === 'gobgp') {
        res = await runGobgp(lab, r, s, c, mrtFile)
      } else {
        res = await runLineSpeaker(lab, r, s, c, 'floor', blast)
      }
      const st = await c.protocol(PROTO)
      res.round = round
      res.notes.push(`BIRD's protocol after the run: ${st.info}`)
      log(`${which}: push ${(res.push / 1000).toFixed(3)} s, withdraw ${(res.withdraw / 1000).toFixed(3)} s, peak RSS ${res.peakRss.toFixed(1)} MB`)
      results.push(res)
    }
  } finally {
    ctl?.close()
    await lab.cleanup()
  }

  console.log(`\nBGP push benchmark: N=${N} IPv4 /32 from 198.18.0.0/15 to BIRD 2, one next hop each, ` +
    `ADD-PATH ${ADD_PATH ? 'on' : 'off'}, hold time ${HOLD} s, BIRD kernel export ${FIB ? 'on' : 'off'}, poll ${POLL_MS} ms, ` +
    `node ${process.version}, ${cpus().length} CPUs`)
  for (let round = 1; round <= ROUNDS; round++) {
    const rows = results.filter((r) => r.round === round)
    if (rows.length === 0) continue
    console.log(`\n${ROUNDS > 1 ? `round ${round}` : ''}`)
    console.log(table(rows))
    console.log('')
    for (const r of rows) for (const n of r.notes) console.log(`  ${r.speaker}: ${n}`)
    for (const r of rows) if (r.profile) console.log(`\n${r.speaker} ${r.profile}`)
  }
  const median = (xs: number[]): number => { const a = [...xs].sort((x, y) => x - y); return a.length % 2 ? a[a.length >> 1]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2 }
  const med = (speaker: string): RunResult | undefined => {
    const rs = results.filter((r) => r.speaker === speaker)
    if (rs.length === 0) return undefined
    return { ...rs[0]!, push: median(rs.map((r) => r.push)), withdraw: median(rs.map((r) => r.withdraw)), peakRss: median(rs.map((r) => r.peakRss)),
      pushFromSpeaker: median(rs.map((r) => r.pushFromSpeaker ?? NaN)), prepare: median(rs.map((r) => r.prepare)), notes: [],
      wire: {
        push: { bytes: median(rs.map((r) => r.wire.push.bytes)), packets: median(rs.map((r) => r.wire.push.packets)) },
        withdraw: { bytes: median(rs.map((r) => r.wire.withdraw.bytes)), packets: median(rs.map((r) => r.wire.withdraw.packets)) },
      } }
  }
  const p = med('porter')
  const g = med('gobgpd')
  const f = med('floor')
  if (ROUNDS > 1) {
    console.log(`\nmedians of ${ROUNDS} rounds`)
    console.log(table([p, g, f].filter((x): x is RunResult => !!x)).split('\n\n')[0])
  }
  const verdict: Record<string, unknown> = {}
  if (p && g) {
    const push = p.push / g.push
    const wd = p.withdraw / g.withdraw
    const mem = p.peakRss / g.peakRss
    const yes = (b: boolean) => (b ? 'met' : 'NOT met')
    console.log(`\nPorter / GoBGP${ROUNDS > 1 ? ' (medians)' : ''}:`)
    console.log(`  push      ${push.toFixed(2)}  (target <= 0.50: ${yes(push <= 0.5)})`)
    console.log(`  withdraw  ${wd.toFixed(2)}  (target <= 0.50: ${yes(wd <= 0.5)})`)
    console.log(`  peak RSS  ${mem.toFixed(2)}  (target <= 1.00: ${yes(mem <= 1)})`)
    Object.assign(verdict, { push, withdraw: wd, peakRss: mem })
    if (f) {
      console.log(`\nBIRD's floor (pre-encoded bytes): push ${(f.push / 1000).toFixed(3)} s = ${(f.push / g.push).toFixed(2)} x GoBGP` +
        `${f.push > 0.5 * g.push ? ' -- above half of GoBGP: the push target cannot be met against this BIRD' : ''}; withdraw ${(f.withdraw / 1000).toFixed(3)} s`)
      console.log(`Porter above the floor: push +${((p.push - f.push) / 1000).toFixed(3)} s, withdraw +${((p.withdraw - f.withdraw) / 1000).toFixed(3)} s`)
    }
  }
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ n: N, addPath: ADD_PATH, fib: FIB, pollMs: POLL_MS, rounds: ROUNDS, results, medians: { porter: p, gobgpd: g, floor: f }, ratios: verdict }, null, 2))
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e)
  process.exitCode = 1
})
