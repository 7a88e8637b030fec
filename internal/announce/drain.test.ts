// kubernetes.drainCordoned: a cordoned node is tagged GRACEFUL_SHUTDOWN for the wait, then its
// next hops leave, never a VIP's last; uncordoned, it is a plain next hop again.
import t from 'tap'
import { cordonPhases, drainAdvertisements, terminatingAdvertisements, terminatingPhases } from './drain.ts'
import { terminatingNodes } from './nexthops.ts'
import { GRACEFUL_SHUTDOWN_ATTRS } from '../bgp/rib/index.ts'
import type { NodeInfo } from './types.ts'

const node = (name: string, ip: string, unschedulable = false): NodeInfo => ({ name, ready: true, excluded: false, internalIPs: { IPv4: ip }, labels: {}, ...(unschedulable ? { unschedulable } : {}) })
const nodes = (...n: NodeInfo[]) => new Map(n.map((x) => [x.name, x]))
const A = '192.0.2.11', B = '192.0.2.12'
const advs = [{ prefix: '203.0.113.10/32', nextHops: [A, B] }, { prefix: '203.0.113.11/32', nextHops: [A] }]

t.test('cordonPhases: draining for the wait from when it was first seen, then drained; uncordoned, forgotten', async (t) => {
  const p0 = cordonPhases(nodes(node('a', A, true), node('b', B)), new Map(), 1000, 5000)
  t.same([...p0.draining], [A])
  t.same([...p0.drained], [])
  t.equal(p0.nextAt, 6000, 'the wait ends 5 s after it was first seen')
  const p1 = cordonPhases(nodes(node('a', A, true), node('b', B)), p0.since, 5999, 5000)
  t.equal(p1.key, p0.key, 'still draining: same key (nothing to announce)')
  const p2 = cordonPhases(nodes(node('a', A, true), node('b', B)), p1.since, 6000, 5000)
  t.same([...p2.drained], [A])
  t.same([...p2.draining], [])
  t.equal(p2.nextAt, undefined)
  t.not(p2.key, p1.key, 'drained: a new key')
  const p3 = cordonPhases(nodes(node('a', A), node('b', B)), p2.since, 7000, 5000)
  t.same([p3.since.size, p3.draining.size, p3.drained.size, p3.key], [0, 0, 0, ''], 'uncordoned: forgotten')
  const p4 = cordonPhases(nodes(node('a', A, true)), p3.since, 8000, 5000)
  t.equal(p4.nextAt, 13000, 'cordoned again: a new wait')
})

t.test('drainAdvertisements: draining hops split off with GRACEFUL_SHUTDOWN; drained ones leave, but never the last', async (t) => {
  t.same(drainAdvertisements(advs, { draining: new Set(), drained: new Set() }), advs, 'nothing cordoned: unchanged')
  t.same(drainAdvertisements(advs, { draining: new Set([A]), drained: new Set() }), [
    { prefix: '203.0.113.10/32', nextHops: [B] },
    { prefix: '203.0.113.10/32', nextHops: [A], attrs: GRACEFUL_SHUTDOWN_ATTRS },
    { prefix: '203.0.113.11/32', nextHops: [A], attrs: GRACEFUL_SHUTDOWN_ATTRS },
  ], 'draining: the same prefix twice, the cordoned hop tagged')
  t.same(GRACEFUL_SHUTDOWN_ATTRS, { communities: ['graceful-shutdown'], localPref: 0 })
  t.same(drainAdvertisements(advs, { draining: new Set(), drained: new Set([A]) }), [
    { prefix: '203.0.113.10/32', nextHops: [B] },
    { prefix: '203.0.113.11/32', nextHops: [A], attrs: GRACEFUL_SHUTDOWN_ATTRS },
  ], 'drained: gone where another node serves; kept, tagged, where it is the last')
})

t.test('terminating endpoints (drainTerminating): a Local Service\'s leaving nodes, tagged within the wait, then gone', async (t) => {
  const ep = (node: string, ready: boolean, terminating = false, serving = ready || terminating) => ({ addresses: ['198.51.100.9'], nodeName: node, ready, serving, terminating })
  const slices = (...e: ReturnType<typeof ep>[]) => [{ addressType: 'IPv4' as const, endpoints: e, ports: [] }] as never
  const ns = nodes(node('a', A), node('b', B), node('c', '192.0.2.13'))
  const local = { externalTrafficPolicy: 'Local' as const }
  t.same(terminatingNodes(local, slices(ep('a', false, true), ep('b', true), ep('c', true)), ns), ['a'], 'a node with only serving-terminating endpoints, while others are ready')
  t.same(terminatingNodes(local, slices(ep('a', false, true), ep('a', true), ep('b', true)), ns), [], 'a node with a ready endpoint too is a plain next hop')
  t.same(terminatingNodes(local, slices(ep('a', false, true, false), ep('b', true)), ns), [], 'terminating and no longer serving: gone')
  t.same(terminatingNodes(local, slices(ep('a', false, true), ep('b', false, true)), ns), [], 'no ready endpoint anywhere: the terminating ones are the next hops themselves (fallback)')
  t.same(terminatingNodes({ externalTrafficPolicy: 'Cluster' }, slices(ep('a', false, true), ep('b', true)), ns), [], 'Cluster: next hops do not follow endpoints')

  const cand = new Map([['203.0.113.10/32', [A]]])
  const p0 = terminatingPhases(cand, new Map(), 1000, 5000)
  t.same([...p0.draining], [['203.0.113.10/32', [A]]], 'first seen: draining')
  t.equal(p0.nextAt, 6000, 'the pass runs again when the wait ends')
  const p1 = terminatingPhases(cand, p0.since, 5999, 5000)
  t.equal(p1.key, p0.key, 'same phase within the wait: no re-announcement')
  const p2 = terminatingPhases(cand, p1.since, 6000, 5000)
  t.same(p2.draining.size, 0, 'past the wait: no longer announced')
  t.not(p2.key, p1.key, 'a new phase: announced again')
  const p3 = terminatingPhases(new Map(), p2.since, 6001, 5000)
  t.same([p3.since.size, p3.key], [0, ''], 'its endpoints gone: forgotten (a later rollout waits afresh)')
  const out = terminatingAdvertisements([{ prefix: '203.0.113.10/32', nextHops: [B] }], p0.draining)
  t.same(out, [{ prefix: '203.0.113.10/32', nextHops: [B] }, { prefix: '203.0.113.10/32', nextHops: [A], attrs: GRACEFUL_SHUTDOWN_ATTRS }], 'the leaving node as a second, tagged advertisement of the prefix')
})
