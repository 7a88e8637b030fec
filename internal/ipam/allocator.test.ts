// Allocator step tables (MetalLB allocator-test style): one allocator per story, a list of steps
// (setPools, allocate, assign, unassign) with the expected result of each, rendered as text:
//   allocate: "192.0.2.0 (pool-a), 2001:db8:: (pool-6)" plus " unchanged" when changed is false,
//             "(no pool)" for an IP outside every pool, or the failure reason
//   assign:   "ok" or the failure reason
//   unassign: "released 192.0.2.1" or "released nothing"
//   setPools: "out of pool: ns/a 192.0.2.5, ..." or "all in pools"
// and optional checks of the state after the step.
import t, { type Test } from 'tap'
import { Allocator, parseRange, type Failure, type IpRange, type OutOfPool, type Pool, type PoolStatus, type ServiceRequest } from './index.ts'

function range(s: string): IpRange {
  const r = parseRange(s)
  if (typeof r === 'string') throw new Error(r)
  return r
}

const pool = (name: string, address: string, o: Partial<Omit<Pool, 'name' | 'range'>> = {}): Pool => ({
  name, range: range(address), disabled: false, priority: 0, namespaces: [], isDefault: false, ...o,
})

const tcp = (port: number) => ({ protocol: 'TCP', port })
const udp = (port: number) => ({ protocol: 'UDP', port })

/** "namespace/name" asking for one IPv4 address, TCP 80, Cluster */
const svc = (key: string, o: Partial<ServiceRequest> = {}): ServiceRequest => ({
  key, namespace: key.split('/')[0]!, namespaceLabels: {}, families: ['IPv4'], ports: [tcp(80)], trafficPolicy: 'Cluster', ...o,
})

interface Step {
  name: string
  setPools?: Pool[]
  allocate?: ServiceRequest
  assign?: ServiceRequest
  /** with assign */
  ips?: string[]
  unassign?: string
  want: string
  /** a failure's message matches */
  message?: RegExp | string
  /** after the step */
  holders?: Record<string, string[]>
  ipsOf?: Record<string, string[]>
  /** the keys holding IPs */
  keys?: string[]
  outOfPool?: OutOfPool[]
  status?: Record<string, Partial<PoolStatus> | undefined>
}

const failed = (r: Failure) => r.reason

function run(a: Allocator, s: Step): { text: string; message?: string } {
  if (s.setPools) {
    const { outOfPool } = a.setPools(s.setPools)
    return { text: outOfPool.length === 0 ? 'all in pools' : `out of pool: ${outOfPool.map((o) => `${o.key} ${o.ip}`).join(', ')}` }
  }
  if (s.allocate) {
    const r = a.allocate(s.allocate)
    if (!r.ok) return { text: failed(r), message: r.message }
    return { text: r.ips.map((ip, i) => `${ip} (${r.pools[i] || 'no pool'})`).join(', ') + (r.changed ? '' : ' unchanged') }
  }
  if (s.assign) {
    const r = a.assign(s.assign, s.ips ?? [])
    return r.ok ? { text: 'ok' } : { text: failed(r), message: r.message }
  }
  if (s.unassign !== undefined) {
    const ips = a.unassign(s.unassign)
    return { text: ips.length === 0 ? 'released nothing' : `released ${ips.join(' ')}` }
  }
  throw new Error(`step "${s.name}" does nothing`)
}

function story(t: Test, a: Allocator, steps: Step[]): void {
  t.ok(steps.length > 0, 'story has steps')
  for (const s of steps) {
    const r = run(a, s)
    t.equal(r.text, s.want, s.name)
    if (s.message !== undefined) {
      if (typeof s.message === 'string') t.equal(r.message, s.message, `${s.name}: message`)
      else t.match(r.message, s.message, `${s.name}: message`)
    }
    for (const [ip, keys] of Object.entries(s.holders ?? {})) t.same(a.holders(ip), keys, `${s.name}: holders of ${ip}`)
    for (const [key, ips] of Object.entries(s.ipsOf ?? {})) t.same(a.ipsOf(key), ips, `${s.name}: IPs of ${key}`)
    if (s.keys) t.same(a.keys(), s.keys, `${s.name}: keys`)
    if (s.outOfPool) t.same(a.outOfPool(), s.outOfPool, `${s.name}: out of pool`)
    for (const [name, st] of Object.entries(s.status ?? {})) {
      if (st === undefined) t.equal(a.poolStatus(name), undefined, `${s.name}: no pool "${name}"`)
      else t.match(a.poolStatus(name), st, `${s.name}: status of "${name}"`)
    }
  }
}

t.test('pool choice: bound pools by priority then name, list and selector, then default pools', async (t) => {
  const pools = [
    pool('prio5', '192.0.2.0/31', { namespaces: ['team-a'], priority: 5 }),
    pool('prio1-b', '192.0.2.8/31', { namespaces: ['team-a'], priority: 1 }),
    pool('prio1-a', '192.0.2.16/31', { namespaces: ['team-a'], priority: 1 }),
    pool('by-label', '192.0.2.32/31', { namespaceSelector: { matchLabels: { env: 'prod' } } }),
    pool('by-expr', '192.0.2.40/31', { namespaceSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold', 'silver'] }, { key: 'legacy', operator: 'DoesNotExist' }] } }),
    pool('edge', '192.0.2.48/31', { namespaceSelector: { matchExpressions: [{ key: 'edge', operator: 'Exists' }, { key: 'zone', operator: 'NotIn', values: ['eu'] }] } }),
    pool('fallback', '198.51.100.0/30', { isDefault: true, priority: 9 }),
    pool('manual', '203.0.113.0/31'),
  ]
  story(t, new Allocator(), [
    { name: 'the pools arrive', setPools: pools, want: 'all in pools' },
    { name: 'team-a: of the bound pools the lowest priority wins, a tie goes by name', allocate: svc('team-a/s1'), want: '192.0.2.16 (prio1-a)' },
    { name: 'team-a: the lowest free address of that pool', allocate: svc('team-a/s2'), want: '192.0.2.17 (prio1-a)' },
    { name: 'team-a: prio1-a is full, prio1-b next', allocate: svc('team-a/s3'), want: '192.0.2.8 (prio1-b)' },
    { name: 'team-a: the rest of prio1-b', allocate: svc('team-a/s4'), want: '192.0.2.9 (prio1-b)' },
    { name: 'team-a: then the higher priority value', allocate: svc('team-a/s5'), want: '192.0.2.0 (prio5)' },
    { name: 'team-a: the rest of prio5', allocate: svc('team-a/s6'), want: '192.0.2.1 (prio5)' },
    { name: 'team-a: bound pools full, the default pool serves (OpenELB order)', allocate: svc('team-a/s7'), want: '198.51.100.0 (fallback)' },
    { name: 'prod: bound by matchLabels', allocate: svc('prod/s1', { namespaceLabels: { env: 'prod', x: 'y' } }), want: '192.0.2.32 (by-label)' },
    { name: 'gold: bound by In + DoesNotExist', allocate: svc('gold/s1', { namespaceLabels: { tier: 'gold' } }), want: '192.0.2.40 (by-expr)' },
    { name: 'gold-legacy: DoesNotExist fails, default pool', allocate: svc('gold-legacy/s1', { namespaceLabels: { tier: 'gold', legacy: 'yes' } }), want: '198.51.100.1 (fallback)' },
    { name: 'edge-us: Exists + NotIn', allocate: svc('edge-us/s1', { namespaceLabels: { edge: '', zone: 'us' } }), want: '192.0.2.48 (edge)' },
    { name: 'edge-eu: NotIn fails, default pool', allocate: svc('edge-eu/s1', { namespaceLabels: { edge: '', zone: 'eu' } }), want: '198.51.100.2 (fallback)' },
    { name: 'a pool neither bound nor default serves no one unasked', allocate: svc('other/s1'), want: '198.51.100.3 (fallback)', status: { manual: { usage: 0, used: {} } } },
    {
      name: 'every candidate is full',
      allocate: svc('other/s2'),
      want: 'PoolExhausted',
      message: 'Pool "fallback" (198.51.100.0-198.51.100.3) is full: widen a range, add a pool or release an IP',
    },
    {
      name: 'the default pool goes: its four holders are reported, and keep their IPs',
      setPools: pools.filter((p) => p.name !== 'fallback'),
      want: 'out of pool: edge-eu/s1 198.51.100.2, gold-legacy/s1 198.51.100.1, other/s1 198.51.100.3, team-a/s7 198.51.100.0',
      ipsOf: { 'other/s1': ['198.51.100.3'] },
      status: { fallback: undefined },
    },
    {
      name: 'a namespace without a bound pool and no default pool',
      allocate: svc('other/s2'),
      want: 'NoPoolForNamespace',
      message: 'No pool is bound to namespace "other" and none is a default: bind one (spec.namespaces or spec.namespaceSelector), mark one with eip.openelb.kubesphere.io/is-default-eip: "true" or request a pool',
    },
    { name: 'team-a: all bound pools full', allocate: svc('team-a/s8'), want: 'PoolExhausted', message: 'Pools "prio1-a", "prio1-b", "prio5" are full: widen a range, add a pool or release an IP' },
  ])
})

t.test('requested pool and requested IP', async (t) => {
  story(t, new Allocator(), [
    {
      name: 'pools: one bound to apps, one neither bound nor default, one disabled, one IPv6',
      setPools: [
        pool('bound', '192.0.2.0/30', { namespaces: ['apps'] }),
        pool('manual', '203.0.113.0/30'),
        pool('off', '198.51.100.0/30', { disabled: true, isDefault: true }),
        pool('v6', '2001:db8::/120', { namespaces: ['apps'] }),
      ],
      want: 'all in pools',
    },
    { name: 'a named pool serves whatever its namespace binding', allocate: svc('apps/named', { pool: 'manual' }), want: '203.0.113.0 (manual)' },
    { name: 'also to another namespace', allocate: svc('other/named', { pool: 'manual' }), want: '203.0.113.1 (manual)' },
    { name: 'a pool that does not exist', allocate: svc('apps/x', { pool: 'nope' }), want: 'PoolNotFound', message: 'Pool "nope" does not exist: create it or request another pool' },
    { name: 'a disabled pool', allocate: svc('apps/x', { pool: 'off' }), want: 'PoolDisabled', message: 'Pool "off" (198.51.100.0-198.51.100.3) is disabled and gives no new IPs: enable one or add a pool' },
    { name: 'an IP of a bound pool', allocate: svc('apps/ip', { ips: ['192.0.2.3'] }), want: '192.0.2.3 (bound)' },
    { name: 'an IP of any enabled pool, bound or not', allocate: svc('apps/ip-manual', { ips: ['203.0.113.2'] }), want: '203.0.113.2 (manual)' },
    { name: 'an IP in no pool', allocate: svc('apps/outside', { ips: ['198.18.200.1'] }), want: 'IPNotInPool', message: '"198.18.200.1" is in no pool: request an IP of a pool or add a pool with it' },
    {
      name: 'an IP outside the named pool',
      allocate: svc('apps/mismatch', { pool: 'bound', ips: ['203.0.113.3'] }),
      want: 'IPNotInPool',
      message: '"203.0.113.3" is not in pool "bound" (192.0.2.0-192.0.2.3): request an IP of the pool or another pool',
    },
    { name: 'an IP of the named pool', allocate: svc('apps/match', { pool: 'manual', ips: ['203.0.113.3'] }), want: '203.0.113.3 (manual)' },
    { name: 'an IP only in a disabled pool', allocate: svc('apps/in-off', { ips: ['198.51.100.1'] }), want: 'PoolDisabled', message: /^"198\.51\.100\.1" is only in disabled pools \("off"\)/ },
    { name: 'IPs are canonical in and out', allocate: svc('apps/v6', { families: ['IPv6'], ips: ['2001:DB8:0::0002'] }), want: '2001:db8::2 (v6)', holders: { '2001:db8:0:0::2': ['apps/v6'] } },
    { name: 'automatic: the lowest free of the bound pool', allocate: svc('apps/a1'), want: '192.0.2.0 (bound)' },
    { name: 'automatic: next', allocate: svc('apps/a2'), want: '192.0.2.1 (bound)' },
    { name: 'automatic: next', allocate: svc('apps/a3'), want: '192.0.2.2 (bound)' },
    {
      name: 'automatic never takes a held IP (192.0.2.3, requested by apps/ip, could be shared)',
      allocate: svc('apps/a4', { ports: [tcp(443)] }),
      want: 'PoolExhausted',
      holders: { '192.0.2.3': ['apps/ip'] },
    },
    { name: 'the named pool again: idempotent', allocate: svc('apps/named', { pool: 'manual' }), want: '203.0.113.0 (manual) unchanged' },
    { name: 'the requested IP again: idempotent', allocate: svc('apps/ip', { ips: ['192.0.2.3'] }), want: '192.0.2.3 (bound) unchanged' },
    { name: 'the named pool is full', allocate: svc('apps/more', { pool: 'manual' }), want: 'PoolExhausted', message: /^Pool "manual" \(203\.0\.113\.0-203\.0\.113\.3\) is full/ },
    {
      name: 'status of the named pool',
      allocate: svc('apps/named', { pool: 'manual' }),
      want: '203.0.113.0 (manual) unchanged',
      status: {
        manual: { size: 4n, usage: 4, firstIP: '203.0.113.0', lastIP: '203.0.113.3', family: 'IPv4', used: { '203.0.113.0': 'apps/named', '203.0.113.1': 'other/named', '203.0.113.2': 'apps/ip-manual', '203.0.113.3': 'apps/match' } },
        off: { usage: 0 },
      },
    },
  ])
})

t.test('sharing an IP: only when requested, ports apart, Cluster with Cluster or Local with the same pods', async (t) => {
  story(t, new Allocator(), [
    { name: 'two single-address default pools', setPools: [pool('vip', '192.0.2.1', { isDefault: true }), pool('vip2', '192.0.2.2', { isDefault: true, priority: 1 })], want: 'all in pools' },
    { name: 'web/http takes 192.0.2.1', allocate: svc('web/http', { ips: ['192.0.2.1'] }), want: '192.0.2.1 (vip)' },
    { name: 'web/https, another port, asks for it: both hold it', allocate: svc('web/https', { ports: [tcp(443)], ips: ['192.0.2.1'] }), want: '192.0.2.1 (vip)', holders: { '192.0.2.1': ['web/http', 'web/https'] } },
    { name: 'web/dns, UDP and TCP 53: a third holder', allocate: svc('web/dns', { ports: [udp(53), tcp(53)], ips: ['192.0.2.1'] }), want: '192.0.2.1 (vip)' },
    { name: 'web/quic, UDP 443 next to TCP 443: fine', allocate: svc('web/quic', { ports: [{ protocol: 'udp', port: 443 }], ips: ['192.0.2.1'] }), want: '192.0.2.1 (vip)' },
    {
      name: 'web/alt-http, TCP 80 again: port conflict',
      allocate: svc('web/alt-http', { ports: [tcp(8080), tcp(80)], ips: ['192.0.2.1'] }),
      want: 'PortConflict',
      message: '"192.0.2.1" is held by "web/http": both use TCP port 80; request another IP or change one of them',
      ipsOf: { 'web/alt-http': [] },
    },
    {
      name: 'web/local, Local, no port conflict: not with Cluster services',
      allocate: svc('web/local', { trafficPolicy: 'Local', sharingKey: 'app=web', ports: [tcp(9000)], ips: ['192.0.2.1'] }),
      want: 'IPInUse',
      message: '"192.0.2.1" is held by "web/dns": a service with externalTrafficPolicy Local shares an IP only with Local services of the same pods; request another IP or change one of them',
    },
    { name: 'automatic allocation never shares: vip2', allocate: svc('web/auto', { ports: [tcp(9000)] }), want: '192.0.2.2 (vip2)' },
    { name: 'and then nothing is free', allocate: svc('web/auto2', { ports: [tcp(9001)] }), want: 'PoolExhausted' },
    { name: 'web/auto leaves', unassign: 'web/auto', want: 'released 192.0.2.2' },
    { name: 'Local l1 on 192.0.2.2', allocate: svc('web/l1', { trafficPolicy: 'Local', sharingKey: 'app=a', ips: ['192.0.2.2'] }), want: '192.0.2.2 (vip2)' },
    { name: 'Local l2, same pods, another port: shares', allocate: svc('web/l2', { trafficPolicy: 'Local', sharingKey: 'app=a', ports: [tcp(81)], ips: ['192.0.2.2'] }), want: '192.0.2.2 (vip2)' },
    {
      name: 'Local l3, other pods: in use',
      allocate: svc('web/l3', { trafficPolicy: 'Local', sharingKey: 'app=b', ports: [tcp(82)], ips: ['192.0.2.2'] }),
      want: 'IPInUse',
      message: /held by "web\/l1": both have externalTrafficPolicy Local but select different pods/,
    },
    { name: 'Local without a sharing key shares with no one', allocate: svc('web/l4', { trafficPolicy: 'Local', ports: [tcp(83)], ips: ['192.0.2.2'] }), want: 'IPInUse' },
    { name: 'Cluster c1: in use', allocate: svc('web/c1', { ports: [tcp(83)], ips: ['192.0.2.2'] }), want: 'IPInUse' },
    { name: 'l2 moves to l1\'s port while asking for the IP: refused, l2 keeps what it held', allocate: svc('web/l2', { trafficPolicy: 'Local', sharingKey: 'app=a', ips: ['192.0.2.2'] }), want: 'PortConflict', ipsOf: { 'web/l2': ['192.0.2.2'] } },
    { name: 'web/http leaves', unassign: 'web/http', want: 'released 192.0.2.1', holders: { '192.0.2.1': ['web/dns', 'web/https', 'web/quic'] } },
    {
      name: 'web/alt-http fits now',
      allocate: svc('web/alt-http', { ports: [tcp(8080), tcp(80)], ips: ['192.0.2.1'] }),
      want: '192.0.2.1 (vip)',
      status: { vip: { usage: 1, used: { '192.0.2.1': 'web/alt-http,web/dns,web/https,web/quic' } }, vip2: { usage: 1, used: { '192.0.2.2': 'web/l1,web/l2' } } },
    },
    { name: 'a shared IP asked again: idempotent', allocate: svc('web/https', { ports: [tcp(443)], ips: ['192.0.2.1'] }), want: '192.0.2.1 (vip) unchanged' },
  ])
})

t.test('both families: RequireDualStack and PreferDualStack', async (t) => {
  const v4 = pool('v4', '192.0.2.0/30', { isDefault: true })
  const v6 = pool('v6', '2001:db8::/120', { isDefault: true })
  const dual: Partial<ServiceRequest> = { families: ['IPv4', 'IPv6'] }
  story(t, new Allocator(), [
    { name: 'an IPv4 and an IPv6 default pool', setPools: [v4, v6], want: 'all in pools' },
    { name: 'dual stack, IPv4 first', allocate: svc('ns/dual', { families: ['IPv4', 'IPv6'] }), want: '192.0.2.0 (v4), 2001:db8:: (v6)' },
    { name: 'dual stack, IPv6 first: in that order', allocate: svc('ns/dual6', { families: ['IPv6', 'IPv4'] }), want: '2001:db8::1 (v6), 192.0.2.1 (v4)' },
    { name: 'IPv6 only', allocate: svc('ns/v6only', { families: ['IPv6'] }), want: '2001:db8::2 (v6)' },
    { name: 'dual stack with a requested IPv4: IPv6 from the pools', allocate: svc('ns/dual-ip', { ...dual, ips: ['192.0.2.3'] }), want: '192.0.2.3 (v4), 2001:db8::3 (v6)' },
    {
      name: 'RequireDualStack naming an IPv4 pool',
      allocate: svc('ns/named', { ...dual, pool: 'v4' }),
      want: 'NoPoolForFamily',
      message: 'Pool "v4" is IPv4 and gives no IPv6 address to "ns/named": drop IPv6 from its families or request no pool',
      ipsOf: { 'ns/named': [] },
    },
    { name: 'PreferDualStack naming an IPv4 pool: IPv4 only', allocate: svc('ns/named', { ...dual, pool: 'v4', preferDualStack: true }), want: '192.0.2.2 (v4)' },
    { name: 'ns/named leaves', unassign: 'ns/named', want: 'released 192.0.2.2' },
    { name: 'the IPv6 pool goes: its holders keep their IPs', setPools: [v4], want: 'out of pool: ns/dual 2001:db8::, ns/dual-ip 2001:db8::3, ns/dual6 2001:db8::1, ns/v6only 2001:db8::2' },
    { name: 'kept: no move', allocate: svc('ns/dual', dual), want: '192.0.2.0 (v4), 2001:db8:: (no pool) unchanged' },
    { name: 'ns/dual-ip leaves', unassign: 'ns/dual-ip', want: 'released 192.0.2.3 2001:db8::3' },
    {
      name: 'RequireDualStack with only IPv4 pools',
      allocate: svc('ns/require', dual),
      want: 'NoPoolForFamily',
      message: 'No IPv6 pool serves namespace "ns" (its pools: "v4"): add one or drop IPv6',
    },
    { name: 'PreferDualStack with only IPv4 pools: IPv4 alone', allocate: svc('ns/prefer', { ...dual, preferDualStack: true }), want: '192.0.2.2 (v4)' },
    { name: 'PreferDualStack again: idempotent', allocate: svc('ns/prefer', { ...dual, preferDualStack: true }), want: '192.0.2.2 (v4) unchanged' },
    { name: 'PreferDualStack, the IPv4 address requested', allocate: svc('ns/prefer-ip', { ...dual, preferDualStack: true, ips: ['192.0.2.3'] }), want: '192.0.2.3 (v4)' },
    { name: 'PreferDualStack and no family can be served: the first family\'s reason', allocate: svc('ns/prefer2', { ...dual, preferDualStack: true }), want: 'PoolExhausted' },
    { name: 'PreferDualStack does not excuse a bad requested IP', allocate: svc('ns/prefer3', { ...dual, preferDualStack: true, ips: ['2001:db8:9::1'] }), want: 'IPNotInPool' },
    { name: 'the IPv6 pool is back', setPools: [v4, v6], want: 'all in pools' },
    { name: 'PreferDualStack gains its IPv6 address, keeps IPv4', allocate: svc('ns/prefer', { ...dual, preferDualStack: true }), want: '192.0.2.2 (v4), 2001:db8::3 (v6)' },
    { name: 'single stack again: the IPv6 address is released', allocate: svc('ns/prefer', { families: ['IPv4'] }), want: '192.0.2.2 (v4)', holders: { '2001:db8::3': [] } },
  ])
})

t.test('a disabled pool keeps its assignments and gives no new IP', async (t) => {
  const a = pool('a', '192.0.2.0/31', { namespaces: ['x'] })
  const b = pool('b', '192.0.2.8/31', { namespaces: ['x'], priority: 1 })
  story(t, new Allocator(), [
    { name: 'two bound pools', setPools: [a, b], want: 'all in pools' },
    { name: 'x/1 from a', allocate: svc('x/1'), want: '192.0.2.0 (a)' },
    { name: 'a is disabled: x/1 is still in a pool', setPools: [{ ...a, disabled: true }, b], want: 'all in pools' },
    { name: 'x/1 keeps its IP', allocate: svc('x/1'), want: '192.0.2.0 (a) unchanged' },
    { name: 'x/1 requesting its own IP keeps it', allocate: svc('x/1', { ips: ['192.0.2.0'] }), want: '192.0.2.0 (a) unchanged' },
    { name: 'x/1 naming its disabled pool keeps it', allocate: svc('x/1', { pool: 'a' }), want: '192.0.2.0 (a) unchanged' },
    { name: 'a new service gets b, a has a free address', allocate: svc('x/2'), want: '192.0.2.8 (b)' },
    { name: 'naming a', allocate: svc('x/3', { pool: 'a' }), want: 'PoolDisabled' },
    { name: 'requesting a free IP of a', allocate: svc('x/4', { ips: ['192.0.2.1'] }), want: 'PoolDisabled', status: { a: { usage: 1, used: { '192.0.2.0': 'x/1' } } } },
    {
      name: 'both disabled',
      setPools: [{ ...a, disabled: true }, { ...b, disabled: true }],
      want: 'all in pools',
    },
    { name: 'no new IP at all', allocate: svc('x/5'), want: 'PoolDisabled', message: 'Pools "a", "b" are disabled and give no new IPs: enable one or add a pool' },
    { name: 'x/2 keeps its IP', allocate: svc('x/2'), want: '192.0.2.8 (b) unchanged' },
  ])
})

t.test('pools shrink and go: out of pool reported, assignments kept', async (t) => {
  const p = pool('p', '192.0.2.0/29', { isDefault: true })
  const ips = { 'a/1': ['192.0.2.0'], 'a/2': ['192.0.2.1'], 'a/3': ['192.0.2.2'], 'a/4': ['192.0.2.5'] }
  story(t, new Allocator(), [
    { name: 'a /29', setPools: [p], want: 'all in pools' },
    { name: 'a/1', allocate: svc('a/1'), want: '192.0.2.0 (p)' },
    { name: 'a/2', allocate: svc('a/2'), want: '192.0.2.1 (p)' },
    { name: 'a/3 names the pool', allocate: svc('a/3', { pool: 'p' }), want: '192.0.2.2 (p)' },
    { name: 'a/4 requests an IP', allocate: svc('a/4', { ips: ['192.0.2.5'] }), want: '192.0.2.5 (p)' },
    { name: 'the pool shrinks to two addresses', setPools: [{ ...p, range: range('192.0.2.0-192.0.2.1') }], want: 'out of pool: a/3 192.0.2.2, a/4 192.0.2.5', ipsOf: ips },
    { name: 'a/3 keeps its IP though it names the pool', allocate: svc('a/3', { pool: 'p' }), want: '192.0.2.2 (no pool) unchanged' },
    { name: 'a/4 keeps its requested IP', allocate: svc('a/4', { ips: ['192.0.2.5'] }), want: '192.0.2.5 (no pool) unchanged' },
    { name: 'the shrunk pool is full', allocate: svc('a/5'), want: 'PoolExhausted', status: { p: { size: 2n, usage: 2, used: { '192.0.2.0': 'a/1', '192.0.2.1': 'a/2' } } } },
    {
      name: 'the pool is deleted',
      setPools: [],
      want: 'out of pool: a/1 192.0.2.0, a/2 192.0.2.1, a/3 192.0.2.2, a/4 192.0.2.5',
      ipsOf: ips,
      outOfPool: [{ key: 'a/1', ip: '192.0.2.0' }, { key: 'a/2', ip: '192.0.2.1' }, { key: 'a/3', ip: '192.0.2.2' }, { key: 'a/4', ip: '192.0.2.5' }],
      status: { p: undefined },
    },
    { name: 'a/1 keeps its IP', allocate: svc('a/1'), want: '192.0.2.0 (no pool) unchanged' },
    { name: 'a/3 keeps its IP though its pool is gone', allocate: svc('a/3', { pool: 'p' }), want: '192.0.2.2 (no pool) unchanged' },
    { name: 'a new service: no pool', allocate: svc('a/6'), want: 'NoPoolForNamespace' },
    { name: 'naming the deleted pool', allocate: svc('a/7', { pool: 'p' }), want: 'PoolNotFound' },
    { name: 'the /29 is back', setPools: [p], want: 'all in pools', outOfPool: [] },
    { name: 'the lowest free address', allocate: svc('a/6'), want: '192.0.2.3 (p)' },
  ])
})

t.test('exhaustion, then unassign and the lowest free address again', async (t) => {
  story(t, new Allocator(), [
    { name: 'four addresses', setPools: [pool('tiny', '192.0.2.0/30', { isDefault: true })], want: 'all in pools' },
    { name: 'n/a', allocate: svc('n/a'), want: '192.0.2.0 (tiny)' },
    { name: 'n/b', allocate: svc('n/b'), want: '192.0.2.1 (tiny)' },
    { name: 'n/c', allocate: svc('n/c'), want: '192.0.2.2 (tiny)' },
    { name: 'n/d', allocate: svc('n/d'), want: '192.0.2.3 (tiny)' },
    { name: 'n/e: exhausted', allocate: svc('n/e'), want: 'PoolExhausted', status: { tiny: { size: 4n, usage: 4 } }, keys: ['n/a', 'n/b', 'n/c', 'n/d'] },
    { name: 'n/b leaves', unassign: 'n/b', want: 'released 192.0.2.1', holders: { '192.0.2.1': [] } },
    { name: 'unassign of a service holding nothing', unassign: 'n/nobody', want: 'released nothing' },
    { name: 'n/e gets the hole', allocate: svc('n/e'), want: '192.0.2.1 (tiny)' },
    { name: 'n/c leaves', unassign: 'n/c', want: 'released 192.0.2.2' },
    { name: 'n/a leaves', unassign: 'n/a', want: 'released 192.0.2.0', keys: ['n/d', 'n/e'] },
    { name: 'n/f: the lowest of the two holes', allocate: svc('n/f'), want: '192.0.2.0 (tiny)' },
    { name: 'n/g: the other', allocate: svc('n/g'), want: '192.0.2.2 (tiny)', status: { tiny: { usage: 4, used: { '192.0.2.0': 'n/f', '192.0.2.1': 'n/e', '192.0.2.2': 'n/g', '192.0.2.3': 'n/d' } } } },
  ])
})

t.test('a changed request moves the service; an unchanged one never does', async (t) => {
  story(t, new Allocator(), [
    {
      name: 'a default v4 pool, a pool to name, a default v6 pool',
      setPools: [pool('a', '192.0.2.0/30', { isDefault: true }), pool('b', '198.51.100.0/30'), pool('v6', '2001:db8::/120', { isDefault: true })],
      want: 'all in pools',
    },
    { name: 's/x from the default pool', allocate: svc('s/x'), want: '192.0.2.0 (a)' },
    { name: 's/x now names pool b: moves', allocate: svc('s/x', { pool: 'b' }), want: '198.51.100.0 (b)', holders: { '192.0.2.0': [] } },
    { name: 's/x requests an IP of b: moves', allocate: svc('s/x', { pool: 'b', ips: ['198.51.100.2'] }), want: '198.51.100.2 (b)' },
    { name: 's/x requests an IP of a, no pool: moves', allocate: svc('s/x', { ips: ['192.0.2.3'] }), want: '192.0.2.3 (a)' },
    { name: 's/x drops the request: keeps the IP', allocate: svc('s/x'), want: '192.0.2.3 (a) unchanged' },
    { name: 's/x goes dual stack: gains IPv6', allocate: svc('s/x', { families: ['IPv4', 'IPv6'] }), want: '192.0.2.3 (a), 2001:db8:: (v6)' },
    { name: 's/x goes IPv6 only: IPv4 released', allocate: svc('s/x', { families: ['IPv6'] }), want: '2001:db8:: (v6)', holders: { '192.0.2.3': [] } },
    { name: 's/x names a pool that does not exist: keeps what it has', allocate: svc('s/x', { families: ['IPv6'], pool: 'gone' }), want: '2001:db8:: (v6) unchanged' },
    { name: 's/x names an IPv4 pool while IPv6 only: no IPv6 there', allocate: svc('s/x', { families: ['IPv6'], pool: 'a' }), want: 'NoPoolForFamily', ipsOf: { 's/x': ['2001:db8::'] } },
    { name: 's/y requests 192.0.2.1', allocate: svc('s/y', { ips: ['192.0.2.1'] }), want: '192.0.2.1 (a)' },
    { name: 's/z shares it on 443', allocate: svc('s/z', { ports: [tcp(443)], ips: ['192.0.2.1'] }), want: '192.0.2.1 (a)' },
    { name: 's/z drops the IP request: keeps the shared IP', allocate: svc('s/z', { ports: [tcp(443)] }), want: '192.0.2.1 (a) unchanged' },
    { name: 's/z moves to port 80 (s/y\'s): can no longer share, moves to a free IP', allocate: svc('s/z'), want: '192.0.2.0 (a)', holders: { '192.0.2.1': ['s/y'] } },
    { name: '\'\' as the pool name means no pool', allocate: svc('s/z', { pool: '' }), want: '192.0.2.0 (a) unchanged' },
  ])
})

t.test('IPv6 /64 pool: bigint arithmetic, nothing enumerated', async (t) => {
  story(t, new Allocator(), [
    { name: 'a /64 and an IPv4 default', setPools: [pool('v6', '2001:db8:1::/64', { isDefault: true }), pool('v4', '192.0.2.0/24', { isDefault: true })], want: 'all in pools' },
    { name: 'the subnet-router anycast address first (every address counts)', allocate: svc('ns/a', { families: ['IPv6'] }), want: '2001:db8:1:: (v6)' },
    { name: 'next', allocate: svc('ns/b', { families: ['IPv6'] }), want: '2001:db8:1::1 (v6)' },
    { name: 'the last address', allocate: svc('ns/c', { families: ['IPv6'], ips: ['2001:db8:1:0:FFFF:ffff:ffff:ffff'] }), want: '2001:db8:1:0:ffff:ffff:ffff:ffff (v6)' },
    { name: 'outside the /64', allocate: svc('ns/d', { families: ['IPv6'], ips: ['2001:db8:1:1::'] }), want: 'IPNotInPool' },
    { name: 'a /64 never fills', allocate: svc('ns/e', { families: ['IPv6'] }), want: '2001:db8:1::2 (v6)' },
    {
      name: 'status',
      unassign: 'ns/b',
      want: 'released 2001:db8:1::1',
      status: {
        v6: { size: 18446744073709551616n, usage: 3, firstIP: '2001:db8:1::', lastIP: '2001:db8:1:0:ffff:ffff:ffff:ffff', family: 'IPv6', used: { '2001:db8:1::': 'ns/a', '2001:db8:1::2': 'ns/e', '2001:db8:1:0:ffff:ffff:ffff:ffff': 'ns/c' } },
      },
    },
    { name: 'the hole is reused', allocate: svc('ns/f', { families: ['IPv6'] }), want: '2001:db8:1::1 (v6)' },
  ])
})

t.test('malformed requests and refused assignments', async (t) => {
  story(t, new Allocator(), [
    { name: 'a default pool', setPools: [pool('p', '192.0.2.0/28', { isDefault: true })], want: 'all in pools' },
    { name: 'no family', allocate: svc('m/a', { families: [] }), want: 'InvalidRequest', message: '"m/a" asks for no IP family: give IPv4, IPv6 or both' },
    { name: 'a family twice', allocate: svc('m/a', { families: ['IPv4', 'IPv4'] }), want: 'InvalidRequest' },
    { name: 'an unknown family', allocate: svc('m/a', { families: ['IPv5' as 'IPv4'] }), want: 'InvalidRequest' },
    { name: 'not an IP', allocate: svc('m/a', { ips: ['192.0.2.300'] }), want: 'InvalidIP', message: '"192.0.2.300" is not an IP address' },
    { name: 'an IP of a family not asked for', allocate: svc('m/a', { ips: ['2001:db8::1'] }), want: 'WrongFamily', message: '"2001:db8::1" is IPv6 but "m/a" asks for IPv4 only' },
    { name: 'two IPs of one family', allocate: svc('m/a', { ips: ['192.0.2.1', '192.0.2.2'] }), want: 'WrongFamily', message: '"m/a" requests two IPv4 addresses ("192.0.2.1" and "192.0.2.2"): request one per family' },
    { name: 'assign: an existing assignment', assign: svc('m/a'), ips: ['192.0.2.1'], want: 'ok' },
    { name: 'assign: Local on it', assign: svc('m/b', { trafficPolicy: 'Local', sharingKey: 'k' }), ips: ['192.0.2.1'], want: 'IPInUse', ipsOf: { 'm/b': [] } },
    { name: 'assign: Cluster on the same port', assign: svc('m/c'), ips: ['192.0.2.1'], want: 'PortConflict' },
    { name: 'assign: Cluster on another port shares', assign: svc('m/c', { ports: [tcp(443)] }), ips: ['192.0.2.1'], want: 'ok', holders: { '192.0.2.1': ['m/a', 'm/c'] } },
    { name: 'assign: outside every pool is accepted', assign: svc('m/d'), ips: ['198.18.9.9'], want: 'ok', outOfPool: [{ key: 'm/d', ip: '198.18.9.9' }] },
    { name: 'assign: not an IP', assign: svc('m/e'), ips: ['nope'], want: 'InvalidIP' },
    { name: 'assign: two of one family', assign: svc('m/f'), ips: ['192.0.2.5', '192.0.2.6'], want: 'WrongFamily', ipsOf: { 'm/f': [] } },
    { name: 'assign: replaces what the service held', assign: svc('m/d'), ips: ['192.0.2.9'], want: 'ok', outOfPool: [], holders: { '198.18.9.9': [] } },
    { name: 'assign: nothing releases', assign: svc('m/a'), ips: [], want: 'ok', holders: { '192.0.2.1': ['m/c'] } },
    { name: 'allocate keeps an assigned IP', allocate: svc('m/d'), want: '192.0.2.9 (p) unchanged' },
    { name: 'holders of a non-IP', unassign: 'm/none', want: 'released nothing', holders: { 'not an ip': [] } },
  ])
  t.throws(() => new Allocator().setPools([pool('p', '192.0.2.0/30'), pool('p', '192.0.2.8/30')]), new TypeError('Two pools are named "p"'))
})

t.test('rebuild: assign() in another order gives the same state', async (t) => {
  const pools = [
    pool('a', '192.0.2.0/29', { namespaces: ['x'] }),
    pool('d', '198.51.100.0/29', { isDefault: true }),
    pool('v6', '2001:db8::/64', { isDefault: true }),
  ]
  const reqs: ServiceRequest[] = [
    svc('x/1'),
    svc('x/2', { families: ['IPv6', 'IPv4'] }),
    svc('y/1', { pool: 'a' }),
    svc('y/2', { ports: [tcp(443)], ips: ['198.51.100.0'] }),
    svc('y/3', { ips: ['198.51.100.0'] }),
    svc('z/1', { trafficPolicy: 'Local', sharingKey: 'app=z', ips: ['192.0.2.5'] }),
    svc('z/2', { trafficPolicy: 'Local', sharingKey: 'app=z', ports: [tcp(81)], ips: ['192.0.2.5'] }),
    svc('z/3', { families: ['IPv4', 'IPv6'], preferDualStack: true }),
  ]
  const live = new Allocator()
  live.setPools(pools)
  const first = reqs.map((r) => live.allocate(r))
  t.same(first.map((r) => (r.ok ? r.ips.join(' ') : r.reason)), [
    '192.0.2.0', '2001:db8:: 192.0.2.1', '192.0.2.2', '198.51.100.0', '198.51.100.0', '192.0.2.5', '192.0.2.5', '198.51.100.1 2001:db8::1',
  ], 'the live allocations')
  live.setPools(pools.slice(1)) // pool a goes while running: x/1, x/2, y/1, z/1, z/2 out of pool

  const snapshot = (a: Allocator) => ({
    keys: a.keys(),
    ips: Object.fromEntries(reqs.map((r) => [r.key, a.ipsOf(r.key)])),
    holders: Object.fromEntries(reqs.flatMap((r) => a.ipsOf(r.key)).map((ip) => [ip, a.holders(ip)])),
    outOfPool: a.outOfPool(),
    status: pools.map((p) => a.poolStatus(p.name)),
  })

  const rebuilt = new Allocator()
  const steps: Step[] = [{ name: 'the current pools first', setPools: pools.slice(1), want: 'all in pools' }]
  for (const r of [...reqs].reverse()) steps.push({ name: `assign ${r.key} from its status`, assign: r, ips: live.ipsOf(r.key), want: 'ok' })
  story(t, rebuilt, steps)
  t.same(snapshot(rebuilt), snapshot(live), 'same state as the live allocator')
  t.equal(live.outOfPool().length, 5, 'the deleted pool\'s IPs are reported in both')

  for (const r of reqs) {
    const [x, y] = [live.allocate(r), rebuilt.allocate(r)]
    t.same(y, x, `${r.key}: the same answer`)
    t.equal(x.ok && x.changed, false, `${r.key}: unchanged`)
  }
  t.same(rebuilt.allocate(svc('w/new')), live.allocate(svc('w/new')), 'the next new service gets the same IP')
  t.same(snapshot(rebuilt), snapshot(live), 'still the same')
})
