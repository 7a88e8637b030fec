// Benchmark (run by hand, as root): `node --import tsx test/bench/node-failover.ts [--rounds=3] [--limit=10] [--modes=bfd,bfd50,tcp,gobgp]`
//
// Node liveness (issue 11): how long a dead next-hop node stays in the router's FIB. The lab is
// the node-liveness e2e test's (test/e2e/lib/liveness-lab.ts): BIRD 2 with ECMP, three hosts
// serving the VIP, each running the built dist/porter agent, and the speaker at 198.51.100.10:
//   bfd     dist/porter controller, next hops with `check: { type: bfd }` (100 ms x 3), agents with agent.liveness
//   bfd50   the same at 50 ms x 3
//   tcp     dist/porter controller, `check: { type: tcp, port: 80 }` at its defaults (2 s, timeout 1 s, fall 3)
//   gobgp   gobgpd (iBGP, ADD-PATH send) fed the same route with the three next hops: no node liveness
// Faults, each round on the next host in turn: `link` (the host's bridge port down: its cable;
// the router's own link stays up) and `freeze` (SIGSTOP of the host's agent; its HTTP server
// still answers). Measured: the fault -> the router's kernel announces the VIP's route without
// that next hop (`ip monitor route` in the router's namespace, read as it arrives: lib/route-watch.ts).
// The fault's time: for a freeze the benchmark's clock at the SIGSTOP; for a cut the arrival of
// the port's link-down message (`ip monitor link` in the bridge's namespace: the same path). Not seen within --limit seconds: "not within N s".
// After each fault the host is healed and the FIB must have all three again before the next.
// One lab per mode (fresh processes), the same machine and run for all; prints each round, the
// medians and the ratios against bfd.
import { cpus, loadavg, tmpdir } from 'node:os'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { createLab } from '../e2e/lib/netns.ts'
import { startLivenessLab, VIP, type LivenessLab } from '../e2e/lib/liveness-lab.ts'
import { builtPorter } from '../lib/dist.ts'
import { harness, median } from './lib/rounds.ts'
import { RouteWatch } from './lib/route-watch.ts'
import { waitFor } from '../lib/wait.ts'

const args = process.argv.slice(2)
const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const ROUNDS = Number(opt('rounds') ?? 3)
const LIMIT_MS = Number(opt('limit') ?? 10) * 1000
const MODES = (opt('modes') ?? 'bfd,bfd50,tcp,gobgp').split(',') as Mode[]
const FAULTS = ['link', 'freeze'] as const

type Mode = 'bfd' | 'bfd50' | 'tcp' | 'gobgp'
type Fault = (typeof FAULTS)[number]

const LABEL: Record<Mode, string> = {
  bfd: 'porter, BFD liveness 100 ms x 3',
  bfd50: 'porter, BFD liveness 50 ms x 3',
  tcp: 'porter, tcp check (2 s, timeout 1 s, fall 3)',
  gobgp: 'gobgpd, same route (no node liveness)',
}

interface Result { mode: Mode; fault: Fault; round: number; host: string; ms?: number }

async function runMode(mode: Mode, binary: string, out: Result[]): Promise<void> {
  const h = harness()
  const lab = createLab(h.t)
  try {
    const L: LivenessLab = await startLivenessLab(lab, {
      binary, liveness: mode === 'gobgp' ? 'none' : mode === 'tcp' ? 'tcp' : 'bfd', speaker: mode === 'gobgp' ? 'gobgp' : 'porter',
      bfd: { interval: mode === 'bfd50' ? 50 : 100, multiplier: 3 },
    })
    for (const p of [L.controller, ...L.agents]) if (p) h.t.teardown(() => { p.cleanup() })
    const watch = new RouteWatch(L.r)
    h.t.teardown(() => watch.stop())
    const links = new RouteWatch(L.lan, 'link')
    h.t.teardown(() => links.stop())
    /** when the VIP's route was first reported without `host` from `since` on (polled; the timeline has the time) */
    const dropped = (host: string, since: number): Promise<number | undefined> =>
      waitFor(() => watch.events(`${VIP}/32`, since).find((e) => !e.deleted && !e.gateways.includes(host))?.at, { timeoutMs: LIMIT_MS, intervalMs: 10 }).catch(() => undefined)
    await new Promise((r) => setTimeout(r, 2000))
    for (let round = 0; round < ROUNDS; round++) {
      for (const fault of FAULTS) {
        const i = (round * FAULTS.length + FAULTS.indexOf(fault)) % L.addresses.length
        const host = L.addresses[i]!
        let t0 = Date.now()
        // a cut is timed from the kernel's report of the port going down (not from spawning `ip`)
        if (fault === 'link') {
          await L.cut(i)
          t0 = await waitFor(() => links.linkDown(`p${i + 2}`, t0), { timeoutMs: 5000, intervalMs: 5, what: 'the link-down report' })
        } else L.freeze(i)
        const at = await dropped(host, t0)
        const r: Result = { mode, fault, round: round + 1, host, ms: at === undefined ? undefined : at - t0 }
        out.push(r)
        console.log(`  ${mode.padEnd(5)} round ${r.round} ${fault.padEnd(6)} ${host}: ${r.ms === undefined ? `not within ${LIMIT_MS / 1000} s` : `${r.ms} ms`}`)
        await L.heal(i)
        await L.waitFib(L.addresses, 'all three next hops again', 120_000)
        await new Promise((r) => setTimeout(r, 2000)) // settle: BFD at its fast rate again
      }
    }
  } finally {
    await h.end()
  }
}

/** the median when every round saw the drop, else "not within N s" (n of rounds seen) */
function summary(rs: Result[]): { text: string; ms?: number } {
  const seen = rs.filter((r) => r.ms !== undefined).map((r) => r.ms!)
  if (seen.length === rs.length) { const m = median(seen); return { text: `${m.toFixed(0)} ms (${seen.join(', ')})`, ms: m } }
  if (seen.length === 0) return { text: `not within ${LIMIT_MS / 1000} s (${rs.length} of ${rs.length} rounds)` }
  return { text: `not within ${LIMIT_MS / 1000} s in ${rs.length - seen.length} of ${rs.length} rounds (seen: ${seen.join(', ')} ms)` }
}

async function main(): Promise<void> {
  const binDir = mkdtempSync(join(tmpdir(), 'porter-bench-node-'))
  const binary = builtPorter(binDir)
  console.log(`node-failover: ${ROUNDS} rounds per fault and mode, limit ${LIMIT_MS / 1000} s, ${cpus().length} CPUs, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}, ${new Date().toISOString()}`)
  const results: Result[] = []
  for (const mode of MODES) await runMode(mode, binary, results)
  console.log('')
  console.log('| speaker | link cut -> FIB drops the next hop, median (rounds) | agent frozen -> FIB drops it |')
  console.log('| --- | --- | --- |')
  const med: Partial<Record<Mode, Partial<Record<Fault, number>>>> = {}
  for (const mode of MODES) {
    const cells = FAULTS.map((f) => { const s = summary(results.filter((r) => r.mode === mode && r.fault === f)); (med[mode] ??= {})[f] = s.ms; return s.text })
    console.log(`| ${LABEL[mode]} | ${cells.join(' | ')} |`)
  }
  const baseMode: Mode | undefined = med.bfd ? 'bfd' : med.bfd50 ? 'bfd50' : undefined
  const base = baseMode && med[baseMode]
  if (base) {
    for (const mode of MODES.filter((m) => m !== baseMode)) {
      const ratios = FAULTS.map((f) => { const a = med[mode]?.[f]; const b = base[f]; return `${f} ${a === undefined ? `> ${(LIMIT_MS / b!).toFixed(0)}x (not within ${LIMIT_MS / 1000} s)` : `${(a / b!).toFixed(2)}x`}` })
      console.log(`${mode} / ${baseMode}: ${ratios.join(', ')}`)
    }
  }
  rmSync(binDir, { recursive: true, force: true })
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1) })
