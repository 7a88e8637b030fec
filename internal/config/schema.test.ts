// Config that cannot work is rejected with its field path and place (issue 13): LOCAL_PREF on an
// eBGP peer, one VIP address in two places (however spelt), a malformed next hop reported like
// every other address field.
import t from 'tap'
import { errorsOf } from '../../test/lib/config-errors.ts'
import { parseConfig } from './index.ts'

const bgp = (peers: string) => `bgp:\n  localAs: 64512\n  routerId: 192.0.2.1\n  peers:\n${peers}`

t.test('export.localPref on an eBGP peer is rejected at its field; on an iBGP peer it is kept', async (t) => {
  t.same(errorsOf(bgp('    - { address: 192.0.2.2, peerAs: 64513, export: { localPref: 200 } }\n')), [
    'porter.yaml:5:65: bgp.peers[0].export.localPref: LOCAL_PREF is sent to iBGP peers only, and this peer is eBGP (peerAs 64513, localAs 64512): remove it, or use med or asPathPrepend',
  ])
  const c = parseConfig(bgp('    - { address: 192.0.2.2, peerAs: 64512, export: { localPref: 200 } }\n'))
  t.equal(c.bgp!.peers[0]!.export.localPref, 200)
})

t.test('a VIP-level localPref stays allowed (it goes to the iBGP peers only)', async (t) => {
  const c = parseConfig(`${bgp('    - { address: 192.0.2.2, peerAs: 64513 }\n')}vips:\n  - { address: 203.0.113.10, nextHops: [198.51.100.1], export: { localPref: 300 } }\n`)
  t.equal(c.vips[0]!.export.localPref, 300)
})

t.test('one VIP address in two places is rejected, naming both paths, however spelt', async (t) => {
  const agent = 'agent: { nodeAddresses: [198.51.100.1, "2001:db8::1"] }\n'
  t.same(errorsOf(`${agent}vips:\n  - { name: a, address: 203.0.113.10, nextHops: [198.51.100.1] }\n  - { name: b, address: [203.0.113.11, 203.0.113.10/32], nextHops: [198.51.100.1] }\n`), [
    'porter.yaml:4:40: vips[1].address[1]: "203.0.113.10/32" is the same VIP address as vips[0].address ("203.0.113.10"): a VIP address may be configured once only (merge the two entries, or remove one)',
  ])
  t.same(errorsOf(`${agent}vips:\n  - { address: ["2001:db8::10"], nextHops: ["2001:db8::1"] }\n  - { address: "2001:DB8:0::10/128", nextHops: ["2001:db8::1"] }\n`), [
    'porter.yaml:4:16: vips[1].address: "2001:DB8:0::10/128" is the same VIP address as vips[0].address[0] ("2001:db8::10"): a VIP address may be configured once only (merge the two entries, or remove one)',
  ])
})

t.test('a malformed next hop says "is not an IP address" like every other address field', async (t) => {
  t.same(errorsOf('agent: { nodeAddresses: [198.51.100.1] }\nvips:\n  - address: 203.0.113.10\n    nextHops: [198.51.100.300, { address: 198.51.100.301 }, 7]\n'), [
    'porter.yaml:4:16: vips[0].nextHops[0]: "198.51.100.300" is not an IP address',
    'porter.yaml:4:43: vips[0].nextHops[1].address: "198.51.100.301" is not an IP address',
    'porter.yaml:4:61: vips[0].nextHops[2]: 7 is not a next hop (an IP address, or { address, check })',
  ])
  const c = parseConfig('agent: { nodeAddresses: [198.51.100.1] }\nvips:\n  - address: 203.0.113.10\n    nextHops: [198.51.100.1, { address: 198.51.100.2 }]\n')
  t.same(c.vips[0]!.nextHops, [{ address: '198.51.100.1', check: undefined }, { address: '198.51.100.2' }])
})

t.test('bgp.gracefulShutdown: off when absent; its wait must leave 2 s of shutdownTimeout for the withdrawals', async (t) => {
  const peers = '    - { address: 192.0.2.2, peerAs: 64513 }\n'
  t.equal(parseConfig(bgp(peers)).bgp!.gracefulShutdown, undefined, 'absent: off')
  const on = parseConfig(`${bgp(peers)}  gracefulShutdown: { wait: 3s }\n`)
  t.same(on.bgp!.gracefulShutdown, { enabled: true, wait: 3000 }, 'a block alone turns it on')
  t.same(parseConfig(`${bgp(peers)}  gracefulShutdown: {}\n`).bgp!.gracefulShutdown, { enabled: true, wait: 5000 }, 'default wait 5 s')
  t.same(errorsOf(`${bgp(peers)}  gracefulShutdown: { wait: 9s }\n`), [
    'porter.yaml:6:29: bgp.gracefulShutdown.wait: a graceful shutdown waits 9000 ms and then withdraws the routes, all within shutdownTimeout (10000 ms): make wait at least 2000 ms shorter than shutdownTimeout, or raise shutdownTimeout',
  ])
  t.equal(parseConfig(`${bgp(peers)}  gracefulShutdown: { wait: 9s }\nshutdownTimeout: 11s\n`).bgp!.gracefulShutdown!.wait, 9000, 'fine with a longer shutdownTimeout')
  t.equal(parseConfig(`${bgp(peers)}  gracefulShutdown: { enabled: false, wait: 9s }\n`).bgp!.gracefulShutdown!.enabled, false, 'disabled: the wait is not checked')
  t.same(errorsOf(`${bgp(peers)}  gracefulShutdown: { wait: soon }\n`), [
    'porter.yaml:6:29: bgp.gracefulShutdown.wait: "soon" is not a duration (use e.g. "500ms", "2s", "5m")',
  ])
})

t.test('bgp.peers[].bfd.auth: SHA1 type (default meticulous), key ID 0-255 (default 1), a key file required', async (t) => {
  const c = parseConfig(bgp('    - { address: 192.0.2.2, peerAs: 64513, bfd: { auth: { keyFile: /etc/porter/bfd.key } } }\n'))
  t.same(c.bgp!.peers[0]!.bfd!.auth, { type: 'meticulous-keyed-sha1', keyId: 1, keyFile: '/etc/porter/bfd.key' })
  t.same(errorsOf(bgp('    - { address: 192.0.2.2, peerAs: 64513, bfd: { auth: { type: keyed-md5, keyId: 256 } } }\n')).map((e) => e.replace(/^porter\.yaml:\d+:\d+: /, '')).sort(), [
    'bgp.peers[0].bfd.auth.keyFile: is required',
    'bgp.peers[0].bfd.auth.keyId: Too big: expected number to be <=255',
    'bgp.peers[0].bfd.auth.type: Invalid option: expected one of "keyed-sha1"|"meticulous-keyed-sha1"',
  ])
})

// The schema moved from zod to valibot (start-up, issue 10). Each case below is one where
// valibot's own behaviour differs and the schema's helpers keep the old answers.
t.test('every unknown field is reported, names of Object.prototype too; arrays are not mappings', async (t) => {
  t.same(errorsOf('bgp: { localAs: 1, routerId: 192.0.2.1, constructor: 5, toString: 1 }\n'), [
    'porter.yaml:1:41: bgp.constructor: unknown field "constructor"',
    'porter.yaml:1:57: bgp.toString: unknown field "toString"',
  ], 'valibot strictObject reports the first only and passes inherited names')
  t.same(errorsOf('vips: [{ address: 192.0.2.1, check: { type: tcp, port: 1, zz: 1, yy: 2 } }]\n'), [
    'porter.yaml:1:59: vips[0].check.zz: unknown field "zz"',
    'porter.yaml:1:66: vips[0].check.yy: unknown field "yy"',
  ], 'inside a health check too')
  t.same(errorsOf('log: { __proto__: 1 }\n'), ['porter.yaml:1:8: log.__proto__: unknown field "__proto__"'])
  t.same(errorsOf('bgp: [1]\n'), ['porter.yaml:1:6: bgp: Invalid input: expected object, received array'], 'valibot objects take arrays')
  t.same(errorsOf('agent: { liveness: [] }\n'), ['porter.yaml:1:20: agent.liveness: Invalid input: expected object, received array'])
})

t.test('numbers are finite; a fraction is reported as such, not also as out of range', async (t) => {
  t.same(errorsOf('bgp: { localAs: 1, routerId: 192.0.2.1, listenPort: .inf }\n'), ['porter.yaml:1:53: bgp.listenPort: Invalid input: expected number, received Infinity'])
  t.same(errorsOf('bgp: { localAs: .nan, routerId: 192.0.2.1 }\n'), ['porter.yaml:1:17: bgp.localAs: NaN is not an AS number'])
  t.same(errorsOf('shutdownTimeout: .inf\n'), ['porter.yaml:1:18: shutdownTimeout: Invalid input'])
  t.same(errorsOf('bgp: { localAs: 1, routerId: 192.0.2.1, connectRetry: 0.5 }\n'), ['porter.yaml:1:55: bgp.connectRetry: Invalid input: expected int, received number'])
  t.same(errorsOf('bgp: { localAs: 0.5, routerId: 192.0.2.1 }\n'), ['porter.yaml:1:17: bgp.localAs: 0.5 is not an AS number'])
})

t.test('a next hop, a VIP address and a health check are reported at the field that is wrong', async (t) => {
  const vip = (x: string) => `vips:\n  - { address: 203.0.113.10, ${x} }\n`
  t.same(errorsOf(vip('nextHops: [{ address: 198.51.100.1, check: { type: tcp } }]')), ['porter.yaml:2:73: vips[0].nextHops[0].check.port: is required'])
  t.same(errorsOf(vip('nextHops: [{ check: { type: tcp, port: 80 } }]')), ['porter.yaml:2:41: vips[0].nextHops[0].address: is required'])
  t.same(errorsOf(vip('nextHops: [5]')), ['porter.yaml:2:41: vips[0].nextHops[0]: 5 is not a next hop (an IP address, or { address, check })'])
  t.same(errorsOf(vip('nextHops: ["198.51.100.300"]')), ['porter.yaml:2:41: vips[0].nextHops[0]: "198.51.100.300" is not an IP address'])
  t.same(errorsOf(vip('check: { type: udp }')), ["porter.yaml:2:45: vips[0].check.type: Invalid discriminator value. Expected 'tcp' | 'http' | 'https' | 'exec' | 'bfd'"])
  t.same(errorsOf(vip('check: { port: 80 }')), ['porter.yaml:2:37: vips[0].check.type: is required'])
  t.same(errorsOf('vips:\n  - { address: [203.0.113.10, 5] }\n'), ['porter.yaml:2:31: vips[0].address[1]: Invalid input: expected string, received number'])
  t.same(errorsOf('vips:\n  - { address: 5 }\n'), ['porter.yaml:2:16: vips[0].address: 5 is not a host address (an IPv4 /32 or IPv6 /128)'])
})

t.test('defaults are the parsed values of what a file would say (valibot parses a default)', async (t) => {
  const c = parseConfig('')
  t.same(c.kubernetes, { enabled: false, inCluster: false, bgpPeers: false, leaderElection: { enabled: true, name: 'porter-controller', leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 } })
  t.same(c.agent, { interface: 'lo', firewall: 'auto', mode: 'address', reconcileInterval: 30_000, nodeAddresses: [] })
  t.same(c.admin, {})
  t.same(c.log, { level: 'info' })
  t.equal(c.shutdownTimeout, 10_000)
  const h = parseConfig('vips:\n  - { address: 203.0.113.10, check: { type: http } }\n').vips[0]!.check
  t.same(h, { type: 'http', path: '/', expectStatus: 200, insecure: false, interval: 2000, timeout: 1000, rise: 2, fall: 3 })
})
