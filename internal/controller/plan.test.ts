// The controller's pure core as a story: Services come and go, pools change, the controller
// restarts; after each step the plans (IPs, finalizer, events) and the advertisements are what a
// user would expect, and running a step twice changes nothing.
import t from 'tap'
import { Allocator } from '../ipam/index.ts'
import { toEipInfo } from '../k8s/crd.ts'
import type { LbService, NodeInfo, EndpointSliceInfo } from '../announce/index.ts'
import { advertisementsFor, planAllocations, poolsOf, rebuildAllocations, releaseGone, familiesOf, requestOf, terminatingCandidates, FINALIZER, type ServicePlan } from './plan.ts'
import { mergeBgp } from './merge.ts'
import { configSchema } from '../config/schema.ts'

const OPT_IN = { 'lb.kubesphere.io/v1alpha1': 'openelb' }
const svc = (name: string, extra: Partial<LbService> = {}): LbService => ({
  namespace: 'default', name, type: 'LoadBalancer', externalTrafficPolicy: 'Cluster', ingressIPs: [], annotations: OPT_IN, ports: [{ protocol: 'TCP', port: 80 }], ...extra,
})
const eip = (name: string, address: string, extra: Record<string, unknown> = {}, annotations: Record<string, string> = { 'eip.openelb.kubesphere.io/is-default-eip': 'true' }) =>
  toEipInfo({ metadata: { name, annotations }, spec: { address, ...extra } })!

/** Apply what a plan says to the Service objects, as the API server would after the writes. */
function applyPlans(services: Map<string, LbService>, plans: ServicePlan[]): void {
  for (const p of plans) {
    const s = services.get(p.key)
    if (!s) continue
    if (p.finalizer === 'add') s.finalizers = [...(s.finalizers ?? []), FINALIZER]
    if (p.finalizer === 'remove') {
      s.finalizers = (s.finalizers ?? []).filter((f) => f !== FINALIZER)
      if (s.deleting) services.delete(p.key)
    }
    if (p.ips) s.ingressIPs = [...p.ips]
  }
}

t.test('allocation story: create, request, conflict, delete, restart, pool shrink', async (t) => {
  const alloc = new Allocator()
  const services = new Map<string, LbService>()
  const ns = new Map<string, Record<string, string>>([['default', {}], ['team', { tier: 'gold' }]])
  const input = () => ({ services: services.values(), namespaceLabels: ns, ownership: {} })
  let eips = [eip('pool', '203.0.113.10-203.0.113.12')]
  alloc.setPools(poolsOf(eips))
  const step = (what: string, change: () => void, check: (plans: ServicePlan[]) => void) => {
    change()
    alloc.setPools(poolsOf(eips))
    const plans = planAllocations(alloc, input())
    check(plans)
    applyPlans(services, plans)
    const again = planAllocations(alloc, input())
    t.same(again.filter((p) => p.ips || p.finalizer), [], `${what}: a second pass writes nothing`)
  }
  const ips = () => Object.fromEntries([...services.values()].map((s) => [s.name, s.ingressIPs.join(',')]))

  step('web created', () => services.set('default/web', svc('web')), (plans) => {
    const p = plans.find((x) => x.key === 'default/web')!
    t.same([p.ips, p.finalizer, p.events.map((e) => e.reason)], [['203.0.113.10'], 'add', ['IPAllocated']])
  })
  step('not opted in: ignored', () => services.set('default/other', svc('other', { annotations: {} })), (plans) => {
    t.notOk(plans.some((p) => p.key === 'default/other'), 'no plan for a Service that is not Porter\'s')
  })
  step('api asks for a specific IP', () => services.set('default/api', svc('api', { annotations: { ...OPT_IN, 'eip.openelb.kubesphere.io/v1alpha1': '203.0.113.12' } })), () => {})
  t.same(ips(), { web: '203.0.113.10', other: '', api: '203.0.113.12' })
  step('steal asks for web\'s IP with a conflicting port', () => services.set('default/steal', svc('steal', { annotations: { ...OPT_IN, 'eip.openelb.kubesphere.io/v1alpha1': '203.0.113.10' } })), (plans) => {
    const p = plans.find((x) => x.key === 'default/steal')!
    t.equal(p.ips, undefined, 'no IP written')
    t.same(p.events.map((e) => e.reason), ['AllocationFailed'])
    t.equal(p.conditions[0]?.reason, 'PortConflict')
  })
  step('share asks for web\'s IP on another port (both Cluster): shared', () => services.set('default/share', svc('share', { ports: [{ protocol: 'TCP', port: 443 }], annotations: { ...OPT_IN, 'eip.openelb.kubesphere.io/v1alpha1': '203.0.113.10' } })), () => {})
  t.equal(ips().share, '203.0.113.10')
  step('steal deleted (it held nothing)', () => { services.get('default/steal')!.deleting = true }, (plans) => {
    t.same(plans.find((x) => x.key === 'default/steal')?.finalizer, 'remove')
  })
  step('web becomes ClusterIP: releases, clears the status, drops the finalizer', () => { services.get('default/web')!.type = 'ClusterIP' }, (plans) => {
    const p = plans.find((x) => x.key === 'default/web')!
    t.same([p.ips, p.finalizer, p.events.map((e) => e.reason)], [[], 'remove', ['IPReleased']])
  })
  t.same(alloc.holders('203.0.113.10'), ['default/share'], 'share still holds the shared IP')
  step('new1 gets the lowest free IP', () => services.set('default/new1', svc('new1')), () => {})
  t.equal(ips().new1, '203.0.113.11')

  // a restart: a fresh allocator rebuilt from the statuses gives every Service the same IPs
  const before = ips()
  const fresh = new Allocator()
  fresh.setPools(poolsOf(eips))
  t.same(rebuildAllocations(fresh, input()), [], 'no conflicts on rebuild')
  const plans = planAllocations(fresh, input())
  t.same(plans.filter((p) => p.ips !== undefined), [], 'after a restart no IP changes')
  t.same(ips(), before)

  // a Service whose status lost its IP (cleared by hand) gets it back from Eip status.used
  const used: Record<string, string> = {}
  for (const s of services.values()) for (const ip of s.ingressIPs) used[ip] = used[ip] ? `${used[ip]},${s.namespace}/${s.name}` : `${s.namespace}/${s.name}`
  services.get('default/new1')!.ingressIPs = []
  const fromEip = new Allocator()
  fromEip.setPools(poolsOf(eips))
  t.same(rebuildAllocations(fromEip, input(), [{ ...eips[0]!, used }]), [])
  t.same(fromEip.ipsOf('default/new1'), ['203.0.113.11'], 'Eip status.used restores an IP a Service status lost')
  const back = planAllocations(fromEip, input()).find((p) => p.key === 'default/new1')!
  t.same(back.ips, ['203.0.113.11'], '... and the status is written again with the same IP')
  applyPlans(services, [back])

  step('pool shrinks below new1: it keeps its IP, the condition says so', () => { eips = [eip('pool', '203.0.113.12-203.0.113.12')] }, (plans) => {
    const p = plans.find((x) => x.key === 'default/new1')!
    t.equal(p.ips, undefined, 'nothing moves')
    t.equal(p.conditions[0]?.reason, 'IPNotInPool')
  })
  t.equal(ips().new1, '203.0.113.11')
  step('the pool is full: a new Service fails with PoolExhausted', () => services.set('default/late', svc('late')), (plans) => {
    t.equal(plans.find((x) => x.key === 'default/late')?.conditions[0]?.reason, 'PoolExhausted')
  })
  step('a namespace-bound pool by selector serves team', () => {
    eips = [eip('pool', '203.0.113.12-203.0.113.12'), eip('gold', '198.51.100.0/30', { namespaceSelector: { matchLabels: { tier: 'gold' } } }, {})]
    services.set('team/app', svc('app', { namespace: 'team' }))
  }, () => {})
  t.equal(services.get('team/app')!.ingressIPs[0], '198.51.100.0', 'CIDR pools include the network address, like OpenELB')
  services.delete('team/app')
  t.same(releaseGone(alloc, (k) => services.has(k)), ['team/app'], 'a Service deleted while the controller was away is forgotten')
  t.same(alloc.ipsOf('team/app'), [])
  t.same(releaseGone(alloc, (k) => services.has(k)), [], '... once')
})

t.test('families from ipFamilies / ipFamilyPolicy, and request fields', async (t) => {
  t.same(familiesOf(svc('a')), { families: ['IPv4'], preferDualStack: false })
  t.same(familiesOf(svc('a', { ipFamilies: ['IPv6'] })), { families: ['IPv6'], preferDualStack: false })
  t.same(familiesOf(svc('a', { ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'RequireDualStack' })), { families: ['IPv6', 'IPv4'], preferDualStack: false })
  t.same(familiesOf(svc('a', { ipFamilies: ['IPv4'], ipFamilyPolicy: 'PreferDualStack' })), { families: ['IPv4', 'IPv6'], preferDualStack: true })
  const r = requestOf(svc('a', { loadBalancerIP: '203.0.113.5', selector: 'app=a', annotations: { ...OPT_IN, 'eip.openelb.kubesphere.io/v1alpha2': 'gold' } }), { x: 'y' })
  t.same([r.ips, r.pool, r.sharingKey, r.namespaceLabels], [['203.0.113.5'], 'gold', 'app=a', { x: 'y' }])
  const ann = requestOf(svc('a', { loadBalancerIP: '203.0.113.5', annotations: { ...OPT_IN, 'eip.openelb.kubesphere.io/v1alpha1': '203.0.113.7, 2001:db8::7' } }), {})
  t.same(ann.ips, ['203.0.113.7', '2001:db8::7'], 'the annotation wins over spec.loadBalancerIP, one IP per family')
})

t.test('dual stack: one IP per family', async (t) => {
  const alloc = new Allocator()
  alloc.setPools(poolsOf([eip('v4', '203.0.113.10-203.0.113.11'), eip('v6', '2001:db8:1::/120')]))
  const s = svc('ds', { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' })
  const [p] = planAllocations(alloc, { services: [s], namespaceLabels: new Map(), ownership: {} })
  t.same(p!.ips, ['203.0.113.10', '2001:db8:1::'])
})

t.test('advertisements: status IPs with next hops, shared IPs union, withdraw without endpoints', async (t) => {
  const node = (name: string, v4: string, v6?: string): [string, NodeInfo] => [name, { name, ready: true, excluded: false, internalIPs: { IPv4: v4, ...(v6 ? { IPv6: v6 } : {}) }, labels: {} }]
  const nodes = new Map([node('a', '192.0.2.11', '2001:db8::11'), node('b', '192.0.2.12'), node('c', '192.0.2.13')])
  const slice = (svcName: string, eps: [string, boolean][]): EndpointSliceInfo => ({ namespace: 'default', name: `${svcName}-x`, serviceName: svcName, addressType: 'IPv4', endpoints: eps.map(([n, ready]) => ({ addresses: ['198.18.200.1'], ready, nodeName: n })) })
  const services = [
    svc('local', { externalTrafficPolicy: 'Local', ingressIPs: ['203.0.113.10', '2001:db8:1::10'] }),
    svc('shareA', { externalTrafficPolicy: 'Local', ingressIPs: ['203.0.113.11'] }),
    svc('shareB', { externalTrafficPolicy: 'Local', ingressIPs: ['203.0.113.11'] }),
    svc('empty', { ingressIPs: ['203.0.113.12'] }),
    svc('notOurs', { ingressIPs: ['203.0.113.13'], annotations: {} }),
    svc('gone', { ingressIPs: ['203.0.113.14'], deleting: true }),
  ]
  const slices = new Map([
    ['default/local', [slice('local', [['a', true], ['b', false]])]],
    ['default/shareA', [slice('shareA', [['a', true]])]],
    ['default/shareB', [slice('shareB', [['c', true]])]],
    ['default/notOurs', [slice('notOurs', [['c', true]])]],
    ['default/gone', [slice('gone', [['c', true]])]],
  ])
  const { advertisements, services: routes } = advertisementsFor(services, slices, nodes, {})
  t.same(advertisements.sort((x, y) => (x.prefix < y.prefix ? -1 : 1)), [
    { prefix: '2001:db8:1::10/128', nextHops: ['2001:db8::11'] },
    { prefix: '203.0.113.10/32', nextHops: ['192.0.2.11'] },
    { prefix: '203.0.113.11/32', nextHops: ['192.0.2.11', '192.0.2.13'] },
  ])
  t.equal(routes.find((r) => r.key === 'default/empty')?.reason, 'noEndpoints')
})

t.test('BGP settings: the CRDs win over the config file, one rule', async (t) => {
  const cfg = configSchema.parse({ bgp: { localAs: 65000, routerId: '192.0.2.2', listenPort: 1179, peers: [{ address: '192.0.2.1', peerAs: 65001 }, { address: '192.0.2.9', peerAs: 65009 }] } })
  const fromFile = { localAs: 65000, routerId: '192.0.2.2', listenAddress: '0.0.0.0', listenPort: 1179, gracefulRestart: { enabled: true, restartTime: 120 }, peers: [
    { name: 'file1', address: '192.0.2.1', peerAs: 65001, port: 179, passive: false, holdTime: 90, connectRetry: 120, addPath: true, nextHop: 'as-given' as const, export: { communities: [], largeCommunities: [] } },
  ] }
  const crd = {
    conf: { name: 'default', global: { as: 65100, listenPort: 0 }, errors: [], ignored: [] },
    peers: [
      { name: 'leaf1', address: '192.0.2.1', peerAs: 65011, ebgpMultihop: 2, errors: [], ignored: [] },
      { name: 'leaf2', address: '192.0.2.3', peerAs: 65013, ttlSecurity: true, errors: [], ignored: [] },
      { name: 'broken', errors: [{ path: 'spec.conf.peerAs', message: 'is required' }], ignored: [] },
      { name: 'keyed', address: '192.0.2.5', peerAs: 65005, secretRef: { name: 's', namespace: 'porter-system', key: 'password' }, errors: [], ignored: [] },
    ],
    keys: new Map<string, Uint8Array>(),
    nextHopFilters: new Map(),
  }
  const m = mergeBgp(cfg, fromFile, crd)
  t.ok(m.ok)
  if (!m.ok) return
  t.same([m.config.localAs, m.config.routerId, m.config.listenPort], [65100, '192.0.2.2', 0], 'BgpConf fields win, the rest from the file')
  t.same(m.config.peers.map((p) => [p.name, p.peerAs]), [['leaf1', 65011], ['leaf2', 65013]], 'the BgpPeer replaces the file peer with its address; invalid and keyless peers are left out')
  t.same(m.config.peers.map((p) => [p.ebgpMultihop, p.ttlSecurity]), [[2, undefined], [undefined, true]], 'multihop and GTSM from the BgpPeers')
  const withBfd = mergeBgp(cfg, { ...fromFile, peers: [{ ...fromFile.peers[0]!, bfd: { minTx: 100, minRx: 100, multiplier: 3 }, maxPrefixes: 10, localAddress: '192.0.2.2', export: { communities: ['65002:1'], largeCommunities: [] } }] }, crd)
  if (withBfd.ok) {
    const p = withBfd.config.peers.find((x) => x.name === 'leaf1')!
    t.same([p.peerAs, p.bfd, p.maxPrefixes, p.localAddress, p.export.communities], [65011, { minTx: 100, minRx: 100, multiplier: 3 }, 10, '192.0.2.2', ['65002:1']], 'the BgpPeer wins, the file peer with its address still gives BFD, maxPrefixes, localAddress and export (no BgpPeer field says them)')
  }
  const none = mergeBgp(configSchema.parse({}), undefined, { peers: [], keys: new Map(), nextHopFilters: new Map() })
  t.notOk(none.ok, 'no AS and router ID anywhere: not configured')
  if (!none.ok) t.match(none.reason, /BgpConf/)
})

t.test('mergeBgp by speaker: per-node BgpPeers go to the nodes their nodeSelector selects, the rest to the controller', async (t) => {
  const cfg = configSchema.parse({})
  const sel = { matchLabels: { rack: 'r1' } }
  const crd = {
    conf: { name: 'default', global: { as: 65100, routerId: '192.0.2.2', listenPort: 1790, listenAddresses: ['192.0.2.2'] }, errors: [], ignored: [] },
    peers: [
      { name: 'ctl', address: '192.0.2.1', peerAs: 65001, nodeSelector: sel, errors: [], ignored: [] },
      { name: 'rack1', address: '192.0.2.31', peerAs: 65031, perNode: true, nodeSelector: sel, errors: [], ignored: [] },
      { name: 'every-node', address: '192.0.2.32', peerAs: 65032, perNode: true, errors: [], ignored: [] },
    ],
    keys: new Map<string, Uint8Array>(),
    nextHopFilters: new Map(),
  }
  const ctl = mergeBgp(cfg, undefined, crd)
  t.ok(ctl.ok)
  if (ctl.ok) t.same(ctl.config.peers.map((p) => p.name), ['ctl'], 'the controller leaves per-node BgpPeers alone (its nodeSelector only filters next hops)')
  // a node's crd holds the per-node BgpPeers that select it (k8s/crd.ts peeredBy, crd.test.ts)
  const r1 = mergeBgp(cfg, undefined, crd, { role: 'node', routerId: '192.0.2.3' })
  t.ok(r1.ok)
  if (r1.ok) {
    t.same(r1.config.peers.map((p) => p.name), ['rack1', 'every-node'], 'a node peers with per-node BgpPeers, never with the controller\'s')
    t.same([r1.config.localAs, r1.config.routerId, r1.config.listenPort, r1.config.listenAddress], [65100, '192.0.2.3', 0, '0.0.0.0'], 'the BgpConf AS; the node\'s own router ID; it dials out (the BgpConf\'s socket is the controller\'s)')
  }
  const noId = mergeBgp(cfg, undefined, crd, { role: 'node', routerId: undefined })
  t.notOk(noId.ok, 'a node without an IPv4 address has no router ID')
  if (!noId.ok) t.match(noId.reason, /router ID/)
})

t.test('terminatingCandidates: a VIP\'s leaving next hops, less those another Service keeps', async (t) => {
  const r = (vip: string, hops: string[], leaving: string[]) => ({ key: 'k', nextHops: new Map([[vip, hops]]), reason: null, terminatingFallback: false, terminating: new Map([[vip, leaving]]) })
  const c = terminatingCandidates([r('203.0.113.10', ['192.0.2.12'], ['192.0.2.11', '192.0.2.13']), r('203.0.113.10', ['192.0.2.13'], []), r('2001:db8::10', ['2001:db8::12'], ['2001:db8::11'])])
  t.same([...c], [['203.0.113.10/32', ['192.0.2.11']], ['2001:db8::10/128', ['2001:db8::11']]], 'node .13 still serves the shared VIP through another Service: a plain next hop, not a leaving one')
  t.same([...terminatingCandidates([])], [], 'no routes, none')
})
