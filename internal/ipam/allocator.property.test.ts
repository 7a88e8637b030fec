// fast-check properties of the allocator over random histories (setPools, allocate, assign,
// unassign) in a small address space, so that pools overlap, fill up and IPs get contested:
// - no IP is held by two services unless the sharing rule allows it, and a service holds one IP
//   per family;
// - allocate() is idempotent (a second call answers the same, unchanged) and changes nothing
//   when it fails;
// - a newly allocated IP is inside an enabled pool of its family and was free unless requested;
//   with fixed pools every held IP is inside a pool of its family;
// - setPools() never moves an assignment and reports exactly those outside every pool;
// - assign() of the final assignments in any order rebuilds the same state.
// The seed is fixed and printed (test/lib/fuzz.ts); PORTER_FC_SEED varies it, PORTER_FC_SCALE multiplies the runs.
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { isDeepStrictEqual } from 'node:util'
import { fastCheckSeed, checkProperty } from '../../test/lib/fuzz.ts'
import { Allocator, parseRange, type Family, type Pool, type Port, type ServiceRequest, type TrafficPolicy } from './index.ts'

const FC = fastCheckSeed(t)
const check = <Ts extends unknown[]>(t: Test, name: string, prop: fc.IProperty<Ts>, runs: number): void => checkProperty(t, FC, name, prop, runs)

// the universe: 16 addresses per family, three namespaces, six services, four pool names
const V4 = Array.from({ length: 16 }, (_, i) => `192.0.2.${i}`)
const V6 = Array.from({ length: 16 }, (_, i) => `2001:db8::${i.toString(16)}`)
const OUTSIDE = ['198.18.200.1', '2001:db8:ffff::1']
const NAMESPACES: Record<string, Record<string, string>> = { n1: { team: 'red' }, n2: { team: 'blue' }, n3: {} }
const KEYS = ['n1/a', 'n1/b', 'n2/a', 'n2/b', 'n3/a', 'n3/b']
const POOL_NAMES = ['p0', 'p1', 'p2', 'p3']
const PORTS: Port[] = [{ protocol: 'TCP', port: 80 }, { protocol: 'TCP', port: 443 }, { protocol: 'UDP', port: 53 }]

const poolArb = (name: string): fc.Arbitrary<Pool> =>
  fc.record({
    v6: fc.boolean(),
    first: fc.constantFrom(0, 0, 1, 1, 2, 4),
    size: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 4, max: 16 })),
    disabled: fc.nat(3).map((n) => n === 0),
    priority: fc.nat(2),
    namespaces: fc.subarray(Object.keys(NAMESPACES)),
    selector: fc.option(fc.constantFrom('red', 'blue'), { nil: undefined }),
    isDefault: fc.boolean(),
  }).map((p) => {
    const all = p.v6 ? V6 : V4
    const address = `${all[p.first]}-${all[Math.min(15, p.first + p.size - 1)]}`
    const r = parseRange(address)
    if (typeof r === 'string') throw new Error(r)
    const pool: Pool = {
      name, range: r, disabled: p.disabled, priority: p.priority, namespaces: p.namespaces, isDefault: p.isDefault,
      ...(p.selector ? { namespaceSelector: { matchLabels: { team: p.selector } } } : {}),
    }
    // counterexamples print the pool as its spec, not the range's bigints
    const { range: _, ...spec } = pool
    return Object.defineProperty(pool, fc.toStringMethod, { value: () => `pool(${fc.stringify({ ...spec, address })})` })
  })

const poolsArb: fc.Arbitrary<Pool[]> = fc.subarray(POOL_NAMES, { minLength: 1 }).chain((names) => fc.tuple(...names.map(poolArb)))

const FAMILY_SETS: Family[][] = [['IPv4'], ['IPv6'], ['IPv4', 'IPv6'], ['IPv6', 'IPv4']]

/** mostly undefined, sometimes one of `values` */
const rarely = <T>(values: fc.Arbitrary<T>, weight = 1): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 4 - weight, arbitrary: fc.constant(undefined) }, { weight, arbitrary: values })

/** contested IPs: a few per family, mostly inside the pools, one outside the universe */
const requestableIps = (families: readonly Family[]): fc.Arbitrary<string[]> =>
  fc.tuple(...families.map((f) => (f === 'IPv4' ? fc.constantFrom(V4[1]!, V4[1]!, V4[1]!, V4[2]!, V4[2]!, V4[9]!, OUTSIDE[0]!) : fc.constantFrom(V6[1]!, V6[1]!, V6[1]!, V6[9]!, OUTSIDE[1]!))))
    .chain((ips) => fc.subarray(ips, { minLength: 1 }))

const reqArb: fc.Arbitrary<ServiceRequest> = fc.constantFrom(...FAMILY_SETS).chain((families) =>
  fc.record({
    key: fc.constantFrom(...KEYS),
    pool: rarely(fc.constantFrom(...POOL_NAMES, ...POOL_NAMES, 'missing')),
    // now and then a malformed request: an IP of a family not asked for
    ips: rarely(fc.oneof({ weight: 9, arbitrary: requestableIps(families) }, { weight: 1, arbitrary: fc.constantFrom([V6[3]!], [V4[3]!], [V4[1]!, V4[2]!]).map((x) => [...x]) }), 2),
    families: fc.constant(families),
    preferDualStack: fc.boolean(),
    ports: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...PORTS).map((p) => [p]) }, { weight: 1, arbitrary: fc.subarray(PORTS, { minLength: 2, maxLength: 2 }) }),
    trafficPolicy: fc.constantFrom<TrafficPolicy>('Cluster', 'Cluster', 'Cluster', 'Local'),
    sharingKey: rarely(fc.constantFrom('s1', 's1', 's2'), 3),
  })).map((r) => {
  const namespace = r.key.split('/')[0]!
  const req: ServiceRequest = { ...r, namespace, namespaceLabels: NAMESPACES[namespace]! }
  if (r.pool === undefined) delete req.pool
  if (r.ips === undefined) delete req.ips
  if (r.sharingKey === undefined) delete req.sharingKey
  return req
})

type Op =
  | { op: 'setPools'; pools: Pool[] }
  | { op: 'allocate'; req: ServiceRequest }
  | { op: 'assign'; req: ServiceRequest; ips: string[] }
  | { op: 'unassign'; key: string }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 1, arbitrary: poolsArb.map((pools) => ({ op: 'setPools' as const, pools })) },
  { weight: 6, arbitrary: reqArb.map((req) => ({ op: 'allocate' as const, req })) },
  { weight: 2, arbitrary: fc.tuple(reqArb, fc.subarray([...V4.slice(0, 4), ...V6.slice(0, 4), ...OUTSIDE], { maxLength: 2 })).map(([req, ips]) => ({ op: 'assign' as const, req, ips })) },
  { weight: 1, arbitrary: fc.constantFrom(...KEYS).map((key) => ({ op: 'unassign' as const, key })) },
)

// an independent statement of the sharing rule
const conflicts = (a: ServiceRequest, b: ServiceRequest): boolean =>
  !(a.trafficPolicy === 'Cluster' ? b.trafficPolicy === 'Cluster' : b.trafficPolicy === 'Local' && a.sharingKey !== undefined && a.sharingKey === b.sharingKey) ||
  a.ports.some((p) => b.ports.some((q) => p.protocol.toUpperCase() === q.protocol.toUpperCase() && p.port === q.port))

const familyOf = (ip: string): Family => (ip.includes(':') ? 'IPv6' : 'IPv4')

function snapshot(a: Allocator) {
  const ips = Object.fromEntries(KEYS.map((k) => [k, a.ipsOf(k)]))
  const held = [...new Set(Object.values(ips).flat())].sort()
  return { keys: a.keys(), ips, holders: held.map((ip) => [ip, a.holders(ip)]), outOfPool: a.outOfPool(), status: POOL_NAMES.map((n) => a.poolStatus(n)) }
}

/** Run a history, checking the invariants after every step; returns the allocator and each key's last accepted request. */
function replay(ops: Op[], initial: Pool[]): { a: Allocator; last: Map<string, ServiceRequest>; pools: Pool[] } {
  const a = new Allocator()
  let pools = initial
  a.setPools(pools)
  const last = new Map<string, ServiceRequest>()
  const fail = (i: number, what: string) => {
    throw new Error(`step ${i} (${fc.stringify(ops[i])}): ${what}`)
  }
  for (const [i, o] of ops.entries()) {
    const before = snapshot(a)
    if (o.op === 'setPools') {
      pools = o.pools
      const { outOfPool } = a.setPools(pools)
      const after = snapshot(a)
      if (!isDeepStrictEqual(after.ips, before.ips)) fail(i, 'setPools moved an assignment')
      const want = KEYS.flatMap((key) => a.ipsOf(key).filter((ip) => !pools.some((p) => p.range.contains(ip))).map((ip) => ({ key, ip })))
      if (!isDeepStrictEqual(outOfPool, want)) fail(i, `outOfPool ${fc.stringify(outOfPool)}, expected ${fc.stringify(want)}`)
    } else if (o.op === 'allocate') {
      const prev = a.ipsOf(o.req.key)
      const r = a.allocate(o.req)
      if (r.ok) {
        last.set(o.req.key, o.req)
        if (!isDeepStrictEqual(a.ipsOf(o.req.key), r.ips)) fail(i, 'ipsOf differs from the answer')
        const fams = r.ips.map(familyOf)
        if (!isDeepStrictEqual(fams, o.req.families.filter((f) => fams.includes(f)))) fail(i, `families ${fams} out of order or not requested`)
        if (!o.req.preferDualStack && fams.length !== o.req.families.length) fail(i, 'a family is missing')
        if (r.changed !== !isDeepStrictEqual(prev, r.ips)) fail(i, 'changed is wrong')
        for (const [j, ip] of r.ips.entries()) {
          const named = r.pools[j] ? pools.find((p) => p.name === r.pools[j]) : undefined
          if (r.pools[j] && !named?.range.contains(ip)) fail(i, `${ip} is not in its pool "${r.pools[j]}"`)
          if (prev.includes(ip)) continue
          if (!pools.some((p) => !p.disabled && p.range.contains(ip) && p.range.family === familyOf(ip))) fail(i, `new ${ip} is in no enabled pool of its family`)
          const requested = (o.req.ips ?? []).some((x) => x === ip)
          if (!requested && before.holders.some(([h]) => h === ip)) fail(i, `${ip} was held and not requested`)
        }
        const again = a.allocate(o.req)
        if (!again.ok || again.changed || !isDeepStrictEqual(again.ips, r.ips) || !isDeepStrictEqual(again.pools, r.pools)) fail(i, `not idempotent: ${fc.stringify(again)}`)
      } else {
        if (!isDeepStrictEqual(snapshot(a), before)) fail(i, `a failed allocate (${r.reason}) changed the state`)
        const again = a.allocate(o.req)
        if (again.ok || again.reason !== r.reason) fail(i, `not idempotent: ${r.reason} then ${fc.stringify(again)}`)
      }
    } else if (o.op === 'assign') {
      const r = a.assign(o.req, o.ips)
      if (r.ok && o.ips.length > 0) last.set(o.req.key, o.req)
      else if (r.ok) last.delete(o.req.key)
      else if (!isDeepStrictEqual(snapshot(a), before)) fail(i, `a failed assign (${r.reason}) changed the state`)
    } else {
      const released = a.unassign(o.key)
      if (!isDeepStrictEqual(released, before.ips[o.key])) fail(i, 'unassign released something else')
      last.delete(o.key)
    }
    // invariants of the state
    const s = snapshot(a)
    for (const [ip, keys] of s.holders as [string, string[]][]) {
      if (keys.length === 0) fail(i, `${ip} held by no one`)
      for (const k of keys) if (!a.ipsOf(k).includes(ip)) fail(i, `${k} is a holder of ${ip} without holding it`)
      for (const [x, k1] of keys.entries()) {
        for (const k2 of keys.slice(x + 1)) if (conflicts(last.get(k1)!, last.get(k2)!)) fail(i, `${ip} held by ${k1} and ${k2}, which may not share`)
      }
    }
    for (const k of KEYS) {
      const fams = a.ipsOf(k).map(familyOf)
      if (new Set(fams).size !== fams.length) fail(i, `${k} holds two IPs of one family`)
      if (fams.length > 0 !== last.has(k)) fail(i, `${k}: holds ${fams.length} IPs, last request ${last.has(k)}`)
    }
    if (!isDeepStrictEqual(s.keys, KEYS.filter((k) => last.has(k)))) fail(i, `keys() ${s.keys}`)
  }
  return { a, last, pools }
}

const historyArb = fc.array(opArb, { minLength: 1, maxLength: 40 })

t.test('random histories keep the invariants (sharing, idempotence, pools, outOfPool)', async (t) => {
  check(t, 'invariants', fc.property(poolsArb, historyArb, (pools, ops) => {
    replay(ops, pools)
    return true
  }), 400)
})

t.test('with fixed pools, every held IP is inside a pool of its family', async (t) => {
  const noPoolChange = fc.array(opArb.filter((o) => o.op === 'allocate' || o.op === 'unassign'), { minLength: 1, maxLength: 40 })
  check(t, 'inside pools', fc.property(poolsArb, noPoolChange, (pools, ops) => {
    const { a } = replay(ops, pools)
    for (const k of KEYS) {
      for (const ip of a.ipsOf(k)) if (!pools.some((p) => p.range.family === familyOf(ip) && p.range.contains(ip))) throw new Error(`${k} holds ${ip}, in no pool`)
    }
    return a.outOfPool().length === 0
  }), 300)
})

t.test('assign() of the final state in any order rebuilds it', async (t) => {
  check(t, 'rebuild', fc.property(poolsArb, historyArb, fc.shuffledSubarray(KEYS, { minLength: KEYS.length }), (initial, ops, order) => {
    const { a, last, pools } = replay(ops, initial)
    const b = new Allocator()
    b.setPools(pools)
    for (const k of order) {
      const req = last.get(k)
      if (!req) continue
      const r = b.assign(req, a.ipsOf(k))
      if (!r.ok) throw new Error(`assign ${k}: ${r.message}`)
    }
    if (!isDeepStrictEqual(snapshot(b), snapshot(a))) throw new Error(`rebuilt ${fc.stringify(snapshot(b))}\nlive ${fc.stringify(snapshot(a))}`)
    for (const req of last.values()) {
      if (!isDeepStrictEqual(b.allocate(req), a.allocate(req))) throw new Error(`${req.key}: allocate answers differently after the rebuild`)
    }
    return true
  }), 300)
})
