// The push lab shared by the BGP benchmarks (bgp-push.ts: the library's Speaker; binary.ts: the
// built dist/porter): two namespaces joined by a veth, `r` with BIRD 2 (ROUTER_IP, AS ROUTER_AS,
// passive) and `s` with the speaker (SPEAKER_IP, AS SPEAKER_AS); BIRD polled over its control
// socket; and the reference speakers run against the same BIRD: gobgpd (routes preloaded from an
// MRT file, then `neighbor enable`) and the floor (pre-encoded UPDATEs, lib/bgp-blast.ts), plus
// the library driver (lib/bgp-driver.ts). See test/bench/README.md for what each measures.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { openSync, closeSync, readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, dirname } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { waitFor, type Lab } from '../../e2e/lib/netns.ts'
import { Gobgp, renderGobgpConfig, type GobgpSpec } from '../../e2e/lib/gobgp.ts'
import { BirdCtl } from './birdctl.ts'
import { summarize, formatSummary } from './cpuprofile.ts'
import type { DriverConfig } from './bgp-driver.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..', '..', '..')

/** what every speaker pushes, and how BIRD is set up */
export interface PushSetup {
  /** prefixes (IPv4 /32 from 198.18.0.0/15) */
  n: number
  /** ADD-PATH negotiated (BIRD `add paths rx`) */
  addPath: boolean
  /** BIRD exports to its namespace's kernel FIB */
  fib: boolean
  /** BIRD poll interval, ms */
  pollMs: number
}

export const ROUTER_AS = 65001
export const SPEAKER_AS = 65002
export const ROUTER_IP = '192.0.2.1'
export const SPEAKER_IP = '192.0.2.2'
export const HOLD = 90
export const PROTO = 'speaker'


export const now = (): number => performance.timeOrigin + performance.now()
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
export const log = (s: string): void => { process.stderr.write(`bench: ${s}\n`) }

export interface RunResult {
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
  /** MiB, VmRSS right after the push (FRR speaker: bgpd) */
  rss?: number
  /** MiB, zebra's VmHWM (FRR speaker: the daemon that holds the routes it redistributes) */
  peakRssZebra?: number
  /** bytes and packets BIRD's interface received during the push and the withdrawal */
  wire: { push: Counter; withdraw: Counter }
  /** ms: preparing the routes before the session (Porter: set() + start(), which builds the peer's RIB; gobgpd: MRT inject until the RIB is complete; floor: encoding) */
  prepare: number
  notes: string[]
  profile?: string
}

export interface Counter { bytes: number; packets: number }

// ---- BIRD ----
/** The two namespaces of the lab: `r` (the router, ROUTER_IP) and `s` (the speaker, SPEAKER_IP) on one veth. */
export async function pushLab(lab: Lab): Promise<{ r: string; s: string }> {
  const r = await lab.ns('r')
  const s = await lab.ns('s')
  await lab.veth({ ns: r, ifname: 'eth0' }, { ns: s, ifname: 'eth0' })
  await lab.addr(r, 'eth0', `${ROUTER_IP}/24`)
  await lab.addr(s, 'eth0', `${SPEAKER_IP}/24`)
  return { r, s }
}

export function birdSpec(r: string, setup: PushSetup) {
  return {
    ns: r, as: ROUTER_AS, routerId: ROUTER_IP,
    // microsecond protocol times, so "since" can cross-check the speaker's Established time
    extra: ['timeformat protocol "%F %T.%6f";'],
    kernelExtra: setup.fib ? [] : ['disabled on;'],
    peers: [{ name: PROTO, address: SPEAKER_IP, as: SPEAKER_AS, passive: true, holdTime: HOLD, addPathRx: setup.addPath }],
  }
}

/** Epoch ms of BIRD's "since" for the protocol ("2025-01-02 03:04:05.123456", local time). */
export function birdSince(since: string): number | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?/.exec(since)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, frac] = m
  const base = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)).getTime()
  return base + (frac ? Number(`0.${frac}`) * 1000 : 0)
}

/** Poll BIRD until `pred(imported)`; returns the time the satisfying reply arrived. */
export async function pollImported(ctl: BirdCtl, pred: (n: number) => boolean, what: string, pollMs = 20, timeoutMs = 120_000): Promise<{ t: number; polls: number; state: string; since: string }> {
  const deadline = now() + timeoutMs
  let polls = 0
  for (;;) {
    const p = await ctl.protocol(PROTO)
    const t = now()
    polls++
    if (pred(p.imported)) return { t, polls, state: p.state, since: p.since }
    if (t > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for BIRD: ${what} (imported ${p.imported}, state ${p.state})`)
    await sleep(pollMs)
  }
}

/** `--env=NAME=VALUE` options (repeatable) of a benchmark's command line: added to porter's environment */
export function envOptions(args: readonly string[]): Record<string, string> {
  return Object.fromEntries(args.filter((a) => a.startsWith('--env=')).map((a) => {
    const kv = a.slice(6)
    const i = kv.indexOf('=')
    if (i < 1) throw new Error(`--env must be NAME=VALUE, got "${kv}"`)
    return [kv.slice(0, i), kv.slice(i + 1)]
  }))
}

/** "NAME=VALUE NAME=VALUE" for a report ('' when none) */
export const envText = (env: Readonly<Record<string, string>>): string => Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')

/** `e` with the last lines of a speaker's log: a run that failed says what the speaker said */
export function withLogTail(e: unknown, logFile: string, what: string): Error {
  let tail = ''
  try { tail = readFileSync(logFile, 'utf8').split('\n').slice(-10).join('\n') } catch { /* no log */ }
  return new Error(`${e instanceof Error ? e.message : String(e)}\n${what} log tail:\n${tail}`)
}

/**
 * A process's VmRSS and VmHWM, and the RSS split: anonymous (heap, stacks: all that data such as
 * routes can take) and file-backed (the executable's and libraries' pages, shared through the page
 * cache; how many of them a process maps depends on the page cache, see dropPageCache).
 */
export function vm(pid: number): { hwmKB: number; rssKB: number; anonKB: number; fileKB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN)
  return { hwmKB: kb('VmHWM'), rssKB: kb('VmRSS'), anonKB: kb('RssAnon'), fileKB: kb('RssFile') }
}

/**
 * vm() of a daemon once its memory has settled after a burst: from `fromMs` on, once a second no
 * longer lowers the RSS by 1 MiB, at most `fromMs` + 17 s. Porter's heap trimmer acts once the
 * burst is over (later after a 1M push on a busy machine); V8's memory reducer shrinks the young
 * generation about 8 s after the last collection, so readings before ~10 s still hold a few MiB
 * of young generation at small sizes.
 */
export async function settledVm(pid: number, fromMs = 15_000): Promise<ReturnType<typeof vm>> {
  await sleep(fromMs)
  let v = vm(pid)
  for (let i = 0; i < 17; i++) {
    await sleep(1000)
    const next = vm(pid)
    const settled = next.rssKB > v.rssKB - 1024
    v = next
    if (settled) break
  }
  return v
}

/**
 * Drop a file's clean pages from the page cache (`dd iflag=nocache count=0`; pages another running
 * process maps stay): the processes started from it then fault it in as a daemon at boot does.
 * Measured here (kernel 6.18, ext4, idle `porter controller`, same bytes): 59.9 MiB RSS run from
 * dist/porter just written by the build, 52.1 MiB from a fresh `cp` of it, 49.3 MiB from either
 * once dropped, and 49.3 again in the runs after that without dropping: the file-backed pages a
 * fault maps follow the page cache's folios, which depend on how the file was last written, not
 * on porter. Once per benchmark, before the first process: dropped before each start, every start
 * reads the executable from disk again (slower first push, first reload).
 */
export function dropPageCache(file: string): void {
  const r = spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none'], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`dd iflag=nocache ${file}: ${r.stderr || r.error?.message || `status ${r.status}`}`)
}

/** BIRD's interface receive counters (one `ip` spawn; taken only around the phases, never while polling). */
export async function rx(lab: Lab, r: string): Promise<Counter> {
  const j = JSON.parse((await lab.exec(r, ['ip', '-s', '-j', 'link', 'show', 'eth0'])).stdout) as { stats64: { rx: Counter } }[]
  return { bytes: j[0]!.stats64.rx.bytes, packets: j[0]!.stats64.rx.packets }
}
export const delta = (a: Counter, b: Counter): Counter => ({ bytes: b.bytes - a.bytes, packets: b.packets - a.packets })

/** The start of the push: BIRD's Established time when it parses, else the speaker's. */
export function startOf(since: string, speakerEst: number, notes: string[]): number {
  const b = birdSince(since)
  if (b === undefined || Math.abs(b - speakerEst) > 5000) {
    notes.push(`BIRD's Established time "${since}" unusable: timed from the speaker's Established`)
    return speakerEst
  }
  return b
}

// ---- a line-protocol child (Porter driver, floor) ----
export class LineChild {
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
export async function bundle(entry: string, name: string): Promise<string> {
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

export function spawnDriver(lab: Lab, ns: string, script: string, cfg: DriverConfig, label: string, nodeArgs: string[] = []): LineChild {
  const logFile = join(lab.dir, `${label}.log`)
  const fd = openSync(logFile, 'a')
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...nodeArgs, script, JSON.stringify(cfg)], {
    stdio: ['pipe', 'pipe', fd],
  })
  closeSync(fd)
  return new LineChild(child, logFile)
}

const driverCfg = (setup: PushSetup): DriverConfig => ({
  n: setup.n, localAs: SPEAKER_AS, peerAs: ROUTER_AS, routerId: SPEAKER_IP, peerAddress: ROUTER_IP,
  nextHop: SPEAKER_IP, holdTime: HOLD, addPath: setup.addPath,
})

/** Porter driver or the floor: both speak the same line protocol. */
export async function runLineSpeaker(setup: PushSetup, lab: Lab, r: string, s: string, ctl: BirdCtl, name: string, script: string, nodeArgs: string[] = [], profDir?: string): Promise<RunResult> {
  const before = profDir ? new Set(readdirSync(profDir)) : new Set<string>()
  const rx0 = await rx(lab, r)
  const d = spawnDriver(lab, s, script, driverCfg(setup), name, nodeArgs)
  const pid = d.child.pid!
  const ready = await d.wait('ready', 120_000)
  const est = await d.wait('established', 60_000)
  const done = await pollImported(ctl, (n) => n >= setup.n, `${setup.n} routes imported from ${name}`, setup.pollMs)
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
  const gone = await pollImported(ctl, (n) => n === 0, `0 routes from ${name}`, setup.pollMs)
  const rx3 = await rx(lab, r)
  const mem = vm(pid)
  d.send('quit')
  const bye = await d.wait('bye', 15_000)
  const code = await d.exited
  if (code !== 0) throw new Error(`${name} exited with ${code}; see ${d.logFile}`)
  const wd = d.events.find((e) => e.ev === 'withdrawing')
  const started = d.events.find((e) => e.ev === 'started')
  const prepare = (ready.setMs as number) + ((started?.startMs as number | undefined) ?? 0)
  if (name === 'porter') notes.push(`new Speaker + set(${setup.n}) ${(ready.setMs as number).toFixed(0)} ms, start() (builds the peer's RIB) ${(started?.startMs as number ?? NaN).toFixed(0)} ms; set([]) ${(wd?.setMs as number ?? NaN).toFixed(0)} ms`)
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
        { name: `push: Established -> BIRD has all ${setup.n}`, fromUs: hrAt(tEst), toUs: hrAt(done.t) },
        { name: `withdraw: set([]) -> BIRD has 0`, fromUs: wd ? (wd.hr as number) : hrAt(tW), toUs: hrAt(gone.t) },
      ]
      res.profile = `cpu profile ${path}\n${summarize(path, windows).map(formatSummary).join('\n')}`
    }
  }
  return res
}

export async function runGobgp(setup: PushSetup, lab: Lab, r: string, s: string, ctl: BirdCtl, mrtFile: string): Promise<RunResult> {
  const spec: GobgpSpec = {
    ns: s, as: SPEAKER_AS, routerId: SPEAKER_IP, listenPort: 179,
    peers: [{ address: ROUTER_IP, as: ROUTER_AS, passive: false, holdTime: HOLD, addPathRx: false, addPathTx: setup.addPath }],
  }
  const g = new Gobgp(lab, spec, 'gobgp-bench')
  // admin-down: the session stays down while the RIB is loaded; `neighbor enable` brings it up
  const toml = renderGobgpConfig(spec).replace(`    peer-as = ${ROUTER_AS}\n`, `    peer-as = ${ROUTER_AS}\n    admin-down = true\n`)
  if (!toml.includes('admin-down = true')) throw new Error('could not mark the gobgpd neighbour admin-down')
  if (setup.addPath) writeFileSync(g.configFile, toml.replace('send-max = 8', 'send-max = 1'))
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
  while (have < setup.n && injects < 5) {
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
  if (have !== setup.n) throw new Error(`gobgpd global RIB holds ${have} paths after ${injects} MRT injections, expected ${setup.n}`)
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
  const done = await pollImported(ctl, (n) => n >= setup.n, `${setup.n} routes imported from gobgpd`, setup.pollMs)
  const rx1 = await rx(lab, r)
  mon.kill()
  const notes = [`${done.polls} polls until all imported`, `${injects} x mrt inject, RIB complete after ${prepare.toFixed(0)} ms`]
  const start = startOf(done.since, tEst!, notes)
  await sleep(500)
  const rx2 = await rx(lab, r)
  const tW = now()
  const del = g.cli(['global', 'rib', '-a', 'ipv4', 'del', 'all'])
  const gone = await pollImported(ctl, (n) => n === 0, '0 routes from gobgpd', setup.pollMs)
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

export function table(rows: RunResult[]): string {
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

