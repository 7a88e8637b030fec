// Benchmark (run by hand, as root): `node --import tsx test/bench/binary.ts [N] [options]`
//
// The shipped binary, as a user runs it (issue 10): the built `dist/porter` (npm run build first
// when stale, test/lib/dist.ts) with a generated config (lib/vip-config.ts: N IPv4 /32 VIPs from
// 198.18.0.0/15 in one `vips` entry, one next hop), against the push lab of bgp-push.ts
// (lib/push-lab.ts: BIRD 2 in a namespace, kernel export ON, polled over its control socket) and,
// in the same run, gobgpd (MRT-preloaded), the floor (pre-encoded UPDATEs written in one go:
// the router's ingest limit) and a BIRD 2 speaker (lib/bird-speaker.ts: a second BIRD in the
// speaker namespace, the N routes in a static protocol) and FRR bgpd (lib/frr-speaker.ts: zebra +
// bgpd in the speaker namespace, the N routes redistributed from its kernel table). Phases:
//   start-up   `node -e 0`, `porter version`, `porter validate` (small config) and `porter status`
//              (against the running controller): wall and CPU (user+sys) medians of --runs
//   load       `porter validate` of the N-VIP config: wall, CPU, peak RSS (/usr/bin/time)
//   memory     `porter controller` with 0 VIPs (idle, session Established) and with each of
//              --sizes VIPs: RSS once settled after BIRD has them all (push-lab.ts settledVm: from
//              15 s on), its anonymous part, and VmHWM; bytes per route above idle. The executable
//              is dropped from the page cache once before the first phase (push-lab.ts
//              dropPageCache): the processes then fault it in as at boot, and the RSS of the same
//              bytes no longer depends on how the file was last written
//   push       BIRD's Established -> BIRD has imported all N (porter, gobgpd, floor, BIRD and FRR speakers)
//   change     SIGHUP with one VIP of N replaced -> BIRD has the new one and not the old one;
//              routes and packets BIRD received in that window
//   withdraw   SIGHUP with `vips: []` (gobgpd: `gobgp global rib del all`; floor: its withdrawal
//              bytes; BIRD speaker: `configure` with an empty static protocol; FRR speaker:
//              `no redistribute kernel`) -> BIRD has 0
// Prints the figures, the ratios and the targets of issue 10.
//
// Options:
//   --rounds=K       repeat the lab phases K times (default 1); the verdict uses medians
//   --memory-rounds=M  at least M readings of the idle controller and of each size below N
//                    (default K): the rounds after the K-th run only those (a few hundred KiB of
//                    growth at 1k moves by ~100 KiB from process to process)
//   --sizes=a,b,c    VIP counts for the memory phase (default 1000,10000,N)
//   --runs=R         start-up runs per command (default 15)
//   --only=a,b       of startup,load,porter,gobgp,floor,bird,frr (default all)
//   --poll=MS        BIRD poll interval (default 20; 5 in the change phase)
//   --no-fib         BIRD's kernel protocols disabled
//   --json=FILE      also write the results as JSON
//   --bin=PATH       this executable instead of the built dist/porter (old and new builds side by side)
//   --env=NAME=VALUE set in porter's environment (repeatable), e.g. the systemd unit's MALLOC_ARENA_MAX=1
import { spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLab, waitFor, type Lab } from '../e2e/lib/netns.ts'
import { Bird } from '../e2e/lib/bird.ts'
import { builtPorter } from '../lib/dist.ts'
import { BirdCtl } from './lib/birdctl.ts'
import { runBirdSpeaker } from './lib/bird-speaker.ts'
import { runFrrSpeaker } from './lib/frr-speaker.ts'
import { writeMrtRib } from './lib/mrt.ts'
import { benchPrefixes, hostAt, BENCH_MAX } from './lib/prefixes.ts'
import { vipConfig } from './lib/vip-config.ts'
import {
  type PushSetup, type RunResult, PROTO, ROUTER_AS, ROUTER_IP, SPEAKER_AS, SPEAKER_IP,
  now, sleep, log, birdSpec, pollImported, vm, settledVm, dropPageCache, rx, delta, startOf, bundle, runLineSpeaker, runGobgp,
  pushLab, envOptions, envText,
} from './lib/push-lab.ts'

const HERE = dirname(fileURLToPath(import.meta.url))

// ---- arguments ----
const args = process.argv.slice(2)
const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const N = Number(args.find((a) => !a.startsWith('--')) ?? 100_000)
const ROUNDS = Number(opt('rounds') ?? 1)
const MEMORY_ROUNDS = Math.max(ROUNDS, Number(opt('memory-rounds') ?? ROUNDS))
const RUNS = Number(opt('runs') ?? 15)
const POLL_MS = Number(opt('poll') ?? 20)
const FIB = !args.includes('--no-fib')
const PHASES = ['startup', 'load', 'porter', 'gobgp', 'floor', 'bird', 'frr']
const ONLY = (opt('only') ?? PHASES.join(',')).split(',')
const SIZES = (opt('sizes') ?? `1000,10000,${N}`).split(',').map(Number)
const JSON_OUT = opt('json')
const BIN = opt('bin')
/** --env=NAME=VALUE (repeatable): added to the environment of every porter process */
const PORTER_ENV = envOptions(args)
if (!Number.isInteger(N) || N < 2 || N >= BENCH_MAX) throw new Error(`N must be an integer from 2 to ${BENCH_MAX - 1}, got "${args[0]}"`)
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds must be a positive integer, got "${opt('rounds')}"`)
if (!Number.isInteger(MEMORY_ROUNDS)) throw new Error(`--memory-rounds must be a positive integer, got "${opt('memory-rounds')}"`)
for (const o of ONLY) if (!PHASES.includes(o)) throw new Error(`--only: unknown phase "${o}"`)
for (const s of SIZES) if (!Number.isInteger(s) || s < 1 || s > N) throw new Error(`--sizes: each size must be from 1 to N (${N}), got "${s}"`)

const setup: PushSetup = { n: N, addPath: false, fib: FIB, pollMs: POLL_MS }
const MiB = 1024 * 1024
const median = (xs: number[]): number => {
  const a = xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y)
  if (a.length === 0) return NaN
  return a.length % 2 ? a[a.length >> 1]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2
}

// ---- one command, timed: wall (hrtime around the spawn), CPU and peak RSS (/usr/bin/time) ----
interface Timed { wallMs: number; cpuMs: number; maxRssKB: number; code: number | null }
function timed(cmd: string[], dir: string): Timed {
  const out = join(dir, 'time.out')
  const t0 = process.hrtime.bigint()
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', out, ...cmd], { stdio: 'ignore', env: { PATH: process.env.PATH, HOME: dir, LANG: 'C' } })
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.error) throw new Error(`/usr/bin/time is needed (Debian package "time"): ${r.error.message}`)
  const last = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
  return { wallMs, cpuMs: (last[0]! + last[1]!) * 1000, maxRssKB: last[2]!, code: r.status }
}

/** Interleaved runs of each command; medians. */
function startup(cmds: Record<string, string[]>, runs: number, dir: string): Record<string, { wallMs: number; cpuMs: number; rssMiB: number; codes: string }> {
  const all: Record<string, Timed[]> = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]))
  for (const c of Object.values(cmds)) timed(c, dir) // warm the page cache
  for (let i = 0; i < runs; i++) for (const [k, c] of Object.entries(cmds)) all[k]!.push(timed(c, dir))
  return Object.fromEntries(Object.entries(all).map(([k, ts]) => [k, {
    wallMs: median(ts.map((t) => t.wallMs)), cpuMs: median(ts.map((t) => t.cpuMs)), rssMiB: median(ts.map((t) => t.maxRssKB)) / 1024,
    codes: [...new Set(ts.map((t) => t.code))].join('/'),
  }]))
}

// ---- porter controller in the lab ----
interface PorterRun {
  n: number
  round: number
  /** spawn -> "controller started" logged (config read, speaker and RIB built, admin socket open) */
  loadMs: number
  /** the V8 tier of its "controller started" line (cmd/porter/heap.ts) */
  tier: string
  /** BIRD's Established -> BIRD has all n */
  pushMs: number
  rssMiB: number
  /** the anonymous part of rssMiB */
  anonMiB: number
  hwmMiB: number
  /** only for the full N */
  change?: { ms: number; updates: number; withdraws: number; packets: number }
  withdrawMs?: number
  withdrawWire?: { bytes: number; packets: number }
  notes: string[]
}

/** BIRD's route-change counters for the protocol: Import updates / withdraws, "received" column. */
async function importStats(ctl: BirdCtl): Promise<{ updates: number; withdraws: number }> {
  const lines = await ctl.cmd(`show protocols all ${PROTO}`)
  const col = (re: RegExp) => Number(lines.map((l) => re.exec(l)?.[1]).find((x) => x !== undefined) ?? NaN)
  return { updates: col(/Import updates:\s+(\d+)/), withdraws: col(/Import withdraws:\s+(\d+)/) }
}

async function hasRoute(ctl: BirdCtl, prefix: string): Promise<boolean> {
  const lines = await ctl.cmd(`show route ${prefix} protocol ${PROTO}`)
  // the route is a continuation line of the 1007 table reply; "8001 Network not found" otherwise
  return !lines.some((l) => l.startsWith('8001')) && lines.some((l) => l.includes(prefix))
}

class Controller {
  child: ChildProcess | undefined
  readonly socket: string
  readonly configFile: string
  constructor(readonly lab: Lab, readonly ns: string, readonly binary: string, readonly dir: string) {
    this.socket = join(dir, 'porter.sock')
    this.configFile = join(dir, 'porter.yaml')
  }
  write(n: number, host?: (i: number) => string): void {
    writeFileSync(this.configFile, vipConfig({
      n, host, localAs: SPEAKER_AS, routerId: SPEAKER_IP, peerAddress: ROUTER_IP, peerAs: ROUTER_AS, nextHop: SPEAKER_IP,
      passive: false, addPath: false, adminSocket: this.socket,
    }))
  }
  /** spawn -> the "controller started" log line (the config read, the speaker and its RIB built) */
  async start(label: string): Promise<number> {
    const t0 = now()
    const logFile = join(this.lab.dir, `${label}.log`)
    this.child = this.lab.spawn(this.ns, [this.binary, 'controller', '--config', this.configFile], { label, logFile, env: { ...process.env, ...PORTER_ENV } })
    const started = () => { try { return readFileSync(logFile, 'utf8').includes('"msg":"controller started"') || undefined } catch { return undefined } }
    await waitFor(started, { timeoutMs: 180_000, intervalMs: 10, what: `porter's "controller started" (${logFile})` })
    return now() - t0
  }
  /** the "tier" field of the "controller started" line */
  tier(label: string): string {
    const line = readFileSync(join(this.lab.dir, `${label}.log`), 'utf8').split('\n').find((l) => l.includes('"msg":"controller started"'))
    return (line && (JSON.parse(line) as { tier?: string }).tier) ?? '?'
  }
  get pid(): number { return this.child!.pid! }
  hup(): void { this.child!.kill('SIGHUP') }
  async stop(): Promise<void> { if (this.child) await this.lab.kill(this.child, 'SIGTERM', 10_000); this.child = undefined }
}

async function runPorter(lab: Lab, r: string, s: string, ctl: BirdCtl, binary: string, dir: string, n: number, round: number, full: boolean): Promise<PorterRun> {
  const p = new Controller(lab, s, binary, dir)
  p.write(n)
  const notes: string[] = []
  const label = `porter-${n}-r${round}`
  const loadMs = await p.start(label)
  /** porter's "config reloaded" log lines: epoch ms (its own clock: the same host) and its read / apply split */
  const reloads = (): { at: number; readMs: number; applyMs: number }[] => readFileSync(join(lab.dir, `${label}.log`), 'utf8').split('\n')
    .filter((l) => l.includes('"msg":"config reloaded"')).map((l) => {
      const j = JSON.parse(l) as { time: string; readMs: number; applyMs: number }
      return { at: Date.parse(j.time), readMs: j.readMs, applyMs: j.applyMs }
    })
  /** "N ms after the signal (read R + apply A)" for the reload after the first `before` ones (waits up to 30 s for it) */
  const reloadedAfter = async (before: number, t0: number): Promise<string> => {
    const r = await waitFor(() => reloads()[before], { timeoutMs: 30_000, intervalMs: 20, what: 'porter\'s "config reloaded"' }).catch(() => undefined)
    return r ? `${(r.at - t0).toFixed(0)} ms after the signal (read ${r.readMs} + apply ${r.applyMs} ms)` : 'not seen'
  }
  try {
    const est = await pollImported(ctl, (k) => k >= n, `${n} routes imported from porter`, POLL_MS)
    const tEst = startOf(est.since, est.t, notes)
    const mem = await settledVm(p.pid)
    const res: PorterRun = { n, round, loadMs, tier: p.tier(label), pushMs: est.t - tEst, rssMiB: mem.rssKB / 1024, anonMiB: mem.anonKB / 1024, hwmMiB: mem.hwmKB / 1024, notes }
    notes.push(`after the push: RSS ${res.rssMiB.toFixed(1)} MiB, VmHWM ${res.hwmMiB.toFixed(1)} MiB`)
    if (!full) return res
    // one VIP replaced: the last address becomes the next one of the range
    const oldP = `${hostAt(n - 1)}/32`
    const newP = `${hostAt(n)}/32`
    p.write(n, (i) => (i === n - 1 ? hostAt(n) : hostAt(i)))
    const st0 = await importStats(ctl)
    const rx0 = await rx(lab, r)
    const n0 = reloads().length
    const t0 = now()
    p.hup()
    let done = 0
    for (;;) {
      if ((await hasRoute(ctl, newP)) && !(await hasRoute(ctl, oldP))) { done = now(); break }
      if (now() - t0 > 60_000) {
        const show = async (x: string) => (await ctl.cmd(`show route ${x} protocol ${PROTO}`)).join(' | ')
        throw new Error(`SIGHUP with one VIP changed: BIRD did not get ${newP} instead of ${oldP} within 60 s: ${await show(newP)}; ${await show(oldP)}; see ${lab.dir}`)
      }
      await sleep(2)
    }
    const rx1 = await rx(lab, r)
    const st1 = await importStats(ctl)
    res.change = { ms: done - t0, updates: st1.updates - st0.updates, withdraws: st1.withdraws - st0.withdraws, packets: delta(rx0, rx1).packets }
    await sleep(500)
    notes.push(`one-VIP SIGHUP: porter logged "config reloaded" ${await reloadedAfter(n0, t0)}, BIRD had the change after ${res.change.ms.toFixed(0)} ms`)
    // withdraw all
    p.write(0)
    const rx2 = await rx(lab, r)
    const n1 = reloads().length
    const t1 = now()
    p.hup()
    const gone = await pollImported(ctl, (k) => k === 0, '0 routes from porter', POLL_MS)
    res.withdrawMs = gone.t - t1
    res.withdrawWire = delta(rx2, await rx(lab, r))
    res.hwmMiB = vm(p.pid).hwmKB / 1024
    await sleep(200)
    notes.push(`withdraw-all SIGHUP: porter logged "config reloaded" ${await reloadedAfter(n1, t1)}, BIRD had 0 after ${res.withdrawMs.toFixed(0)} ms; VmHWM at the end ${res.hwmMiB.toFixed(1)} MiB`)
    return res
  } finally {
    await p.stop()
  }
}

type Started = ReturnType<typeof startup>[string]
async function idlePorter(lab: Lab, ctl: BirdCtl, s: string, binary: string, dir: string, statusRuns: number): Promise<{ rssMiB: number; anonMiB: number; hwmMiB: number; status?: { node: Started; status: Started } }> {
  const p = new Controller(lab, s, binary, dir)
  p.write(0)
  await p.start('porter-idle')
  try {
    await waitFor(async () => ((await ctl.protocol(PROTO)).state === 'Established' ? true : undefined), { timeoutMs: 60_000, intervalMs: 20, what: 'BIRD Established with the idle porter' })
    const mem = await settledVm(p.pid)
    // with its own `node -e 0`, interleaved: this runs minutes after the start-up phase, with the
    // lab up, and the machine's speed moves between the two (its ratio was once 1.26 here against
    // 1.16-1.19 beside a node -e 0 of the same minute)
    const st = statusRuns > 0 ? startup({ node: [process.execPath, '-e', '0'], status: [binary, 'status', '--socket', p.socket] }, statusRuns, dir) : undefined
    const status = st && { node: st.node!, status: st.status! }
    return { rssMiB: mem.rssKB / 1024, anonMiB: mem.anonKB / 1024, hwmMiB: mem.hwmKB / 1024, status }
  } finally {
    await p.stop()
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'porter-bench-binary-'))
  const binary = BIN ?? builtPorter(work)
  dropPageCache(binary)
  const results: Record<string, unknown> = { n: N, fib: FIB, rounds: ROUNDS, memoryRounds: MEMORY_ROUNDS, node: process.version, cpus: cpus().length, date: new Date().toISOString(), binary: BIN ?? 'dist/porter', env: PORTER_ENV }
  try {
    // ---- start-up and config load (no lab) ----
    const small = join(work, 'small.yaml')
    writeFileSync(small, vipConfig({ n: 1, localAs: SPEAKER_AS, routerId: SPEAKER_IP, peerAddress: ROUTER_IP, peerAs: ROUTER_AS, nextHop: SPEAKER_IP }))
    if (ONLY.includes('startup')) {
      log(`start-up: ${RUNS} runs each (load average ${loadavg().map((x) => x.toFixed(2)).join(' ')})`)
      results.startup = startup({ 'node -e 0': [process.execPath, '-e', '0'], 'porter version': [binary, 'version'], 'porter validate (1 VIP)': [binary, 'validate', '--config', small] }, RUNS, work)
    }
    if (ONLY.includes('load')) {
      const big = join(work, 'big.yaml')
      writeFileSync(big, vipConfig({ n: N, localAs: SPEAKER_AS, routerId: SPEAKER_IP, peerAddress: ROUTER_IP, peerAs: ROUTER_AS, nextHop: SPEAKER_IP }))
      const text = readFileSync(big, 'utf8')
      // one bad address at the end of the list; one bad next hop, ahead of it
      const bad = join(work, 'bad.yaml')
      writeFileSync(bad, text.replace(`      - ${hostAt(N - 1)}\n`, '      - 198.18.0.300\n'))
      const badHop = join(work, 'bad-hop.yaml')
      const hopLine = `    nextHops: [${SPEAKER_IP}]\n`
      if (!text.includes(hopLine)) throw new Error(`the generated config has no line ${JSON.stringify(hopLine)}`)
      writeFileSync(badHop, text.replace(hopLine, '    nextHops: [198.18.255.300]\n'))
      log(`config load: porter validate with ${N} VIPs, 3 runs`)
      // three runs of `porter validate` of a file: medians
      const validate = (file: string) => {
        const ts = [0, 1, 2].map(() => timed([binary, 'validate', '--config', file], work))
        return { wallMs: median(ts.map((t) => t.wallMs)), cpuMs: median(ts.map((t) => t.cpuMs)), peakRssMiB: median(ts.map((t) => t.maxRssKB)) / 1024, codes: ts.map((t) => t.code) }
      }
      const invalid = (file: string) => ({ ...validate(file), firstError: spawnSync(binary, ['validate', '--config', file], { encoding: 'utf8' }).stderr.split('\n')[0] })
      results.load = { valid: validate(big), invalid: invalid(bad), invalidHop: invalid(badHop) }
    }

    // ---- the lab ----
    const want = ['porter', 'gobgp', 'floor', 'bird', 'frr'].filter((x) => ONLY.includes(x))
    if (want.length) {
      const lab = createLab()
      let ctl: BirdCtl | undefined
      const porter: PorterRun[] = []
      const idle: Awaited<ReturnType<typeof idlePorter>>[] = []
      const others: RunResult[] = []
      try {
        const { r, s } = await pushLab(lab)
        const bird = new Bird(lab, birdSpec(r, setup))
        const fresh = async (): Promise<BirdCtl> => {
          ctl?.close()
          if (bird.pid) await bird.restart()
          else await bird.start()
          ctl = await new BirdCtl(bird.socket).open()
          const p = await ctl.protocol(PROTO)
          if (p.imported !== 0) throw new Error(`BIRD did not start empty: ${p.imported} imported`)
          return ctl
        }
        const blast = want.includes('floor') ? await bundle(join(HERE, 'lib', 'bgp-blast.ts'), 'bgp-blast') : ''
        const mrtFile = join(lab.dir, 'rib.mrt')
        if (want.includes('gobgp')) writeMrtRib(mrtFile, { peerId: SPEAKER_IP, peerAs: SPEAKER_AS, nextHop: SPEAKER_IP, hosts: benchPrefixes(N).map((p) => p.slice(0, -3)), pad: 8192 })
        for (let round = 1; round <= MEMORY_ROUNDS; round++) {
          const la = () => `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`
          // after the K-th round: only the memory readings of the idle controller and the sizes below N
          const memoryOnly = round > ROUNDS
          if (want.includes('porter')) {
            log(`round ${round}: porter idle (${la()})`)
            idle.push(await idlePorter(lab, await fresh(), s, binary, work, round === 1 && ONLY.includes('startup') ? RUNS : 0))
            for (const n of SIZES.filter((x) => !memoryOnly || x < N)) {
              log(`round ${round}: porter with ${n} VIPs (${la()})`)
              const res = await runPorter(lab, r, s, await fresh(), binary, work, n, round, n === N)
              log(`porter ${n}: load ${res.loadMs.toFixed(0)} ms, push ${res.pushMs.toFixed(0)} ms, RSS ${res.rssMiB.toFixed(1)} MiB, peak ${res.hwmMiB.toFixed(1)} MiB` +
                (res.change ? `, one-VIP SIGHUP ${res.change.ms.toFixed(0)} ms, withdraw ${res.withdrawMs!.toFixed(0)} ms` : ''))
              porter.push(res)
            }
          }
          if (memoryOnly) continue
          if (want.includes('gobgp')) {
            log(`round ${round}: gobgpd (${la()})`)
            const g = await runGobgp(setup, lab, r, s, await fresh(), mrtFile)
            g.round = round
            others.push(g)
          }
          if (want.includes('floor')) {
            log(`round ${round}: floor (${la()})`)
            const f = await runLineSpeaker(setup, lab, r, s, await fresh(), 'floor', blast)
            f.round = round
            others.push(f)
          }
          if (want.includes('bird')) {
            log(`round ${round}: BIRD speaker (${la()})`)
            const b = await runBirdSpeaker(setup, lab, r, s, await fresh())
            b.round = round
            others.push(b)
          }
          if (want.includes('frr')) {
            log(`round ${round}: FRR speaker (${la()})`)
            const f = await runFrrSpeaker(setup, lab, r, s, await fresh())
            f.round = round
            others.push(f)
          }
        }
      } finally {
        ctl?.close()
        await lab.cleanup()
      }
      results.porter = porter
      results.idle = idle
      results.others = others
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  report(results)
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(results, null, 2))
}

function report(res: Record<string, unknown>): void {
  const P = (s: string) => console.log(s)
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-')
  const yes = (b: boolean) => (b ? 'met' : 'NOT met')
  P(`\nporter binary benchmark: N=${N} IPv4 /32 VIPs (one vips entry, one next hop), BIRD 2 kernel export ${FIB ? 'on' : 'off'}, ` +
    `${ROUNDS} round(s)${MEMORY_ROUNDS > ROUNDS ? ` (${MEMORY_ROUNDS} for memory below N)` : ''}, node ${process.version}, ${cpus().length} CPUs, ${new Date().toISOString()}` +
    `${BIN ? `, binary ${BIN}` : ''}${envText(PORTER_ENV) ? `, porter's environment + ${envText(PORTER_ENV)}` : ''}`)
  const st = res.startup as ReturnType<typeof startup> | undefined
  const idle = res.idle as { rssMiB: number; anonMiB: number; hwmMiB: number; status?: { node: Started; status: Started } }[] | undefined
  if (st) {
    const base = st['node -e 0']!
    P(`\nstart-up (medians of ${RUNS}; CPU = user+sys)`)
    P(`${'command'.padEnd(28)} ${'wall ms'.padStart(8)} ${'CPU ms'.padStart(7)} ${'RSS MiB'.padStart(8)} ${'wall/node'.padStart(10)} ${'CPU/node'.padStart(9)}`)
    const row = (k: string, v: Started, b: Started) => P(`${k.padEnd(28)} ${f(v.wallMs).padStart(8)} ${f(v.cpuMs).padStart(7)} ${f(v.rssMiB, 1).padStart(8)} ${f(v.wallMs / b.wallMs, 2).padStart(10)} ${f(v.cpuMs / b.cpuMs, 2).padStart(9)}`)
    for (const [k, v] of Object.entries(st)) row(k, v, base)
    const status = idle?.[0]?.status
    if (status) {
      P('with the idle controller running (round 1), interleaved:')
      row('node -e 0', status.node, status.node)
      row('porter status (running)', status.status, status.node)
    }
    P('target: version, validate, status within 1.2 x node -e 0')
  }
  type Invalid = { wallMs: number; cpuMs: number; peakRssMiB: number; firstError: string }
  const load = res.load as { valid: { wallMs: number; cpuMs: number; peakRssMiB: number; codes: (number | null)[] }; invalid: Invalid; invalidHop: Invalid } | undefined
  if (load) {
    P(`\nconfig load: porter validate, ${N} VIPs (medians of 3; process start included)`)
    P(`  valid:   wall ${f(load.valid.wallMs)} ms, CPU ${f(load.valid.cpuMs)} ms, peak RSS ${f(load.valid.peakRssMiB, 1)} MiB (exit ${load.valid.codes.join('/')}) ` +
      `-- target 1 s: ${yes(load.valid.wallMs <= 1000)}, 150 MiB: ${yes(load.valid.peakRssMiB <= 150)}`)
    for (const [what, r] of [['one bad address at the end', load.invalid], ['one bad next hop', load.invalidHop]] as const) {
      P(`  invalid (${what}): wall ${f(r.wallMs)} ms, CPU ${f(r.cpuMs)} ms, peak RSS ${f(r.peakRssMiB, 1)} MiB ` +
        `-- target 1 s: ${yes(r.wallMs <= 1000)}, 150 MiB: ${yes(r.peakRssMiB <= 150)}; first error: ${r.firstError}`)
    }
  }
  const porter = res.porter as PorterRun[] | undefined
  const others = res.others as RunResult[] | undefined
  if (porter?.length || others?.length) {
    const idleRss = median((idle ?? []).map((i) => i.rssMiB))
    const idleAnon = median((idle ?? []).map((i) => i.anonMiB))
    P(`\nporter controller (dist/porter, paged in as at boot), memory by size once settled (medians over rounds)`)
    P(`${'VIPs'.padStart(8)} ${'load ms'.padStart(8)} ${'push ms'.padStart(8)} ${'RSS MiB'.padStart(8)} ${'peak MiB'.padStart(9)} ${'B/route over idle'.padStart(18)} ${'anon MiB'.padStart(9)} ${'anon B/route'.padStart(13)}`)
    if (idle?.length) P(`${'0 (idle)'.padStart(8)} ${'-'.padStart(8)} ${'-'.padStart(8)} ${f(idleRss, 1).padStart(8)} ${f(median(idle.map((i) => i.hwmMiB)), 1).padStart(9)} ${'-'.padStart(18)} ${f(idleAnon, 1).padStart(9)} ${'-'.padStart(13)}   (target idle <= 60 MiB: ${yes(idleRss <= 60)}), ${idle.length} reading(s)`)
    for (const n of SIZES) {
      const rs = (porter ?? []).filter((p) => p.n === n)
      if (!rs.length) continue
      const rss = median(rs.map((p) => p.rssMiB))
      const anon = median(rs.map((p) => p.anonMiB))
      P(`${String(n).padStart(8)} ${f(median(rs.map((p) => p.loadMs))).padStart(8)} ${f(median(rs.map((p) => p.pushMs))).padStart(8)} ${f(rss, 1).padStart(8)} ${f(median(rs.map((p) => p.hwmMiB)), 1).padStart(9)} ${f(((rss - idleRss) * MiB) / n).padStart(18)} ${f(anon, 1).padStart(9)} ${f(((anon - idleAnon) * MiB) / n).padStart(13)}   V8 tier ${[...new Set(rs.map((p) => p.tier))].join('/')}, ${rs.length} reading(s)`)
    }
    P('(anon: the anonymous part of the RSS; the rest is the executable\'s pages as the process has run its code, e.g. the optimizing compiler\'s once it first runs)')
    const full = (porter ?? []).filter((p) => p.n === N)
    const g = (others ?? []).filter((o) => o.speaker === 'gobgpd')
    const fl = (others ?? []).filter((o) => o.speaker === 'floor')
    const bs = (others ?? []).filter((o) => o.speaker === 'BIRD')
    const pm = {
      push: median(full.map((p) => p.pushMs)), withdraw: median(full.map((p) => p.withdrawMs ?? NaN)),
      rss: median(full.map((p) => p.rssMiB)), hwm: median(full.map((p) => p.hwmMiB)),
    }
    P(`\npush and withdraw of ${N} routes, same BIRD, same run (medians)`)
    P(`${'speaker'.padEnd(16)} ${'push ms'.padStart(8)} ${'withdraw ms'.padStart(12)} ${'RSS MiB'.padStart(8)} ${'peak MiB'.padStart(9)}`)
    if (full.length) P(`${'porter (binary)'.padEnd(16)} ${f(pm.push).padStart(8)} ${f(pm.withdraw).padStart(12)} ${f(pm.rss, 1).padStart(8)} ${f(pm.hwm, 1).padStart(9)}`)
    const fr = (others ?? []).filter((o) => o.speaker === 'FRR')
    for (const [name, rs] of [['gobgpd', g], ['floor', fl], ['BIRD speaker', bs], ['FRR bgpd', fr]] as const) {
      if (rs.length) P(`${name.padEnd(16)} ${f(median(rs.map((x) => x.push))).padStart(8)} ${f(median(rs.map((x) => x.withdraw))).padStart(12)} ${f(median(rs.map((x) => x.rss ?? NaN)), 1).padStart(8)} ${f(median(rs.map((x) => x.peakRss)), 1).padStart(9)}`)
    }
    if (fr.length) {
      P(`FRR bgpd rounds, push: ${fr.map((x) => f(x.push)).join(' / ')} ms (from bgpd's own Established: ${fr.map((x) => f(x.pushFromSpeaker ?? NaN)).join(' / ')}); withdraw: ${fr.map((x) => f(x.withdraw)).join(' / ')} ms; ` +
        `bgpd RSS after push ${fr.map((x) => f(x.rss ?? NaN, 1)).join(' / ')} MiB, peak ${fr.map((x) => f(x.peakRss, 1)).join(' / ')} MiB; zebra peak ${fr.map((x) => f(x.peakRssZebra ?? NaN, 1)).join(' / ')} MiB`)
      if (full.length) P(`porter / FRR bgpd: push ${f(pm.push / median(fr.map((x) => x.push)), 2)}, withdraw ${f(pm.withdraw / median(fr.map((x) => x.withdraw)), 2)}, peak RSS ${f(pm.hwm / median(fr.map((x) => x.peakRss)), 2)} (bgpd's)`)
    }
    if (full.length) {
      const ch = full.map((p) => p.change!).filter(Boolean)
      P(`\none VIP changed by SIGHUP in a ${N}-VIP config: ${f(median(ch.map((c) => c.ms)))} ms to BIRD (rounds: ${ch.map((c) => f(c.ms)).join(' / ')}); ` +
        `BIRD received ${ch.map((c) => `${c.updates} update(s) + ${c.withdraws} withdraw(s) in ${c.packets} packet(s)`).join(', ')} -- target 200 ms, one UPDATE`)
      P(`rounds, porter push: ${full.map((p) => f(p.pushMs)).join(' / ')} ms; withdraw: ${full.map((p) => f(p.withdrawMs ?? NaN)).join(' / ')} ms (${full.map((p) => `${((p.withdrawWire?.bytes ?? 0) / 1024).toFixed(0)} KB/${p.withdrawWire?.packets} pkts`).join(', ')})`)
      if (fl.length) P(`porter push / floor push: ${f(pm.push / median(fl.map((x) => x.push)), 2)} (target <= 1.1)`)
      if (g.length) {
        const gm = { push: median(g.map((x) => x.push)), withdraw: median(g.map((x) => x.withdraw)), hwm: median(g.map((x) => x.peakRss)) }
        P(`porter / gobgpd: push ${f(pm.push / gm.push, 2)}, withdraw ${f(pm.withdraw / gm.withdraw, 2)}, peak RSS ${f(pm.hwm / gm.hwm, 2)} (target <= 1), RSS after push ${f(pm.rss / gm.hwm, 2)} of gobgpd's peak`)
      }
      if (bs.length) {
        const bm = { push: median(bs.map((x) => x.push)), withdraw: median(bs.map((x) => x.withdraw)) }
        P(`porter / BIRD speaker: push ${f(pm.push / bm.push, 2)}, withdraw ${f(pm.withdraw / bm.withdraw, 2)} (target withdraw <= 1: ${yes(pm.withdraw <= bm.withdraw)}); ` +
          `BIRD speaker rounds, push: ${bs.map((x) => f(x.push)).join(' / ')} ms; withdraw: ${bs.map((x) => f(x.withdraw)).join(' / ')} ms ` +
          `(${bs.map((x) => `${(x.wire.withdraw.bytes / 1024).toFixed(0)} KB/${x.wire.withdraw.packets} pkts`).join(', ')})`)
      }
    }
    for (const p of porter ?? []) for (const n of p.notes) P(`  porter ${p.n} round ${p.round}: ${n}`)
    for (const o of others ?? []) for (const n of o.notes) P(`  ${o.speaker} round ${o.round}: ${n}`)
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e)
  process.exitCode = 1
})
