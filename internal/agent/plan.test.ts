import t from 'tap'
import fc from 'fast-check'
import type { AddrEntry, RouteEntry } from '../netlink/index.ts'
import { planChanges, planCleanup, planWrites, isPorterAddress, porterLabel, PORTER_PROTO, type Desired, type Observed, type Plan } from './plan.ts'
import type { Vip } from './vips.ts'
import { fastCheckSeed } from '../../test/lib/fuzz.ts'

fastCheckSeed(t)

const LO = 1
const ETH = 2
const v = (address: string): Vip => ({ address, family: address.includes(':') ? 6 : 4 })
const desired = (vips: string[], over: Partial<Desired> = {}): Desired => ({ vips: vips.map(v), ifname: 'lo', ifindex: LO, mode: 'address', firewall: 'none', ...over })

/** The kernel after a plan's netlink changes, as the planner sees it (pure model). */
function applyNet(o: Observed, p: Plan): Observed {
  let addresses = [...o.addresses]
  let routes = [...o.routes]
  for (const c of p.net) {
    if (c.kind === 'add-address') {
      const e: AddrEntry = { family: c.spec.family, address: c.spec.address, prefixLen: c.spec.prefixLen, ifindex: c.spec.ifindex, scope: 0, flags: c.spec.flags ?? 0, proto: c.spec.proto ?? 0 }
      if (c.spec.label !== undefined) e.label = c.spec.label
      addresses.push(e)
    } else if (c.kind === 'del-address') {
      const i = addresses.findIndex((a) => a.address === c.spec.address && a.prefixLen === c.spec.prefixLen && a.ifindex === c.spec.ifindex)
      if (i < 0) throw new Error(`delete of a missing address ${c.spec.address}`)
      addresses.splice(i, 1)
    } else if (c.kind === 'add-route') {
      routes.push({ ...c.spec })
    } else {
      const i = routes.findIndex((r) => r.dst === c.spec.dst && r.table === c.spec.table && r.protocol === c.spec.protocol)
      if (i < 0) throw new Error(`delete of a missing route ${c.spec.dst}`)
      routes.splice(i, 1)
    }
  }
  addresses = addresses.slice()
  routes = routes.slice()
  return { addresses, routes }
}

const foreignAddrs: AddrEntry[] = [
  { family: 4, address: '127.0.0.1', prefixLen: 8, ifindex: LO, scope: 254, flags: 0x80, proto: 0, label: 'lo' },
  { family: 4, address: '198.51.100.1', prefixLen: 24, ifindex: ETH, scope: 0, flags: 0x80, proto: 0, label: 'eth0' },
  { family: 4, address: '203.0.113.50', prefixLen: 32, ifindex: LO, scope: 0, flags: 0x80, proto: 0, label: 'lo:other' },
  { family: 6, address: '::1', prefixLen: 128, ifindex: LO, scope: 254, flags: 0x80, proto: 1 },
  { family: 6, address: '2001:db8:f::1', prefixLen: 64, ifindex: ETH, scope: 0, flags: 0x80, proto: 0 },
]
const foreignRoutes: RouteEntry[] = [
  { family: 4, dst: '203.0.113.0', dstLen: 24, table: 254, protocol: 4, type: 6, scope: 0 },
  { family: 4, dst: '203.0.113.50', dstLen: 32, table: 255, protocol: 2, type: 2, scope: 254, oif: LO },
]

t.test('labels: "<ifname>:porter" when it fits in IFNAMSIZ', async (t) => {
  t.equal(porterLabel('lo'), 'lo:porter')
  t.equal(porterLabel('enp0s31f6'), undefined, '9 + 7 characters do not fit in 15')
  t.equal(porterLabel('bond0.100'), undefined)
  t.equal(porterLabel('eth10'), 'eth10:porter')
})

t.test('ownership marks', async (t) => {
  t.ok(isPorterAddress({ family: 6, address: '2001:db8::1', prefixLen: 128, ifindex: 1, scope: 0, flags: 0, proto: PORTER_PROTO }))
  t.ok(isPorterAddress({ family: 4, address: '192.0.2.1', prefixLen: 32, ifindex: 1, scope: 0, flags: 0, proto: 0, label: 'lo:porter' }), 'kernels without IFA_PROTO: the label')
  t.notOk(isPorterAddress({ family: 4, address: '192.0.2.1', prefixLen: 32, ifindex: 1, scope: 0, flags: 0, proto: 0, label: 'lo:porterx' }))
  t.notOk(isPorterAddress(foreignAddrs[4]!))
})

t.test('address mode step table', async (t) => {
  let obs: Observed = { addresses: foreignAddrs, routes: foreignRoutes }
  const steps: { name: string; vips: string[]; want: string[]; foreign?: string[] }[] = [
    { name: 'add two IPv4 and one IPv6', vips: ['192.0.2.1', '192.0.2.2', '2001:db8:5::1'], want: ['add-address 192.0.2.1/32 lo:porter', 'add-address 192.0.2.2/32 lo:porter', 'add-address 2001:db8:5::1/128 -'] },
    { name: 'same again: nothing', vips: ['192.0.2.1', '192.0.2.2', '2001:db8:5::1'], want: [] },
    { name: 'remove one', vips: ['192.0.2.1', '2001:db8:5::1'], want: ['del-address 192.0.2.2/32 -'] },
    { name: 'a VIP that is already a foreign address on lo is left alone', vips: ['192.0.2.1', '2001:db8:5::1', '203.0.113.50'], want: [], foreign: ['203.0.113.50'] },
    { name: 'a VIP that is a foreign address on another interface is still added on lo', vips: ['192.0.2.1', '198.51.100.1'], want: ['del-address 2001:db8:5::1/128 -', 'add-address 198.51.100.1/32 lo:porter'] },
    { name: 'empty desired: all ours go, nothing foreign', vips: [], want: ['del-address 192.0.2.1/32 -', 'del-address 198.51.100.1/32 -'] },
  ]
  for (const s of steps) {
    const p = planChanges(desired(s.vips), obs)
    t.same(p.net.map((c) => c.kind.endsWith('address') && c.kind === 'add-address'
      ? `${c.kind} ${c.spec.address}/${c.spec.prefixLen} ${c.spec.label ?? '-'}`
      : `${c.kind} ${'address' in c.spec ? `${c.spec.address}/${c.spec.prefixLen}` : ''} -`), s.want, s.name)
    t.same(p.foreign, s.foreign ?? [], `${s.name}: foreign`)
    for (const c of p.net) {
      if (c.kind === 'add-address') {
        t.equal(c.spec.proto, PORTER_PROTO, `${s.name}: marked with IFA_PROTO`)
        if (c.spec.family === 6) t.equal(c.spec.flags, 0x202, `${s.name}: IPv6 nodad + noprefixroute`)
      }
    }
    obs = applyNet(obs, p)
    t.ok(foreignAddrs.every((f) => obs.addresses.includes(f)), `${s.name}: foreign addresses untouched`)
  }
})

t.test('local-route mode, and switching modes moves the VIPs', async (t) => {
  let obs: Observed = { addresses: foreignAddrs, routes: foreignRoutes }
  const p1 = planChanges(desired(['192.0.2.1', '2001:db8:5::1']), obs)
  obs = applyNet(obs, p1)
  const p2 = planChanges(desired(['192.0.2.1', '2001:db8:5::1', '203.0.113.50'], { mode: 'local-route' }), obs)
  t.same(p2.net.map((c) => c.kind), ['del-address', 'del-address', 'add-route', 'add-route'])
  t.same(p2.foreign, ['203.0.113.50'], 'a foreign local route (the kernel\'s for a foreign address) counts as foreign')
  t.match(p2.net[2], { kind: 'add-route', spec: { dst: '192.0.2.1', dstLen: 32, table: 255, protocol: PORTER_PROTO, type: 2, scope: 254, oif: LO } })
  obs = applyNet(obs, p2)
  t.equal(planWrites(planChanges(desired(['192.0.2.1', '2001:db8:5::1', '203.0.113.50'], { mode: 'local-route' }), obs)), 0, 'converged')
  const p3 = planChanges(desired(['192.0.2.1'], { mode: 'local-route', ifindex: ETH, ifname: 'eth0' }), obs)
  t.same(p3.net.map((c) => c.kind), ['del-route', 'del-route', 'add-route'], 'an interface change re-creates the route')
})

t.test('cleanup plan: everything Porter\'s, nothing else', async (t) => {
  let obs: Observed = { addresses: foreignAddrs, routes: foreignRoutes }
  obs = applyNet(obs, planChanges(desired(['192.0.2.1', '2001:db8:5::1']), obs))
  obs = { ...obs, routes: [...obs.routes, { family: 4, dst: '192.0.2.9', dstLen: 32, table: 255, protocol: PORTER_PROTO, type: 2, scope: 254, oif: LO }] }
  const p = planCleanup(obs)
  t.same(p.net.map((c) => c.kind), ['del-address', 'del-address', 'del-route'])
  obs = applyNet(obs, p)
  t.same(obs.addresses, foreignAddrs)
  t.same(obs.routes, foreignRoutes)
})

t.test('firewall part: nftables and iptables plans, problems when not observed', async (t) => {
  const obs: Observed = { addresses: [], routes: [] }
  t.match(planChanges(desired(['192.0.2.1'], { firewall: 'nftables' }), obs).problems, [/not observed/])
  const p = planChanges(desired(['192.0.2.1'], { firewall: 'nftables' }), { ...obs, nft: { table: undefined } })
  t.ok(p.nft && p.nft.ops.length > 0)
  t.equal(planWrites(p), 2, 'one address + one nft transaction')
  const pi = planChanges(desired(['192.0.2.1'], { firewall: 'iptables' }), { ...obs, iptables: { 4: { chains: {}, jumps: { 'PORTER-INPUT': [], 'PORTER-FORWARD': [] }, builtins: { INPUT: { policy: 'ACCEPT', rules: 0 }, FORWARD: { policy: 'ACCEPT', rules: 0 } } }, 6: { chains: {}, jumps: { 'PORTER-INPUT': [], 'PORTER-FORWARD': [] }, builtins: { INPUT: { policy: 'ACCEPT', rules: 0 }, FORWARD: { policy: 'ACCEPT', rules: 0 } } } } })
  t.same(Object.keys(pi.iptables ?? {}), ['4', '6'])
})

// ---------------------------------------------------------------- property

const arbV4 = fc.tuple(fc.constantFrom(192, 198, 203), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 20 })).map(([a, b, c]) => `${a}.${b}.0.${c}`)
const arbV6 = fc.integer({ min: 1, max: 20 }).map((n) => `2001:db8::${n.toString(16)}`)
const arbAddr = fc.oneof(arbV4, arbV6)
const arbForeign = fc.record({
  address: arbAddr,
  ifindex: fc.constantFrom(LO, ETH),
  prefixLen: fc.constantFrom(24, 32, 64, 128),
  label: fc.constantFrom(undefined, 'lo', 'lo:x', 'eth0'),
}).map(({ address, ifindex, prefixLen, label }): AddrEntry => {
  const family = address.includes(':') ? 6 : 4
  const e: AddrEntry = { family, address, prefixLen: family === 4 ? Math.min(prefixLen, 32) : prefixLen, ifindex, scope: 0, flags: 0, proto: family === 6 ? 0 : 0 }
  if (family === 4 && label) e.label = label
  return e
})

t.test('property: foreign objects are never touched, a second plan is empty, the result is exact', async (t) => {
  let runs = 0
  fc.assert(fc.property(
    fc.uniqueArray(arbForeign, { selector: (a) => `${a.address}/${a.ifindex}`, maxLength: 12 }),
    fc.array(fc.array(arbAddr, { maxLength: 10 }), { minLength: 1, maxLength: 4 }),
    fc.constantFrom<'address' | 'local-route'>('address', 'local-route'),
    (foreign, desiredSeq, mode) => {
      runs++
      let obs: Observed = { addresses: foreign, routes: [] }
      for (const list of desiredSeq) {
        const d = desired([...new Set(list)], { mode })
        const p = planChanges(d, obs)
        for (const c of p.net) {
          if (c.kind === 'del-address' && foreign.some((f) => f.address === c.spec.address && f.ifindex === c.spec.ifindex && f.prefixLen === c.spec.prefixLen)) return false
        }
        obs = applyNet(obs, p)
        if (planWrites(planChanges(d, obs)) !== 0) return false
        if (!foreign.every((f) => obs.addresses.includes(f))) return false
        const mine = mode === 'address' ? obs.addresses.filter(isPorterAddress).map((a) => a.address) : obs.routes.map((r) => r.dst)
        const foreignOnLo = new Set(foreign.filter((f) => f.ifindex === LO).map((f) => f.address))
        const expect = d.vips.map((x) => x.address).filter((a) => mode === 'local-route' || !foreignOnLo.has(a))
        if (mode === 'address' && [...mine].sort().join() !== [...expect].sort().join()) return false
        if (mode === 'local-route' && [...mine].sort().join() !== d.vips.map((x) => x.address).sort().join()) return false
      }
      return true
    },
  ), { numRuns: 300 })
  t.equal(runs, 300)
})
