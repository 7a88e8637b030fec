// Benchmark (run by hand, as root): `node --import tsx test/bench/agent-apply.ts [N] [ROUNDS]`
// N VIPs (default 10,000) from 198.18.0.0/15, each round in fresh namespaces:
//   reference: `ip -batch` (N "addr add") + one `nft -f` (table, sets, chains, rules, elements);
//              removal: `ip -batch` (N "addr del") + `nft delete table`
//   agent:     the library (test/e2e/agent-runner.ts): one reconcile from empty (netlink + one
//              nft -j -f transaction), then no-op reconciles (5 event-style, 5 periodic full
//              checks; medians), and its RSS
//   binary:    the built `dist/porter agent` as a user runs it: a config file with the N VIPs
//              (one `vips` entry, next hop = the node's address), firewall nftables. Start ->
//              its "Programmed VIPs" log line (process start, config load and the apply; the
//              line's own timestamp), RSS 1 s later; a SIGHUP that replaces one VIP -> the next
//              such line; a SIGHUP to `vips: []` -> the line with none left
// Prints the times, the medians and the ratios. Targets: apply <= 1.5x reference, no-op < 50 ms.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLab, run, waitFor, type Lab } from '../e2e/lib/netns.ts'
import { agentProc } from '../e2e/agent-harness.ts'
import { PorterProc } from '../e2e/lib/porter.ts'
import { builtPorter } from '../lib/dist.ts'

const N = Number(process.argv[2] ?? 10_000)
const ROUNDS = Number(process.argv[3] ?? 3)

function vips(n: number): string[] {
  const out: string[] = []
  const base = (198 << 24) | (18 << 16)
  for (let i = 1; out.length < n; i++) {
    const x = (base + i) >>> 0
    if ((x & 0xff) === 0 || (x & 0xff) === 255) continue
    out.push(`${x >>> 24}.${(x >>> 16) & 0xff}.${(x >>> 8) & 0xff}.${x & 0xff}`)
  }
  if (n > 131_000) throw new Error('198.18.0.0/15 holds at most ~131k host addresses')
  return out
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6

async function reference(lab: Lab, list: string[]): Promise<{ apply: number; removal: number }> {
  const ns = await lab.ns(`ref${lab.namespaces.length}`)
  const ipFile = join(lab.dir, 'ip.batch')
  const nftFile = join(lab.dir, 'porter.nft')
  writeFileSync(ipFile, list.map((a) => `address add ${a}/32 dev lo label lo:porter\n`).join(''))
  writeFileSync(nftFile, [
    'table inet porter {',
    '  set vips4 { type ipv4_addr; elements = { ' + list.join(', ') + ' } }',
    '  set vips6 { type ipv6_addr; }',
    '  chain input { type filter hook input priority 0; policy accept;',
    '    ip daddr @vips4 accept comment "porter:input:ipv4"',
    '    ip6 daddr @vips6 accept comment "porter:input:ipv6"',
    '  }',
    '  chain forward { type filter hook forward priority 0; policy accept;',
    '    ct original ip daddr @vips4 accept comment "porter:forward:ipv4"',
    '    ct original ip6 daddr @vips6 accept comment "porter:forward:ipv6"',
    '  }',
    '}', '',
  ].join('\n'))
  const t0 = process.hrtime.bigint()
  await run('ip', ['-n', ns, '-batch', ipFile])
  await run('ip', ['netns', 'exec', ns, 'nft', '-f', nftFile])
  const t = ms(t0)
  const count = await onLo(ns)
  if (count !== list.length) throw new Error(`reference applied ${count} addresses, expected ${list.length}`)
  writeFileSync(ipFile, list.map((a) => `address del ${a}/32 dev lo\n`).join(''))
  const t1 = process.hrtime.bigint()
  await run('ip', ['-n', ns, '-batch', ipFile])
  await run('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'porter'])
  const removal = ms(t1)
  if (await onLo(ns) !== 0) throw new Error('reference removal left addresses')
  return { apply: t, removal }
}

/** Porter's addresses on the namespace's lo */
async function onLo(ns: string): Promise<number> {
  return (await run('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'dev', 'lo'])).stdout.split('\n').filter((l) => l.includes('lo:porter')).length
}

const NODE = '198.51.100.7'
const agentConfig = (list: readonly string[]): string => {
  const lines = ['log: { level: info }', `agent: { firewall: nftables, nodeAddresses: [${NODE}] }`]
  if (list.length === 0) lines.push('vips: []')
  else lines.push('vips:', '  - name: bench', `    nextHops: [${NODE}]`, '    address:', ...list.map((a) => `      - ${a}`))
  return lines.join('\n') + '\n'
}

interface BinaryRound { start: number; reconcile: number; rss: number; change: number; changeWrites: number; removal: number }

/** `dist/porter agent` with a config file: start, one VIP replaced by SIGHUP, all removed by SIGHUP */
async function binaryAgent(lab: Lab, binary: string, list: string[]): Promise<BinaryRound> {
  const ns = await lab.ns(`bin${lab.namespaces.length}`)
  const p = new PorterProc(lab, ns, agentConfig(list), 'agent', binary)
  // the n-th "Programmed VIPs" line, waited for
  const programmed = (n: number) => waitFor(() => {
    const lines = p.logs().filter((l) => l.msg === 'Programmed VIPs')
    return lines.length >= n ? lines[n - 1] as unknown as { time: string; durationMs: number; changes: number; vips: number } : undefined
  }, { timeoutMs: 120_000, intervalMs: 10, what: 'the agent programming its VIPs' })
  try {
    const t0 = Date.now()
    await p.start()
    const first = await programmed(1)
    if (first.vips !== list.length || await onLo(ns) !== list.length) throw new Error(`the agent programmed ${first.vips} VIPs, expected ${list.length}`)
    await new Promise((r) => setTimeout(r, 1000))
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p.child!.pid}/status`, 'utf8'))![1]) * 1024
    const changed = [...list.slice(0, -1), '198.19.255.1']
    p.writeConfig(agentConfig(changed))
    const t1 = Date.now()
    p.signal('SIGHUP')
    const second = await programmed(2)
    p.writeConfig(agentConfig([]))
    const t2 = Date.now()
    p.signal('SIGHUP')
    const third = await programmed(3)
    if (third.vips !== 0 || await onLo(ns) !== 0) throw new Error(`after vips: [] the agent has ${third.vips} VIPs`)
    return { start: Date.parse(first.time) - t0, reconcile: first.durationMs, rss, change: Date.parse(second.time) - t1, changeWrites: second.changes, removal: Date.parse(third.time) - t2 }
  } finally {
    await p.stop()
    p.cleanup()
  }
}

async function agent(lab: Lab, list: string[]): Promise<{ apply: number; applyWall: number; first: number; noop: number; noopWall: number; full: number; rss: number; rssBefore: number; writes: number }> {
  const ns = await lab.ns(`agt${lab.namespaces.length}`)
  const p = agentProc(lab, ns)
  try {
    await p.call('create', { config: { firewall: 'nftables' } })
    const rssBefore = await p.call<number>('rss')
    await p.call('setDesired', { vips: list })
    let t0 = process.hrtime.bigint()
    const r1 = await p.call<{ ok: boolean; durationMs: number; changes: number; error?: unknown }>('reconcileNow')
    const applyWall = ms(t0)
    if (!r1.ok) throw new Error(`apply failed: ${JSON.stringify(r1.error)}`)
    // the first reconcile after the apply also absorbs the follow-up caused by our own
    // notifications and the GC of the apply's garbage: reported separately
    const first = await p.call<{ durationMs: number }>('reconcileNow')
    const noops: number[] = []
    const walls: number[] = []
    const fulls: number[] = []
    for (let i = 0; i < 5; i++) {
      for (const full of [false, true]) {
        t0 = process.hrtime.bigint()
        const r2 = await p.call<{ ok: boolean; durationMs: number; changes: number; phases: unknown }>('reconcileNow', { full })
        const wall = ms(t0)
        if (!r2.ok || r2.changes !== 0) throw new Error(`no-op reconcile made ${r2.changes} writes`)
        if (full) fulls.push(r2.durationMs)
        else { noops.push(r2.durationMs); walls.push(wall) }
        if (process.env.BENCH_VERBOSE) console.log(`  no-op${full ? ' (full)' : ''}`, r2.durationMs, JSON.stringify(r2.phases))
      }
    }
    const r2 = { durationMs: median(noops) }
    const noopWall = median(walls)
    const full = median(fulls)
    const rss = await p.call<number>('rss')
    const count = (await run('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'dev', 'lo'])).stdout.split('\n').filter((l) => l.includes('lo:porter')).length
    if (count !== list.length) throw new Error(`agent applied ${count} addresses, expected ${list.length}`)
    return { apply: r1.durationMs, applyWall, first: first.durationMs, noop: r2.durationMs, noopWall, full, rss, rssBefore, writes: r1.changes }
  } finally {
    await p.close()
  }
}

async function main(): Promise<void> {
  const list = vips(N)
  const lab = createLab()
  const work = mkdtempSync(join(tmpdir(), 'porter-bench-agent-'))
  const binary = builtPorter(work)
  const refs: { apply: number; removal: number }[] = []
  const agents: Awaited<ReturnType<typeof agent>>[] = []
  const bins: BinaryRound[] = []
  try {
    for (let i = 0; i < ROUNDS; i++) {
      // rotate the order so no side always runs on a warmer kernel
      const steps = [async () => refs.push(await reference(lab, list)), async () => agents.push(await agent(lab, list)), async () => bins.push(await binaryAgent(lab, binary, list))]
      for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!()
      const a = agents[agents.length - 1]!
      const r = refs[refs.length - 1]!
      const b = bins[bins.length - 1]!
      console.log(`round ${i + 1}: reference ${r.apply.toFixed(1)} ms (removal ${r.removal.toFixed(1)} ms) | agent apply ${a.apply} ms (wall ${a.applyWall.toFixed(1)} ms, ${a.writes} writes), first reconcile after it ${a.first} ms, no-op ${a.noop} ms (wall ${a.noopWall.toFixed(1)} ms), periodic full check ${a.full} ms, RSS ${(a.rss / 2 ** 20).toFixed(1)} MiB (idle ${(a.rssBefore / 2 ** 20).toFixed(1)} MiB) | porter agent: start -> programmed ${b.start} ms (its reconcile ${b.reconcile} ms), one VIP by SIGHUP ${b.change} ms (${b.changeWrites} writes), all removed by SIGHUP ${b.removal} ms, RSS ${(b.rss / 2 ** 20).toFixed(1)} MiB`)
    }
  } finally {
    await lab.cleanup()
    rmSync(work, { recursive: true, force: true })
  }
  const ref = median(refs.map((r) => r.apply))
  const refRemoval = median(refs.map((r) => r.removal))
  const apply = median(agents.map((a) => a.apply))
  const noop = median(agents.map((a) => a.noop))
  const rss = median(agents.map((a) => a.rss))
  const full = median(agents.map((a) => a.full))
  console.log(`\n${N} VIPs, ${ROUNDS} rounds (medians)`)
  console.log(`  reference ip -batch + nft -f : ${ref.toFixed(1)} ms`)
  console.log(`  agent full apply             : ${apply} ms  (ratio ${(apply / ref).toFixed(2)}x, target <= 1.5x) ${apply / ref <= 1.5 ? 'OK' : 'MISSED'}`)
  console.log(`  agent no-op reconcile        : ${noop} ms  (target < 50 ms) ${noop < 50 ? 'OK' : 'MISSED'}`)
  console.log(`  first reconcile after apply  : ${median(agents.map((a) => a.first))} ms  (cold: GC of the apply, follow-up of its notifications)`)
  console.log(`  agent periodic full check    : ${full} ms  (also reads what notifications vouch for)`)
  console.log(`  agent RSS after apply        : ${(rss / 2 ** 20).toFixed(1)} MiB`)
  const bStart = median(bins.map((b) => b.start))
  const bRemoval = median(bins.map((b) => b.removal))
  console.log(`\n  dist/porter agent (config file, the way users run it):`)
  console.log(`  start -> all programmed      : ${bStart} ms  (ratio to the reference ${(bStart / ref).toFixed(2)}x, process start and config load included; target <= 1.5x) ${bStart / ref <= 1.5 ? 'OK' : 'MISSED'}`)
  console.log(`    of which its reconcile     : ${median(bins.map((b) => b.reconcile))} ms`)
  console.log(`  one VIP replaced (SIGHUP)    : ${median(bins.map((b) => b.change))} ms, ${median(bins.map((b) => b.changeWrites))} writes`)
  console.log(`  all removed (SIGHUP, vips: []): ${bRemoval} ms  (reference ip -batch del + nft delete table ${refRemoval.toFixed(1)} ms, ratio ${(bRemoval / refRemoval).toFixed(2)}x)`)
  console.log(`  RSS 1 s after the apply      : ${(median(bins.map((b) => b.rss)) / 2 ** 20).toFixed(1)} MiB`)
}

main().catch((e) => { console.error(e); process.exit(1) })
