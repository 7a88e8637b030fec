// Node liveness fields (issue 11): a next hop's `check: { type: bfd }` and `agent.liveness`;
// defaults, ranges and cross-field errors at their field paths.
import t from 'tap'
import { errorsOf } from '../../test/lib/config-errors.ts'
import { parseConfig } from './index.ts'

const head = 'bgp: { localAs: 64512, routerId: 192.0.2.1 }\n'

t.test('a bfd check parses with the peer bfd block\'s defaults and ranges', async (t) => {
  const c = parseConfig(`${head}vips:\n  - address: 203.0.113.10\n    nextHops: [198.51.100.11, { address: 198.51.100.12, check: { type: bfd, minTx: 50, minRx: 60, multiplier: 5 } }]\n    check: { type: bfd }\n`)
  t.same(c.vips[0]!.check, { type: 'bfd', minTx: 100, minRx: 100, multiplier: 3 })
  t.same(c.vips[0]!.nextHops[1]!.check, { type: 'bfd', minTx: 50, minRx: 60, multiplier: 5 })
  t.same(errorsOf(`${head}vips:\n  - address: 203.0.113.10\n    nextHops: [198.51.100.11]\n    check: { type: bfd, minTx: 5, multiplier: 0, interval: 2s }\n`).map((e) => e.replace(/^porter\.yaml:\d+:\d+: /, '')).sort(), [
    'vips[0].check.minTx: Too small: expected number to be >=10',
    'vips[0].check.multiplier: Too small: expected number to be >=1',
    'vips[0].check.interval: unknown field "interval"',
  ].sort())
})

t.test('one BFD session per next-hop address: two VIPs asking for other timers are rejected at the second', async (t) => {
  const errs = errorsOf(`${head}vips:\n  - { name: a, address: 203.0.113.10, nextHops: [198.51.100.11], check: { type: bfd } }\n  - name: b\n    address: 203.0.113.11\n    nextHops: [198.51.100.12, { address: 198.51.100.11, check: { type: bfd, minTx: 300 } }]\n`)
  t.equal(errs.length, 1)
  t.match(errs[0], /^porter\.yaml:\d+:\d+: vips\[1\]\.nextHops\[1\]\.check: next hop "198\.51\.100\.11" has one BFD session for all its VIPs, and vips\[0\]\.check asks for other timers \(minTx 100, minRx 100, multiplier 3\): give both the same$/)
  const ok = parseConfig(`${head}vips:\n  - { name: a, address: 203.0.113.10, nextHops: [198.51.100.11], check: { type: bfd } }\n  - { name: b, address: 203.0.113.11, nextHops: [198.51.100.11], check: { type: bfd, minTx: 100 } }\n`)
  t.equal(ok.vips.length, 2, 'the same timers, spelt or defaulted, are one session')
})

t.test('agent.liveness: controller addresses and timers; errors at their paths', async (t) => {
  const c = parseConfig('agent: { nodeAddresses: [198.51.100.11], liveness: { peers: [198.51.100.10, "2001:DB8::10"] } }\n')
  t.same(c.agent.liveness, { peers: ['198.51.100.10', '2001:db8::10'], minTx: 100, minRx: 100, multiplier: 3 })
  t.equal(parseConfig('agent: { nodeAddresses: [198.51.100.11] }\n').agent.liveness, undefined, 'off by default')
  t.same(errorsOf('agent: { liveness: { peers: [198.51.100.10, 198.51.100.300, 198.51.100.10], minRx: 70000 } }\n'), [
    'porter.yaml:1:45: agent.liveness.peers[1]: "198.51.100.300" is not an IP address',
    'porter.yaml:1:61: agent.liveness.peers[2]: "198.51.100.10" is listed twice (one BFD session per controller address)',
    'porter.yaml:1:84: agent.liveness.minRx: Too big: expected number to be <=60000',
  ])
  t.match(errorsOf('agent: { liveness: { peers: [] } }\n')[0], /agent\.liveness\.peers: Too small/)
})
