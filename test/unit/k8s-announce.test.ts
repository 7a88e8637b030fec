// internal/announce (pure) as step tables: one cluster state changed step by step, with the
// expected decision for the Service and the node's desired VIPs after each step. Plus the
// converters from API objects (internal/k8s/convert.ts) and the node name lookup.
import t from 'tap'
import { shouldAnnounce, desiredVips, decide, groupSlices, vipsOf, drainingVipsOf, type LbService, type EndpointSliceInfo, type Reason } from '../../internal/announce/index.ts'
import { toLbService, toEndpointSlice, resolveNodeName } from '../../internal/k8s/index.ts'

const NODE = 'node-a'

interface Step {
  what: string
  change: (s: { svc: LbService; slices: EndpointSliceInfo[] }) => void
  reason: Reason | null
  vips: string[]
}

t.test('one Service through its life: shouldAnnounce and desiredVips after each step', async (t) => {
  const state = {
    svc: { namespace: 'default', name: 'web', type: 'ClusterIP', externalTrafficPolicy: 'Cluster', ingressIPs: [], annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb' } } as LbService,
    slices: [] as EndpointSliceInfo[],
  }
  const steps: Step[] = [
    { what: 'a ClusterIP Service', change: () => {}, reason: 'notLoadBalancer', vips: [] },
    { what: 'becomes LoadBalancer, no ingress yet', change: (s) => { s.svc.type = 'LoadBalancer' }, reason: 'noIngressIP', vips: [] },
    { what: 'gets an ingress IP, no endpoints', change: (s) => { s.svc.ingressIPs = ['203.0.113.50'] }, reason: 'noEndpoints', vips: [] },
    {
      what: 'a not-ready endpoint on another node',
      change: (s) => { s.slices.push({ namespace: 'default', name: 'web-1', serviceName: 'web', addressType: 'IPv4', endpoints: [{ addresses: ['198.51.100.8'], ready: false, nodeName: 'node-b' }] }) },
      reason: 'noEndpoints', vips: [],
    },
    { what: 'that endpoint becomes ready (Cluster: any node)', change: (s) => { s.slices[0]!.endpoints[0]!.ready = true }, reason: null, vips: ['203.0.113.50'] },
    { what: 'policy Local, the only ready endpoint elsewhere', change: (s) => { s.svc.externalTrafficPolicy = 'Local' }, reason: 'noLocalEndpoints', vips: [] },
    {
      what: 'a not-ready endpoint on this node',
      change: (s) => { s.slices.push({ namespace: 'default', name: 'web-2', serviceName: 'web', addressType: 'IPv4', endpoints: [{ addresses: ['198.51.100.7'], ready: false, nodeName: NODE }] }) },
      reason: 'noLocalEndpoints', vips: [],
    },
    { what: 'it becomes ready', change: (s) => { s.slices[1]!.endpoints[0]!.ready = true }, reason: null, vips: ['203.0.113.50'] },
    { what: 'a second, IPv6 ingress IP (non-canonical)', change: (s) => { s.svc.ingressIPs.push('2001:DB8:5:0::50') }, reason: null, vips: ['203.0.113.50', '2001:db8:5::50'] },
    { what: 'a ready endpoint without addresses does not count', change: (s) => { s.slices[1]!.endpoints[0]!.addresses = [] }, reason: 'noLocalEndpoints', vips: [] },
    { what: 'the address is back', change: (s) => { s.slices[1]!.endpoints[0]!.addresses = ['198.51.100.7'] }, reason: null, vips: ['203.0.113.50', '2001:db8:5::50'] },
    { what: 'an FQDN slice is not an endpoint source', change: (s) => { s.slices[1]!.addressType = 'FQDN' }, reason: 'noLocalEndpoints', vips: [] },
    { what: 'back to IPv6 slice type', change: (s) => { s.slices[1]!.addressType = 'IPv6' }, reason: null, vips: ['203.0.113.50', '2001:db8:5::50'] },
    { what: 'another implementation\'s loadBalancerClass', change: (s) => { s.svc.loadBalancerClass = 'other.example/lb' }, reason: 'otherLoadBalancerClass', vips: [] },
    { what: 'no class again', change: (s) => { delete s.svc.loadBalancerClass }, reason: null, vips: ['203.0.113.50', '2001:db8:5::50'] },
    { what: 'the opt-in annotation removed', change: (s) => { s.svc.annotations = {} }, reason: 'notOptedIn', vips: [] },
    { what: 'Porter\'s class instead', change: (s) => { s.svc.loadBalancerClass = 'porter.kubesphere.io/bgp' }, reason: null, vips: ['203.0.113.50', '2001:db8:5::50'] },
    { what: 'the ingress is withdrawn', change: (s) => { s.svc.ingressIPs = [] }, reason: 'noIngressIP', vips: [] },
  ]
  t.ok(steps.length > 10, 'the table is not empty')
  for (const step of steps) {
    step.change(state)
    const r = shouldAnnounce(state.svc, state.slices, NODE)
    t.equal(r, step.reason, `${step.what}: ${step.reason ?? 'announce'}`)
    t.same(desiredVips([state.svc], groupSlices(state.slices), NODE), step.vips, `${step.what}: vips ${JSON.stringify(step.vips)}`)
  }
})

t.test('desiredVips over several Services: slices matched by namespace and service-name label', async (t) => {
  const svc = (namespace: string, name: string, ips: string[], policy: 'Local' | 'Cluster' = 'Local'): LbService => ({ namespace, name, type: 'LoadBalancer', externalTrafficPolicy: policy, ingressIPs: ips, annotations: { 'lb.kubesphere.io/v1alpha1': 'porter' } })
  const sl = (namespace: string, name: string, serviceName: string | undefined, node: string, ready = true): EndpointSliceInfo => ({
    namespace, name, addressType: 'IPv4', endpoints: [{ addresses: ['198.51.100.20'], ready, nodeName: node }], ...(serviceName ? { serviceName } : {}),
  })
  const services = [
    svc('a', 'web', ['203.0.113.12']),
    svc('b', 'web', ['203.0.113.11']), // same name, other namespace: its slice is on another node
    svc('a', 'db', ['203.0.113.10', '203.0.113.9', '203.0.113.10']), // duplicates collapse, numeric sort
    svc('a', 'shared', ['203.0.113.12'], 'Cluster'), // the same IP from two Services counts once
    svc('a', 'bad', ['not-an-ip', '224.0.0.1', '203.0.113.30'], 'Cluster'),
  ]
  const slices = [
    sl('a', 'web-x', 'web', NODE), sl('b', 'web-y', 'web', 'node-b'), sl('a', 'db-x', 'db', NODE),
    sl('a', 'shared-x', 'shared', 'node-c'), sl('a', 'orphan', undefined, NODE), sl('a', 'bad-x', 'bad', 'node-b'),
  ]
  const groups = groupSlices(slices)
  t.same([...groups.keys()].sort(), ['a/bad', 'a/db', 'a/shared', 'a/web', 'b/web'], 'slices without the label are left out')
  t.same(desiredVips(services, groups, NODE), ['203.0.113.9', '203.0.113.10', '203.0.113.12', '203.0.113.30'])
  const d = decide(services, groups, NODE)
  t.same(d.map((x) => [x.service, x.reason]), [['a/bad', null], ['a/db', null], ['a/shared', null], ['a/web', null], ['b/web', 'noLocalEndpoints']])
  t.same(d.find((x) => x.service === 'a/bad')!.invalid.length, 2, 'invalid ingress IPs are reported, not announced')
  t.same(desiredVips(services, groups, 'node-b'), ['203.0.113.11', '203.0.113.12', '203.0.113.30'], 'another node serves other Local Services')
  t.same(desiredVips(services.map((s) => ({ ...s, loadBalancerClass: 'porter.kubesphere.io/bgp' })), groups, NODE, { loadBalancerClass: 'porter.example/lb' }), [], 'a configured class excludes Services of another class')
  t.same(desiredVips([{ ...services[0]!, loadBalancerClass: 'porter.example/lb' }], groups, NODE, { loadBalancerClass: 'porter.example/lb' }), ['203.0.113.12'], '... and includes its own')
})

t.test('converters: API objects (JSON or client-node classes) to internal types', async (t) => {
  t.same(toLbService({
    metadata: { name: 'web', namespace: 'default', uid: 'x' },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', loadBalancerClass: 'c', ports: [{ port: 80 }] },
    status: { loadBalancer: { ingress: [{ ip: '203.0.113.50' }, { hostname: 'lb.example.com' }, { ip: '2001:db8:5::50', ipMode: 'VIP' }] } },
  }), { namespace: 'default', name: 'web', type: 'LoadBalancer', externalTrafficPolicy: 'Local', ingressIPs: ['203.0.113.50', '2001:db8:5::50'], loadBalancerClass: 'c', ports: [{ protocol: 'TCP', port: 80 }], uid: 'x' })
  t.same(toLbService({ metadata: { name: 'x', namespace: 'n' } }), { namespace: 'n', name: 'x', type: 'ClusterIP', externalTrafficPolicy: 'Cluster', ingressIPs: [] }, 'defaults')
  t.same(toLbService({ metadata: { name: 'x', namespace: 'n' }, spec: { type: 'NodePort', externalTrafficPolicy: 'Bogus' }, status: { loadBalancer: { ingress: null } } })?.externalTrafficPolicy, 'Cluster')
  t.equal(toLbService({ metadata: {} }), undefined, 'no name: no Service')
  t.equal(toLbService(null), undefined)

  t.same(toEndpointSlice({
    metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['198.51.100.7'], conditions: { ready: true }, nodeName: NODE },
      { addresses: ['198.51.100.8'], conditions: { ready: false, serving: true }, nodeName: 'node-b' },
      { addresses: ['198.51.100.9'], conditions: {} },
      { addresses: ['198.51.100.10'] },
    ],
  }), {
    namespace: 'default', name: 'web-1', serviceName: 'web', addressType: 'IPv4',
    endpoints: [
      { addresses: ['198.51.100.7'], ready: true, nodeName: NODE },
      { addresses: ['198.51.100.8'], ready: false, serving: true, nodeName: 'node-b' },
      { addresses: ['198.51.100.9'], ready: true },
      { addresses: ['198.51.100.10'], ready: true },
    ],
  }, 'an unset ready condition counts as ready')
  t.same(toEndpointSlice({ metadata: { name: 's', namespace: 'n' }, addressType: 'IPv6', endpoints: null }), { namespace: 'n', name: 's', addressType: 'IPv6', endpoints: [] }, 'endpoints: null (an empty Go slice)')
  t.equal(toEndpointSlice({}), undefined)
})

t.test('node name: config, then NODE_NAME, then the hostname', async (t) => {
  t.equal(resolveNodeName({ nodeName: 'cfg' }, { NODE_NAME: 'env' }, 'host'), 'cfg')
  t.equal(resolveNodeName({}, { NODE_NAME: 'env' }, 'host'), 'env')
  t.equal(resolveNodeName({ nodeName: '  ' }, { NODE_NAME: '' }, 'host'), 'host', 'blank values are skipped')
  t.equal(resolveNodeName({}, {}, 'host'), 'host')
})

t.test('a rollout\'s leaving node (Local, its endpoints all serving-terminating, ready ones elsewhere): it keeps the VIP, marked draining', async (t) => {
  const svc = (name: string, ip: string, policy: 'Local' | 'Cluster' = 'Local'): LbService => ({ namespace: 'a', name, type: 'LoadBalancer', externalTrafficPolicy: policy, ingressIPs: [ip], annotations: { 'lb.kubesphere.io/v1alpha1': 'porter' } })
  const ep = (node: string, ready: boolean, terminating = false, serving = ready || terminating) => ({ addresses: ['198.51.100.20'], ready, serving, terminating, nodeName: node })
  const slice = (name: string, ...e: ReturnType<typeof ep>[]): EndpointSliceInfo => ({ namespace: 'a', name: `${name}-1`, serviceName: name, addressType: 'IPv4', endpoints: e })
  const cases: [string, EndpointSliceInfo, Reason | null, boolean][] = [
    ['ready here', slice('web', ep(NODE, true), ep('node-b', true)), null, false],
    ['serving-terminating here, ready elsewhere', slice('web', ep(NODE, false, true), ep('node-b', true)), null, true],
    ['terminating here and no longer serving', slice('web', ep(NODE, false, true, false), ep('node-b', true)), 'noLocalEndpoints', false],
    ['terminating here and everywhere (the fallback: plain next hops)', slice('web', ep(NODE, false, true), ep('node-b', false, true)), null, false],
    ['terminating here and a new ready one here', slice('web', ep(NODE, false, true), ep(NODE, true)), null, false],
  ]
  for (const [what, sl, reason, draining] of cases) {
    const d = decide([svc('web', '203.0.113.12')], groupSlices([sl]), NODE)[0]!
    t.same([d.reason, d.draining === true], [reason, draining], what)
  }
  const both = decide([svc('web', '203.0.113.12'), svc('web2', '203.0.113.12')], groupSlices([slice('web', ep(NODE, false, true), ep('node-b', true)), slice('web2', ep(NODE, true))]), NODE)
  t.same([vipsOf(both), drainingVipsOf(both)], [['203.0.113.12'], []], 'a VIP another Service still serves here is not draining')
  const one = decide([svc('web', '203.0.113.12')], groupSlices([slice('web', ep(NODE, false, true), ep('node-b', true))]), NODE)
  t.same([vipsOf(one), drainingVipsOf(one)], [['203.0.113.12'], ['203.0.113.12']], 'kept on the node, and draining')
})
