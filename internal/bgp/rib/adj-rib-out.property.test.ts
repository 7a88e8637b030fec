// fast-check properties of the Adj-RIB-Out against a model peer that applies UPDATEs:
// - applying pending() always converges the peer to the desired set (checked against an
//   independent reference), with no useless withdrawal or announcement, through resets,
//   partial commits and route refreshes;
// - path ids are the hash of the next hop, whatever the history;
// - set(x) twice (or a permutation of x) leaves nothing pending.
import fc from 'fast-check'
import t from 'tap'
import type { FamilyKey, OutNlri } from '../wire/types.ts'
import { toNlri } from '../wire/nlri.ts'
import { parseAddress } from '../../ip/index.ts'
import { AdjRibOut, routeKey, type Advertisement, type AdvertisementBatch, type ExportContext, type RibDiff } from './adj-rib-out.ts'
import type { ExportAttrs } from './attrs.ts'
import { pathIdFor } from './pathid.ts'
import { fastCheckSeed } from '../../../test/lib/fuzz.ts'

fastCheckSeed(t)

const V4_PREFIXES = ['192.0.2.10/32', '192.0.2.11/32', '192.0.2.0/28', '198.51.100.7/32']
const V6_PREFIXES = ['2001:db8::10/128', '2001:db8::11/128', '2001:db8:1::/64']
const V4_HOPS = ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4', '203.0.113.10']
const V6_HOPS = ['2001:db8:f::1', '2001:db8:f::2', '2001:db8:f::3', '2001:db8:f::a']
const SELF = { ipv4: '198.51.100.1', ipv6: '2001:db8:ffff::1' }
const ATTRS: (ExportAttrs | undefined)[] = [undefined, { med: 5 }, { communities: ['65000:1', 'no-export'] }, { asPathPrepend: 2, largeCommunities: ['65000:0:1'] }, { med: 5 }]

const isV6 = (p: string) => p.includes(':')
const hopsFor = (p: string) => (isV6(p) ? V6_HOPS : V4_HOPS)
const cmpAddr = (a: string, b: string) => {
  const ka = parseAddress(a)!.key
  const kb = parseAddress(b)!.key
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

const advArb: fc.Arbitrary<Advertisement> = fc.constantFrom(...V4_PREFIXES, ...V6_PREFIXES).chain((prefix) =>
  fc.record({
    prefix: fc.constant(prefix),
    nextHops: fc.subarray(hopsFor(prefix)).chain((hs) => fc.shuffledSubarray(hs, { minLength: hs.length, maxLength: hs.length })),
    attrs: fc.constantFrom(...ATTRS),
  }).map((a) => (a.attrs === undefined ? { prefix: a.prefix, nextHops: a.nextHops } : a)))

const setArb = fc.array(advArb, { maxLength: 8 })

const ctxArb: fc.Arbitrary<ExportContext> = fc.record({
  addPathV4: fc.boolean(), addPathV6: fc.boolean(), self: fc.boolean(), ibgp: fc.boolean(),
}).map((c) => ({
  localAs: 65001,
  peerAs: c.ibgp ? 65001 : 65002,
  addPathTx: new Set<FamilyKey>([...(c.addPathV4 ? ['ipv4-unicast' as const] : []), ...(c.addPathV6 ? ['ipv6-unicast' as const] : [])]),
  nextHopMode: c.self ? 'self' : 'as-given',
  selfAddress: SELF,
}))

/** What the peer should hold, computed without the RIB: routeKey -> next hop. */
function reference(ctx: ExportContext, advs: readonly Advertisement[]): Map<string, string> {
  const hops = new Map<string, Set<string>>()
  for (const a of advs) {
    const text = parsePrefixText(a.prefix)
    const s = hops.get(text) ?? new Set<string>()
    for (const h of a.nextHops) s.add(parseAddress(h)!.text)
    hops.set(text, s)
  }
  const out = new Map<string, string>()
  for (const [text, set] of hops) {
    if (set.size === 0) continue
    const v6 = isV6(text)
    let list = [...set].sort(cmpAddr)
    if (ctx.nextHopMode === 'self') list = [v6 ? SELF.ipv6 : SELF.ipv4]
    if (ctx.addPathTx.has(v6 ? 'ipv6-unicast' : 'ipv4-unicast')) {
      for (const h of list) out.set(`${text}#${pathIdFor(parseAddress(h)!)}`, h)
    } else {
      out.set(`${text}#`, list[0]!)
    }
  }
  return out
}

function parsePrefixText(p: string): string {
  const [a, l] = p.split('/') as [string, string]
  return `${parseAddress(a)!.text}/${l}`
}

/** A BGP peer's Adj-RIB-In for us: routeKey -> "nexthop|attrs". Refuses useless updates. */
class ModelPeer {
  table = new Map<string, string>()
  apply(d: RibDiff): void {
    for (const w of d.withdraw) {
      for (const n of w.nlri) {
        if (!this.table.delete(routeKey(n))) throw new Error(`withdrawal of a route the peer does not have: ${routeKey(n)}`)
      }
    }
    for (const g of d.announce) {
      const nh = g.attrs.nextHop ?? g.attrs.mpReach?.nextHop
      const v = `${nh}|${JSON.stringify({ ...g.attrs, nextHop: undefined, mpReach: undefined })}`
      for (const n of g.nlri) {
        if (this.table.get(routeKey(n)) === v) throw new Error(`announcement the peer already has: ${routeKey(n)}`)
        this.table.set(routeKey(n), v)
      }
    }
  }
  nextHops(): Map<string, string> {
    return new Map([...this.table].map(([k, v]) => [k, v.split('|')[0]!]))
  }
}

const same = (a: Map<string, string>, b: Map<string, string>) =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v)

type Op =
  | { op: 'set'; advs: Advertisement[]; batched: boolean }
  | { op: 'tweak'; pick: number; to: number }
  | { op: 'sync' }
  | { op: 'partial'; keep: number }
  | { op: 'reset' }
  | { op: 'refresh' }

/**
 * The same set as batches: advertisements with the same next hops (in any order, as the batch
 * takes each prefix's own family from them) and the same attributes object share one batch.
 */
function batches(advs: readonly Advertisement[]): AdvertisementBatch[] {
  const out = new Map<string, AdvertisementBatch & { prefixes: string[] }>()
  const ids = new Map<object | undefined, number>()
  for (const a of advs) {
    if (!ids.has(a.attrs)) ids.set(a.attrs, ids.size)
    const k = `${[...a.nextHops].sort().join(',')}|${ids.get(a.attrs)}`
    const b = out.get(k)
    if (b) b.prefixes.push(a.prefix)
    else out.set(k, { prefixes: [a.prefix], nextHops: a.nextHops, ...(a.attrs ? { attrs: a.attrs } : {}) })
  }
  return [...out.values()]
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.tuple(setArb, fc.boolean()).map(([advs, batched]): Op => ({ op: 'set', advs, batched })), weight: 4 },
  { arbitrary: fc.constant<Op>({ op: 'sync' }), weight: 3 },
  { arbitrary: fc.nat(5).map((keep): Op => ({ op: 'partial', keep })), weight: 2 },
  { arbitrary: fc.constant<Op>({ op: 'reset' }), weight: 1 },
  { arbitrary: fc.tuple(fc.nat(), fc.nat()).map(([pick, to]): Op => ({ op: 'tweak', pick, to })), weight: 3 },
  { arbitrary: fc.constant<Op>({ op: 'refresh' }), weight: 1 },
)

/** The first `keep` NLRI of each group (a caller-built partial diff, as a session cut short would commit). */
function head(d: RibDiff, keep: number): RibDiff {
  return {
    withdraw: d.withdraw.map((w) => ({ family: w.family, nlri: w.nlri.slice(0, keep) })),
    announce: d.announce.map((g) => ({ ...g, nlri: g.nlri.slice(0, keep) })),
  }
}

t.test('pool of next hops has distinct path ids (so ids must equal the hash)', async (t) => {
  const ids = [...V4_HOPS, ...V6_HOPS, SELF.ipv4, SELF.ipv6].map((h) => pathIdFor(parseAddress(h)!))
  t.equal(new Set(ids).size, ids.length)
})

t.test('applying diffs converges the peer to the desired set, through resets, partial commits and refreshes', async (t) => {
  let checks = 0
  t.doesNotThrow(() => fc.assert(fc.property(ctxArb, fc.array(opArb, { minLength: 1, maxLength: 25 }), (ctx, ops) => {
    const rib = new AdjRibOut(ctx)
    const peer = new ModelPeer()
    let desired: Advertisement[] = []
    let batched = false
    for (const o of ops) {
      if (o.op === 'set') {
        rib.set(o.batched ? batches(o.advs) : o.advs)
        desired = o.advs
        batched = o.batched
      } else if (o.op === 'tweak') {
        // the last set with one prefix replaced by another of its family (a reload changing one VIP)
        if (desired.length === 0) continue
        const i = o.pick % desired.length
        const pool = isV6(desired[i]!.prefix) ? V6_PREFIXES : V4_PREFIXES
        desired = desired.map((a, j) => (j === i ? { ...a, prefix: pool[o.to % pool.length]! } : a))
        rib.set(batched ? batches(desired) : desired)
      } else if (o.op === 'sync') {
        const d = rib.pending()
        peer.apply(d)
        rib.commit(d)
      } else if (o.op === 'partial') {
        const d = head(rib.pending(), o.keep)
        peer.apply(d)
        rib.commit(d)
      } else if (o.op === 'reset') {
        rib.reset()
        peer.table.clear()
      } else {
        // route refresh: the peer replaces what it has with what we send; our view does not change
        const d = rib.all()
        for (const g of d.announce) for (const n of g.nlri) peer.table.delete(routeKey(n))
        peer.apply(d)
        rib.commit(d)
      }
    }
    const d = rib.pending()
    peer.apply(d)
    rib.commit(d)
    const want = reference(ctx, desired)
    if (!same(peer.nextHops(), want)) {
      throw new Error(`peer has ${JSON.stringify([...peer.nextHops()])}, expected ${JSON.stringify([...want])}`)
    }
    // and its attributes are exactly what a fresh session would get
    const fresh = new ModelPeer()
    fresh.apply(rib.all())
    if (!same(peer.table, fresh.table)) throw new Error('peer attributes differ from a fresh session')
    if (rib.pending().announce.length + rib.pending().withdraw.length !== 0) throw new Error('still pending after commit')
    checks++
    return true
  }), { numRuns: 400 }))
  t.ok(checks > 0, `${checks} histories converged`)
})

t.test('path ids are the hash of the next hop, whatever the order or history', async (t) => {
  let seen = 0
  t.doesNotThrow(() => fc.assert(fc.property(fc.array(setArb, { minLength: 1, maxLength: 5 }), (sets) => {
    const rib = new AdjRibOut({ localAs: 65001, peerAs: 65002, addPathTx: new Set(['ipv4-unicast', 'ipv6-unicast']), nextHopMode: 'as-given' })
    for (const advs of sets) {
      rib.set(advs)
      for (const g of rib.all().announce) {
        const nh = parseAddress((g.attrs.nextHop ?? g.attrs.mpReach?.nextHop)!)!
        for (const n of g.nlri) {
          seen++
          if (toNlri(n).pathId !== pathIdFor(nh)) return false
        }
      }
    }
    return true
  }), { numRuns: 300 }))
  t.ok(seen > 0, `${seen} paths checked`)
})

t.test('set(x); commit; set(x) or set(shuffled x) gives an empty diff', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(ctxArb, setArb.chain((x) => fc.tuple(fc.constant(x), fc.shuffledSubarray(x, { minLength: x.length, maxLength: x.length }))), (ctx, [x, shuffled]) => {
    const rib = new AdjRibOut(ctx)
    rib.set(x)
    rib.commit(rib.pending())
    rib.set(x)
    const again = rib.pending()
    rib.set(shuffled.map((a) => ({ ...a, nextHops: [...a.nextHops].reverse() })))
    const perm = rib.pending()
    return again.announce.length + again.withdraw.length + perm.announce.length + perm.withdraw.length === 0
  }), { numRuns: 300 }))
})

t.test('every NLRI in a diff appears once, with a path id exactly when ADD-PATH is on for its family', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(ctxArb, setArb, setArb, (ctx, a, b) => {
    const rib = new AdjRibOut(ctx)
    rib.set(a)
    rib.commit(rib.pending())
    rib.set(b)
    const d = rib.pending()
    const keys = new Set<string>()
    const check = (family: FamilyKey, out: OutNlri): boolean => {
      const k = routeKey(out)
      if (keys.has(k)) return false
      keys.add(k)
      const n = toNlri(out)
      // a host route without a path id is its address text, and only such a route is
      const host = n.prefix.len === (family === 'ipv4-unicast' ? 32 : 128)
      if ((typeof out === 'string') !== (host && n.pathId === undefined)) return false
      if ((n.prefix.afi === 2) !== (family === 'ipv6-unicast')) return false
      return (n.pathId !== undefined) === ctx.addPathTx.has(family) && ('pathId' in n) === ctx.addPathTx.has(family)
    }
    return d.withdraw.every((w) => w.nlri.every((n) => check(w.family, n))) && d.announce.every((g) => g.nlri.every((n) => check(g.family, n)))
  }), { numRuns: 300 }))
})
