import t from 'tap'
import { sessionTtl } from './ttl.ts'

t.test('the TTL rule: GTSM, eBGP (multihop), iBGP', async (t) => {
  const rows: [string, Parameters<typeof sessionTtl>[1], ReturnType<typeof sessionTtl>][] = [
    ['eBGP: one hop', { peerAs: 65001 }, { ttl: 1 }],
    ['eBGP multihop 3', { peerAs: 65001, ebgpMultihop: 3 }, { ttl: 3 }],
    ['eBGP with GTSM', { peerAs: 65001, ttlSecurity: true }, { ttl: 255, minTtl: 254 }],
    ['iBGP: system default', { peerAs: 65000 }, {}],
    ['iBGP with GTSM', { peerAs: 65000, ttlSecurity: true }, { ttl: 255, minTtl: 254 }],
  ]
  for (const [what, p, want] of rows) t.same(sessionTtl(65000, p), want, what)
})
