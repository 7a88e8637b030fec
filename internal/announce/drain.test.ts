// kubernetes.drainCordoned: a cordoned node is tagged GRACEFUL_SHUTDOWN for the wait, then its
// next hops leave, never a VIP's last; uncordoned, it is a plain next hop again.
import t from 'tap'
import { cordonPhases, drainAdvertisements } from './drain.ts'
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
