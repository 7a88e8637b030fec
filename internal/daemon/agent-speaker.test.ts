// Per-node speaker: what this node announces (its own next hops only, no self-BFD) and how its
// speaker is configured (next hop self on every peer; a stop always withdraws first).
import t from 'tap'
import { parseConfig } from '../config/index.ts'
import { vipAdvertisements } from '../controller/advertise.ts'
import { nodeSpeakerConfig, ownView } from './agent-speaker.ts'

const yaml = (extra = '') => `
agent: { nodeAddresses: [192.0.2.11, "2001:DB8::11"] }
bgp:
  localAs: 65002
  routerId: 192.0.2.11
${extra}  peers:
    - { address: 192.0.2.1, peerAs: 65001 }
    - { address: 192.0.2.5, peerAs: 65001, nextHop: as-given }
vips:
  - { name: web, address: [203.0.113.10, "2001:db8:100::10"], nextHops: [192.0.2.11, 192.0.2.12, "2001:db8::11"], check: { type: tcp, port: 80 } }
  - { name: other, address: 203.0.113.20, nextHops: [192.0.2.12] }
  - { name: live, address: 203.0.113.30, nextHops: [{ address: 192.0.2.11, check: { type: bfd } }] }
`

t.test('ownView: each VIP with this node\'s next hops only; a bfd check (node liveness) is not run on itself', async (t) => {
  const v = ownView(parseConfig(yaml()))
  t.same(v.vips.map((x) => x.nextHops.map((n) => n.address)), [['192.0.2.11', '2001:db8::11'], [], ['192.0.2.11']])
  t.equal(v.vips[0]!.check?.type, 'tcp', 'its own health check stays')
  t.equal(v.vips[2]!.nextHops[0]!.check, undefined, 'the bfd check is left out')
  const advs = vipAdvertisements(v)
  t.same(advs.map((a) => [a.prefixes, a.nextHops]), [[['203.0.113.10', '2001:db8:100::10'], ['192.0.2.11', '2001:db8::11']], [['203.0.113.30'], ['192.0.2.11']]],
    'a VIP this node does not serve is not announced')
})

t.test('nodeSpeakerConfig: next hop self on every peer; without gracefulShutdown a stop still withdraws first (wait 0)', async (t) => {
  const sc = nodeSpeakerConfig(parseConfig(yaml()))
  t.same(sc.peers.map((p) => p.nextHop), ['self', 'self'], 'as-given is overridden: the node is the next hop')
  t.same(sc.gracefulShutdown, { waitMs: 0 })
  t.same(nodeSpeakerConfig(parseConfig(yaml('  gracefulShutdown: { wait: 2s }\n'))).gracefulShutdown, { waitMs: 2000 })
})
