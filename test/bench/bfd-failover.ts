// Benchmark (run by hand, as root): `node --import tsx test/bench/bfd-failover.ts [--rounds=5]`
//
// How fast the built dist/porter notices a dead router: BIRD 2 in a network namespace is frozen
// with SIGSTOP while its BGP session with porter is Established, and we time SIGSTOP -> porter's
// session leaves Established, in one run for
//   bfd    BFD with the router (porter and BIRD at 100 ms x 3), BGP hold time 9 s
//   hold   (reference) no BFD, the smallest useful hold time: 3 s on both sides
// Each round starts a fresh BIRD and a fresh porter (no back-off carried over), waits for
// Established (and BFD Up at 100 ms), lets them settle 2 s, then freezes BIRD. The moment porter
// saw it is the timestamp (pino's ISO time, ms) of porter's first log line after the freeze that
// takes the session out of Established ("fsm transition" from Established); for bfd also the
// "BFD session Down" line. Same clock (this machine's wall clock) on both sides.
// Prints each round, the medians, and the ratio hold / bfd.
import { createLab } from '../e2e/lib/netns.ts'
import { Bird, birdBfdProtocol } from '../e2e/lib/bird.ts'
import { PorterProc } from '../e2e/lib/porter.ts'
import { routerAndPorter, porterYaml, HOPS4, ROUTER_AS, PORTER_AS } from '../e2e/lib/bgp-lab.ts'
import { waitFor } from '../lib/wait.ts'
import { builtPorter } from '../lib/dist.ts'
import { harness, median } from './lib/rounds.ts'
import { cpus, loadavg, tmpdir } from 'node:os'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const args = process.argv.slice(2)
const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const ROUNDS = Number(opt('rounds') ?? 5)

type Mode = 'bfd' | 'hold'

const yaml = (mode: Mode): string => {
  let y = porterYaml({ v4hops: HOPS4, v6hops: [] }).replace(/\n    - \{ name: r6[^\n]*/, '')
  if (mode === 'bfd') y = y.replace('families: [ipv4-unicast] }', 'families: [ipv4-unicast], bfd: { enabled: true, minTx: 100, minRx: 100, multiplier: 3 } }')
  else y = y.replace('holdTime: 9', 'holdTime: 3')
  return y
}

interface Round { mode: Mode; sessionDownMs: number; bfdDownMs?: number; cause: string }

async function round(mode: Mode, binary: string): Promise<Round> {
  const h = harness()
  const lab = createLab(h.t)
  try {
    const { r, p } = await routerAndPorter(lab)
    const bird = new Bird(lab, {
      ns: r, as: ROUTER_AS, routerId: '192.0.2.1',
      extra: mode === 'bfd' ? [birdBfdProtocol('eth0', 100, 3)] : [],
      peers: [{ address: '192.0.2.2', as: PORTER_AS, passive: true, name: 'porter4', holdTime: mode === 'bfd' ? 9 : 3, extra: mode === 'bfd' ? ['bfd on;'] : [] }],
    })
    await bird.start()
    const porter = new PorterProc(lab, p, yaml(mode), 'controller', binary)
    h.t.teardown(() => porter.cleanup())
    h.t.teardown(() => porter.stop())
    await porter.start()
    await porter.waitPeers('Established')
    if (mode === 'bfd') {
      await waitFor(async () => { const x = (await porter.status()).peers[0]!.bfd; return x?.state === 'Up' && x.txIntervalMs === 100 }, { timeoutMs: 30_000, what: 'BFD Up at 100 ms' })
    }
    await new Promise((res) => setTimeout(res, 2000))
    const mark = porter.logs().length
    const pid = bird.pid!
    const t0 = Date.now()
    process.kill(pid, 'SIGSTOP')
    h.t.teardown(() => { try { process.kill(pid, 'SIGCONT') } catch {} })
    await waitFor(async () => (await porter.status()).peers[0]!.state !== 'Established', { timeoutMs: 30_000, intervalMs: 20, what: 'session down' })
    const lines = porter.logs().slice(mark)
    const at = (l: { [k: string]: unknown } | undefined): number => (l ? Date.parse(String(l.time)) - t0 : NaN)
    const fsm = lines.find((l) => l.msg === 'fsm transition' && l.from === 'Established')
    const bfd = lines.find((l) => l.msg === 'BFD session Down')
    const cause = lines.find((l) => l.msg === 'sending NOTIFICATION')
    return {
      mode, sessionDownMs: at(fsm), bfdDownMs: mode === 'bfd' ? at(bfd) : undefined,
      cause: cause ? `NOTIFICATION ${String(cause.code)}/${String(cause.subcode)}` : '?',
    }
  } finally {
    await h.end()
  }
}

async function main(): Promise<void> {
  const binDir = mkdtempSync(join(tmpdir(), 'porter-bench-bfd-'))
  const binary = builtPorter(binDir)
  console.log(`bfd-failover: ${ROUNDS} rounds per mode, ${cpus().length} CPUs, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  const results: Round[] = []
  for (let i = 0; i < ROUNDS; i++) {
    for (const mode of ['bfd', 'hold'] as const) {
      const r = await round(mode, binary)
      results.push(r)
      console.log(`  round ${i + 1} ${mode.padEnd(4)}  SIGSTOP -> session down ${r.sessionDownMs.toFixed(0).padStart(5)} ms${r.bfdDownMs !== undefined ? `  (BFD Down at ${r.bfdDownMs.toFixed(0)} ms)` : ''}  ${r.cause}`)
    }
  }
  const m = (mode: Mode) => median(results.filter((r) => r.mode === mode).map((r) => r.sessionDownMs))
  const bfd = m('bfd')
  const hold = m('hold')
  const bfdDetect = median(results.filter((r) => r.mode === 'bfd').map((r) => r.bfdDownMs!))
  console.log('')
  console.log('| mode | SIGSTOP -> porter session down, median |')
  console.log('| --- | --- |')
  console.log(`| BFD 100 ms x 3 (hold time 9 s) | ${bfd.toFixed(0)} ms (BFD Down at ${bfdDetect.toFixed(0)} ms) |`)
  console.log(`| hold timer 3 s, no BFD (reference) | ${hold.toFixed(0)} ms |`)
  console.log(`ratio hold / bfd: ${(hold / bfd).toFixed(1)}x`)
  rmSync(binDir, { recursive: true, force: true })
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1) })
