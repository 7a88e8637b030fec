// The config is normalised once, in the schema: IP addresses in canonical text (a zone id kept;
// VIP addresses without their /32 or /128), a VIP's address always a list, durations in milliseconds. Code after it compares plain strings.
import t from 'tap'
import { parseConfig } from './index.ts'

t.test('addresses canonical, lists always lists, durations in ms', async (t) => {
  const c = parseConfig(`bgp:
  localAs: 64512
  routerId: 192.0.2.1
  peers:
    - { address: "2001:DB8:0::2", peerAs: 64513, localAddress: "2001:db8:0:0::1" }
    - { address: "fe80::0:1%eth0", peerAs: 64513 }
vips:
  - { address: "2001:DB8:100::10/128", nextHops: ["2001:DB8::A", { address: "2001:0db8::b" }], check: { type: tcp, port: 80, interval: 2s, timeout: 500ms } }
agent: { nodeAddresses: ["2001:DB8::A"] }
`)
  t.same(c.bgp!.peers.map((p) => p.address), ['2001:db8::2', 'fe80::1%eth0'], 'peer addresses (zone kept)')
  t.equal(c.bgp!.peers[0]!.localAddress, '2001:db8::1')
  t.same(c.vips[0]!.nextHops.map((n) => n.address), ['2001:db8::a', '2001:db8::b'], 'next hops, both spellings')
  t.same(c.vips[0]!.address, ["2001:db8:100::10"], "a lone VIP address is a list, of canonical addresses without the /128")
  t.same(c.agent.nodeAddresses, ['2001:db8::a'])
  const check = c.vips[0]!.check as { interval: number; timeout: number }
  t.same([check.interval, check.timeout], [2000, 500], 'durations in ms')
})
