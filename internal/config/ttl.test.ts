// bgp.peers[].ebgpMultihop and .ttlSecurity: accepted where they can work, rejected at their field where not.
import t from 'tap'
import { errorsOf } from '../../test/lib/config-errors.ts'
import { parseConfig } from './index.ts'

const bgp = (peers: string) => `bgp:\n  localAs: 64512\n  routerId: 192.0.2.1\n  peers:\n${peers}`

t.test('defaults: no multihop, no GTSM', async (t) => {
  const p = parseConfig(bgp('    - { address: 192.0.2.2, peerAs: 64513 }\n')).bgp!.peers[0]!
  t.equal(p.ebgpMultihop, undefined)
  t.equal(p.ttlSecurity, false)
})

t.test('ebgpMultihop on an eBGP peer, ttlSecurity on any peer', async (t) => {
  const c = parseConfig(bgp('    - { address: 192.0.2.2, peerAs: 64513, ebgpMultihop: 4 }\n    - { address: 192.0.2.3, peerAs: 64512, ttlSecurity: true }\n'))
  t.equal(c.bgp!.peers[0]!.ebgpMultihop, 4)
  t.equal(c.bgp!.peers[1]!.ttlSecurity, true)
})

t.test('rejected with the field path: multihop on iBGP, multihop with GTSM, out of range', async (t) => {
  t.same(errorsOf(bgp('    - { address: 192.0.2.2, peerAs: 64512, ebgpMultihop: 2 }\n')), [
    'porter.yaml:5:58: bgp.peers[0].ebgpMultihop: ebgpMultihop is for eBGP peers, and this peer is iBGP (peerAs 64512 = localAs): iBGP packets already go out with the system\'s TTL (64); remove it',
  ])
  t.same(errorsOf(bgp('    - { address: 192.0.2.2, peerAs: 64513, ebgpMultihop: 2, ttlSecurity: true }\n')), [
    'porter.yaml:5:74: bgp.peers[0].ttlSecurity: ttlSecurity (GTSM) sends TTL 255 and accepts only 254 or more, so the router must be at most one hop away: it excludes ebgpMultihop; remove one of them',
  ])
  const e = errorsOf(bgp('    - { address: 192.0.2.2, peerAs: 64513, ebgpMultihop: 256 }\n'))
  t.equal(e.length, 1)
  t.match(e[0], /^porter\.yaml:5:\d+: bgp\.peers\[0\]\.ebgpMultihop: /)
})
