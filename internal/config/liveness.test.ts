// Node liveness fields (issue 11): a next hop's `check: { type: bfd }` and `agent.liveness`;
// defaults, ranges and cross-field errors at their field paths.
import t from 'tap'
import { errorsOf } from '../../test/lib/config-errors.ts'
import { parseConfig } from './index.ts'

const head = 'bgp: { localAs: 64512, routerId: 192.0.2.1 }\n'

t.test('a bfd check parses with the peer bfd block\'s defaults and ranges', async (t) => {
  const c = parseConfig(`${head}vips:\n  - address: 203.0.113.10\n    nextHops: [198.51.100.11, { address: 198.51.100.12, check: { type: bfd, minTx: 50, minRx: 60, multiplier: 5 } }]\n    check: { type: bfd }\n`)
  t.same(c.vips[0]!.check, { type: 'bfd', minTx: 100, minRx: 100, multiplier: 3, port: 3784 })
  t.same(c.vips[0]!.nextHops[1]!.check, { type: 'bfd', minTx: 50, minRx: 60, multiplier: 5, port: 3784 })
  t.same(errorsOf(`${head}vips:\n  - address: 203.0.113.10\n    nextHops: [198.51.100.11]\n    check: { type: bfd, minTx: 5, multiplier: 0, interval: 2s }\n`).map((e) => e.replace(/^porter\.yaml:\d+:\d+: /, '')).sort(), [
    'vips[0].check.minTx: Too small: expected number to be >=10',
    'vips[0].check.multiplier: Too small: expected number to be >=1',
    'vips[0].check.interval: unknown field "interval"',
  ].sort())
})

t.test('one BFD session per next-hop address: two VIPs asking for other timers are rejected at the second', async (t) => {
  const errs = errorsOf(`${head}vips:\n  - { name: a, address: 203.0.113.10, nextHops: [198.51.100.11], check: { type: bfd } }\n  - name: b\n    address: 203.0.113.11\n    nextHops: [198.51.100.12, { address: 198.51.100.11, check: { type: bfd, minTx: 300 } }]\n`)
  t.equal(errs.length, 1)
  t.match(errs[0], /^porter\.yaml:\d+:\d+: vips\[1\]\.nextHops\[1\]\.check: next hop "198\.51\.100\.11" has one BFD session for all its VIPs, and vips\[0\]\.check asks for other settings \(minTx 100, minRx 100, multiplier 3, port 3784\): give both the same$/)
  const ok = parseConfig(`${head}vips:\n  - { name: a, address: 203.0.113.10, nextHops: [198.51.100.11], check: { type: bfd } }\n  - { name: b, address: 203.0.113.11, nextHops: [198.51.100.11], check: { type: bfd, minTx: 100 } }\n`)
  t.equal(ok.vips.length, 2, 'the same timers, spelt or defaulted, are one session')
})

t.test('agent.liveness: controller addresses and timers; errors at their paths', async (t) => {
  const c = parseConfig('agent: { nodeAddresses: [198.51.100.11], liveness: { peers: [198.51.100.10, "2001:DB8::10"] } }\n')
  t.same(c.agent.liveness, { peers: ['198.51.100.10', '2001:db8::10'], minTx: 100, minRx: 100, multiplier: 3, port: 3784 })
  t.equal(parseConfig('agent: { nodeAddresses: [198.51.100.11] }\n').agent.liveness, undefined, 'off by default')
  t.same(errorsOf('agent: { liveness: { peers: [198.51.100.10, 198.51.100.300, 198.51.100.10], minRx: 70000 } }\n'), [
    'porter.yaml:1:45: agent.liveness.peers[1]: "198.51.100.300" is not an IP address or a CIDR',
    'porter.yaml:1:84: agent.liveness.minRx: Too big: expected number to be <=60000',
  ])
  t.same(errorsOf('agent: { liveness: { peers: [198.51.100.10, 198.51.100.0/24, 198.51.100.10] } }\n'), [
    'porter.yaml:1:62: agent.liveness.peers[2]: "198.51.100.10" is listed twice (one BFD session per controller address)',
  ])
  t.match(errorsOf('agent: { liveness: { peers: [] } }\n')[0], /agent\.liveness\.peers: Too small/)
})

t.test('agent.liveness.peers takes CIDRs (accepted sessions); kubernetes.nodeLiveness takes the timers', async (t) => {
  const c = parseConfig('agent: { liveness: { peers: [198.51.100.0/24, "2001:DB8:1::/48", 192.0.2.10] } }\n')
  t.same(c.agent.liveness!.peers, ['198.51.100.0/24', '2001:db8:1::/48', '192.0.2.10'])
  t.same(errorsOf('agent: { liveness: { peers: [198.51.100.7/24, 198.51.100.0/33, foo] } }\n'), [
    'porter.yaml:1:30: agent.liveness.peers[0]: "198.51.100.7/24" is not an IP address or a CIDR: host bits are set (did you mean "198.51.100.0/24"?)',
    'porter.yaml:1:47: agent.liveness.peers[1]: "198.51.100.0/33" is not an IP address or a CIDR: "33" is not a prefix length from 0 to 32',
    'porter.yaml:1:64: agent.liveness.peers[2]: "foo" is not an IP address or a CIDR',
  ])
  const k = parseConfig('kubernetes: { enabled: true, nodeLiveness: { minTx: 50 } }\n')
  t.same(k.kubernetes.nodeLiveness, { minTx: 50, minRx: 100, multiplier: 3, port: 3784 })
  t.equal(parseConfig('kubernetes: { enabled: true, nodeLiveness: { port: 3785 } }\nagent: { liveness: { peers: [192.0.2.0/24], port: 3785 } }\n').agent.liveness!.port, 3785, 'another port for the agents (a controller on the same node has 3784)')
  t.match(errorsOf('agent: { liveness: { peers: [192.0.2.1], port: 0 } }\n')[0], /agent\.liveness\.port: Too small/)
  t.equal(parseConfig('kubernetes: { enabled: true }\n').kubernetes.nodeLiveness, undefined, 'off by default')
  t.match(errorsOf('kubernetes: { nodeLiveness: { multiplier: 300 } }\n')[0], /kubernetes\.nodeLiveness\.multiplier: Too big/)
})
