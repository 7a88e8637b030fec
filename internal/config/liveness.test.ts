// Node liveness fields (issue 11): a next hop's `check: { type: bfd }` and `agent.liveness`;
// defaults, ranges and cross-field errors at their field paths; their `auth` blocks and the
// sessions with the keys read (liveness.ts), a bad key file named by its field.
import t from 'tap'
import { errorsOf } from '../../test/lib/config-errors.ts'
import { parseConfig } from './index.ts'
import { agentSessions, nextHopSessions, nodeSessions } from './liveness.ts'

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
  t.match(errs[0], /^porter\.yaml:\d+:\d+: vips\[1\]\.nextHops\[1\]\.check: next hop "198\.51\.100\.11" has one BFD session for all its VIPs, and vips\[0\]\.check asks for other settings \(minTx 100, minRx 100, multiplier 3, port 3784, no auth\): give both the same$/)
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

t.test('auth: the bgp peers\' bfd.auth block on a bfd check, kubernetes.nodeLiveness and agent.liveness; errors at their paths', async (t) => {
  const c = parseConfig(`${head}vips:\n  - address: 203.0.113.10\n    nextHops: [198.51.100.11]\n    check: { type: bfd, auth: { keyFile: /etc/porter/liveness.key } }\nkubernetes: { enabled: true, nodeLiveness: { auth: { type: keyed-sha1, keyId: 9, keyFile: /k } } }\nagent: { liveness: { peers: [198.51.100.10], auth: { keyId: 0, keyFile: /a } } }\n`)
  t.same(c.vips[0]!.check, { type: 'bfd', minTx: 100, minRx: 100, multiplier: 3, port: 3784, auth: { type: 'meticulous-keyed-sha1', keyId: 1, keyFile: '/etc/porter/liveness.key' } })
  t.same(c.kubernetes.nodeLiveness!.auth, { type: 'keyed-sha1', keyId: 9, keyFile: '/k' })
  t.same(c.agent.liveness!.auth, { type: 'meticulous-keyed-sha1', keyId: 0, keyFile: '/a' })
  t.equal(parseConfig('agent: { liveness: { peers: [198.51.100.10] } }\n').agent.liveness!.auth, undefined, 'off by default')
  const bare = (e: string[]) => e.map((x) => x.replace(/^porter\.yaml:\d+:\d+: /, ''))
  t.same(bare(errorsOf(`${head}vips:\n  - address: 203.0.113.10\n    nextHops: [{ address: 198.51.100.11, check: { type: bfd, auth: { keyId: 256, keyFile: /k, key: s3cret } } }]\n`)).sort(), [
    'vips[0].nextHops[0].check.auth.keyId: Too big: expected number to be <=255',
    'vips[0].nextHops[0].check.auth.key: unknown field "key"',
  ].sort(), 'a key is never inline')
  t.same(bare(errorsOf('kubernetes: { nodeLiveness: { auth: { type: md5 } } }\nagent: { liveness: { peers: [198.51.100.10], auth: { type: keyed-sha1 } } }\n')), [
    'kubernetes.nodeLiveness.auth.keyFile: is required',
    'kubernetes.nodeLiveness.auth.type: Invalid option: expected one of "keyed-sha1"|"meticulous-keyed-sha1"',
    'agent.liveness.auth.keyFile: is required',
  ])
})

t.test('one BFD session per next-hop address: VIPs giving it other authentication are rejected', async (t) => {
  const errs = errorsOf(`${head}vips:\n  - { name: a, address: 203.0.113.10, nextHops: [198.51.100.11], check: { type: bfd, auth: { keyFile: /k } } }\n  - { name: b, address: 203.0.113.11, nextHops: [198.51.100.11], check: { type: bfd } }\n`)
  t.equal(errs.length, 1)
  t.match(errs[0], /vips\[1\]\.check: next hop "198\.51\.100\.11" has one BFD session for all its VIPs, and vips\[0\]\.check asks for other settings \(minTx 100, minRx 100, multiplier 3, port 3784, auth meticulous-keyed-sha1 key ID 1 from "\/k"\): give both the same$/)
})

t.test('the sessions with their keys read: each key file once; a missing, empty or too long one names its field, never the key', async (t) => {
  const dir = t.testdir({ 'good.key': 'liveness-s3cret\n', 'other.key': 'another-key', 'empty.key': '\n', 'long.key': 'x'.repeat(21) })
  const key = (f: string) => `${dir}/${f}`
  const c = parseConfig(`${head}vips:\n  - { address: 203.0.113.10, nextHops: [198.51.100.11, 198.51.100.12], check: { type: bfd, minTx: 50, auth: { keyFile: ${key('good.key')} } } }\n  - { address: 203.0.113.11, nextHops: [198.51.100.11, 198.51.100.13] }\nkubernetes: { enabled: true, nodeLiveness: { port: 3785, auth: { type: keyed-sha1, keyId: 3, keyFile: ${key('other.key')} } } }\nagent: { liveness: { peers: [198.51.100.0/24], port: 3785, auth: { keyFile: ${key('good.key')} } } }\n`)
  const enc = (s: string) => new TextEncoder().encode(s)
  const good = { type: 'meticulous-keyed-sha1', keyId: 1, key: enc('liveness-s3cret') }
  t.same(nextHopSessions(c), new Map([
    ['198.51.100.11', { minTx: 50, minRx: 100, multiplier: 3, port: 3784, auth: good }],
    ['198.51.100.12', { minTx: 50, minRx: 100, multiplier: 3, port: 3784, auth: good }],
  ]), 'the trailing newline dropped; 198.51.100.13 has no bfd check')
  const [a, b] = [...nextHopSessions(c).values()]
  t.equal(a!.auth, b!.auth, 'one key file read once')
  t.same(nodeSessions(c), { minTx: 100, minRx: 100, multiplier: 3, port: 3785, auth: { type: 'keyed-sha1', keyId: 3, key: enc('another-key') } })
  t.same(agentSessions(c), { minTx: 100, minRx: 100, multiplier: 3, auth: good }, 'the agent\'s port is its own, not the controllers\'')
  t.equal(nodeSessions(parseConfig('kubernetes: { enabled: false, nodeLiveness: {} }\n')), undefined, 'Kubernetes off: no node sessions')
  t.same(agentSessions(parseConfig('agent: { liveness: { peers: [198.51.100.10] } }\n')), { minTx: 100, minRx: 100, multiplier: 3 }, 'no auth block: no auth')

  const bad = (file: string) => parseConfig(`${head}vips:\n  - { address: 203.0.113.10, nextHops: [198.51.100.12, { address: 198.51.100.11, check: { type: bfd, auth: { keyFile: ${file} } } }] }\nkubernetes: { enabled: true, nodeLiveness: { auth: { keyFile: ${file} } } }\nagent: { liveness: { peers: [198.51.100.10], auth: { keyFile: ${file} } } }\n`)
  const cases: [string, RegExp][] = [
    [key('missing.key'), /ENOENT/], [key('empty.key'), /the key must be 1-20 characters, it has 0/], [key('long.key'), /it has 21/], [dir, /EISDIR/],
  ]
  for (const [file, why] of cases) {
    const cfg = bad(file)
    const quoted = JSON.stringify(file).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
    t.throws(() => nextHopSessions(cfg), { code: 'PORTER_ERR_CONFIG_READ', message: new RegExp(`^vips\\[0\\]\\.nextHops\\[1\\]\\.check\\.auth\\.keyFile: Cannot read the BFD key file ${quoted}: `) }, `${file}: the check's field`)
    t.throws(() => nodeSessions(cfg), { message: /^kubernetes\.nodeLiveness\.auth\.keyFile: Cannot read the BFD key file / })
    t.throws(() => agentSessions(cfg), { message: /^agent\.liveness\.auth\.keyFile: Cannot read the BFD key file / })
    t.throws(() => agentSessions(cfg), { message: why })
  }
  t.throws(() => agentSessions(bad(key('long.key'))), { message: /^(?!.*xxxx)/ }, 'the key is not in the error')
})
