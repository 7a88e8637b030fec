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
import { writeFileSync, mkdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { createLab } from '../e2e/lib/netns.ts'
import { Bird } from '../e2e/lib/bird.ts'
import { BirdCtl } from './lib/birdctl.ts'
import { writeMrtRib } from './lib/mrt.ts'
import { benchPrefixes } from './lib/prefixes.ts'
import {
  type PushSetup, type RunResult, PROTO, HOLD, SPEAKER_AS, SPEAKER_IP, ROUTER_IP,
  log, birdSpec, bundle, runLineSpeaker, runGobgp, table,
  pushLab,
} from './lib/push-lab.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..', '..')

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

const setup: PushSetup = { n: N, addPath: ADD_PATH, fib: FIB, pollMs: POLL_MS }

async function main(): Promise<void> {
  const lab = createLab()
  const results: RunResult[] = []
  let ctl: BirdCtl | undefined
  try {
    const { r, s } = await pushLab(lab)
    const bird = new Bird(lab, birdSpec(r, setup))
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
        res = await runLineSpeaker(setup, lab, r, s, c, 'porter', driver, nodeArgs, CPU_PROF ? profDir : undefined)
      } else if (which === 'gobgp') {
        res = await runGobgp(setup, lab, r, s, c, mrtFile)
      } else {
        res = await runLineSpeaker(setup, lab, r, s, c, 'floor', blast)
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
