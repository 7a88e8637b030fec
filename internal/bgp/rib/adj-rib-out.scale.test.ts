// 100,000 prefixes: correct results, and work that grows linearly (a quadratic step would make
// the 100k run 25 times the 20k one; we allow 12). CPU time, not wall time, so a busy machine
// does not fail it; the figures are printed for the README.
import t from 'tap'
import { AdjRibOut, diffSize, type Advertisement } from './adj-rib-out.ts'

const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** Every advertisement with its own attributes object (the worst case for attribute grouping). */
function advertisements(n: number, hops: string[]): Advertisement[] {
  const out: Advertisement[] = []
  for (let i = 0; i < n; i++) {
    // 198.18.0.0/15: the benchmark range
    out.push({ prefix: `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`, nextHops: hops, attrs: { communities: ['65000:100'], med: 10 } })
  }
  return out
}

/** set + pending + commit, then a change of half the set + pending + commit. */
function cycle(n: number, hops: string[], addPath: boolean): { ms: number; firstMs: number; announced: number; withdrawn: number; groups: number } {
  const advs = advertisements(n, hops)
  const rib = new AdjRibOut({ localAs: 65001, peerAs: 65002, addPathTx: new Set(addPath ? ['ipv4-unicast'] : []), nextHopMode: 'as-given' })
  const t0 = cpuMs()
  rib.set(advs)
  const d = rib.pending()
  const firstMs = cpuMs() - t0
  rib.commit(d)
  rib.set(advs.slice(0, n / 2))
  const d2 = rib.pending()
  rib.commit(d2)
  const ms = cpuMs() - t0
  return { ms, firstMs, announced: diffSize(d).announced, withdrawn: diffSize(d2).withdrawn, groups: d.announce.length }
}

for (const [name, hops, addPath] of [
  ['one next hop, no ADD-PATH', ['192.0.2.1'], false],
  ['three next hops, ADD-PATH', ['192.0.2.1', '192.0.2.2', '192.0.2.3'], true],
] as const) {
  t.test(name, async (t) => {
    cycle(10_000, [...hops], addPath) // warm up the JIT
    const small = cycle(20_000, [...hops], addPath)
    const big = cycle(100_000, [...hops], addPath)
    t.equal(big.announced, 100_000 * (addPath ? hops.length : 1), 'every path announced')
    t.equal(big.withdrawn, 50_000 * (addPath ? hops.length : 1), 'half withdrawn')
    t.equal(big.groups, addPath ? hops.length : 1, 'one group per next hop')
    const ratio = big.ms / Math.max(small.ms, 1)
    t.comment(`100k: set+pending ${big.firstMs.toFixed(0)} ms CPU; whole cycle ${big.ms.toFixed(0)} ms (set, pending, commit, then half withdrawn); 20k cycle: ${small.ms.toFixed(0)} ms; ratio ${ratio.toFixed(1)}`)
    t.ok(ratio < 12, `grows linearly (ratio ${ratio.toFixed(1)} for 5x the prefixes)`)
  })
}
