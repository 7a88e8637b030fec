// Next-hop selection and ownership: step tables over one Service whose endpoints and nodes change.
import t from 'tap'
import { nextHopNodes, nextHopAddresses, porterOwnership, type EndpointSliceInfo, type NodeInfo, type LbService } from './index.ts'

const node = (name: string, v4: string, extra: Partial<NodeInfo> = {}): NodeInfo => ({ name, ready: true, excluded: false, internalIPs: { IPv4: v4, IPv6: `2001:db8::${v4.split('.')[3]}` }, labels: {}, ...extra })
const ep = (nodeName: string, ready: boolean, more: { serving?: boolean; terminating?: boolean } = {}) => ({ addresses: [`198.51.100.${nodeName.length}`], ready, nodeName, ...more })

t.test('next hops follow endpoints (Local) and nodes (Cluster)', async (t) => {
  const nodes = new Map([node('a', '192.0.2.1'), node('b', '192.0.2.2'), node('c', '192.0.2.3')].map((n) => [n.name, n]))
  const slice = (endpoints: ReturnType<typeof ep>[]): EndpointSliceInfo[] => [{ namespace: 'd', name: 's', serviceName: 'web', addressType: 'IPv4', endpoints }]
  const steps: { what: string; policy: 'Local' | 'Cluster'; slices: EndpointSliceInfo[]; mutate?: () => void; nodes: string[]; reason: string | null; fallback?: boolean }[] = [
    { what: 'Local: only nodes with a ready endpoint', policy: 'Local', slices: slice([ep('a', true), ep('b', false)]), nodes: ['a'], reason: null },
    { what: 'Local: endpoints move to b and c', policy: 'Local', slices: slice([ep('b', true), ep('c', true)]), nodes: ['b', 'c'], reason: null },
    { what: 'Local: none ready -> serving-terminating fallback', policy: 'Local', slices: slice([ep('c', false, { serving: true, terminating: true }), ep('b', false)]), nodes: ['c'], reason: null, fallback: true },
    { what: 'Local: nothing usable -> withdraw', policy: 'Local', slices: slice([ep('a', false)]), nodes: [], reason: 'noEndpoints' },
    { what: 'Cluster: every Ready node', policy: 'Cluster', slices: slice([ep('a', true)]), nodes: ['a', 'b', 'c'], reason: null },
    { what: 'Cluster: a NotReady node is left out', policy: 'Cluster', slices: slice([ep('a', true)]), mutate: () => { nodes.get('b')!.ready = false }, nodes: ['a', 'c'], reason: null },
    { what: 'Cluster: an excluded node is left out', policy: 'Cluster', slices: slice([ep('a', true)]), mutate: () => { nodes.get('c')!.excluded = true }, nodes: ['a'], reason: null },
    { what: 'Local: excluded node with the only endpoint -> no eligible node', policy: 'Local', slices: slice([ep('c', true)]), nodes: [], reason: 'noEligibleNodes' },
    { what: 'Cluster: no endpoints -> withdraw', policy: 'Cluster', slices: [], nodes: [], reason: 'noEndpoints' },
  ]
  for (const s of steps) {
    s.mutate?.()
    const r = nextHopNodes({ externalTrafficPolicy: s.policy }, s.slices, nodes)
    t.same(r.nodes, s.nodes, `${s.what}: nodes`)
    t.equal(r.reason, s.reason, `${s.what}: reason`)
    t.equal(r.terminatingFallback, s.fallback ?? false, `${s.what}: fallback`)
  }
  t.same(nextHopAddresses(['a', 'b', 'zz'], nodes, 'IPv4'), ['192.0.2.1', '192.0.2.2'], 'unknown node has no address')
  t.same(nextHopAddresses(['b', 'a'], nodes, 'IPv6'), ['2001:db8::1', '2001:db8::2'], 'IPv6 next hops for an IPv6 VIP')
})

t.test('ownership: one rule for the agent and the controller', async (t) => {
  const base: Pick<LbService, 'type' | 'loadBalancerClass' | 'annotations'> = { type: 'LoadBalancer' }
  const cases: [string, Pick<LbService, 'type' | 'loadBalancerClass' | 'annotations'>, string | null, object?][] = [
    ['no class, no annotation', base, 'notOptedIn'],
    ['OpenELB annotation', { ...base, annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb' } }, null],
    ['old Porter annotation', { ...base, annotations: { 'lb.kubesphere.io/v1alpha1': 'porter' } }, null],
    ['annotation with another value', { ...base, annotations: { 'lb.kubesphere.io/v1alpha1': 'metallb' } }, 'notOptedIn'],
    ['Porter class', { ...base, loadBalancerClass: 'porter.kubesphere.io/bgp' }, null],
    ['other class even with the annotation', { ...base, loadBalancerClass: 'metallb.io/x', annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb' } }, 'otherLoadBalancerClass'],
    ['configured class', { ...base, loadBalancerClass: 'example.com/lb' }, null, { loadBalancerClass: 'example.com/lb' }],
    ['ClusterIP with the annotation', { type: 'ClusterIP', annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb' } }, 'notLoadBalancer'],
  ]
  for (const [what, svc, want, opts] of cases) t.equal(porterOwnership(svc, opts ?? {}), want, what)
})
