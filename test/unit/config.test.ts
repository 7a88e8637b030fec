import t from 'tap'
import { errorsOf } from '../lib/config-errors.ts'
import { parseConfig, ConfigError } from '../../internal/config/index.ts'

const good = `
bgp:
  localAs: 4200000001
  routerId: 192.0.2.1
  listenAddress: "::"
  peers:
    - name: leaf1
      address: 192.0.2.254
      peerAs: 64513
      export: { communities: ["65000:100", no-export], largeCommunities: ["4200000001:1:2"], med: 10 }
    - address: 2001:db8::fe
      peerAs: 64513
      passive: true
      holdTime: 0
vips:
  - name: web
    address: [203.0.113.10, 2001:db8:100::10/128]
    nextHops:
      - 198.51.100.11
      - { address: 198.51.100.12, check: { type: http, port: 8080, path: /healthz } }
      - 2001:db8::12
    check: { type: tcp, port: 80, interval: 2s, timeout: 500ms, rise: 2, fall: 3 }
agent: { interface: lo, firewall: nftables, nodeAddresses: [198.51.100.11] }
admin: { socket: /run/porter/porter.sock, metricsAddress: "127.0.0.1:9479" }
`


t.test('a full valid config parses with defaults filled and is frozen', async (t) => {
  const c = parseConfig(good)
  t.equal(c.bgp?.localAs, 4200000001)
  t.equal(c.bgp?.listenPort, 179)
  t.equal(c.bgp?.holdTime, 90)
  t.equal(c.bgp?.peers[0]?.port, 179)
  t.equal(c.bgp?.peers[0]?.addPath, true)
  t.equal(c.bgp?.peers[1]?.holdTime, 0)
  t.same(c.bgp?.peers[0]?.export.communities, ['65000:100', 'no-export'])
  const check = c.vips[0]?.check
  t.equal(check?.type === 'tcp' && check.interval, 2000)
  t.equal(check?.type === 'tcp' && check.timeout, 500)
  t.same(c.vips[0]?.nextHops[0], { address: '198.51.100.11', check: undefined })
  t.equal(c.vips[0]?.nextHops[1]?.check?.type, 'http')
  t.equal(c.admin.socket, '/run/porter/porter.sock')
  t.equal(c.shutdownTimeout, 10_000)
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.bgp!.peers[0]))
})

t.test('an empty file is a valid (idle) config', async (t) => {
  const c = parseConfig('')
  t.equal(c.bgp, undefined)
  t.same(c.vips, [])
})

const bad: [string, string, string[]][] = [
  ['bad peer address', 'bgp:\n  localAs: 64512\n  routerId: 192.0.2.1\n  peers:\n    - address: 192.0.2.1\n    - address: 10.0.0.256\n      peerAs: 64513\n',
    ['porter.yaml:5:7: bgp.peers[0].peerAs: is required', 'porter.yaml:6:16: bgp.peers[1].address: "10.0.0.256" is not an IP address']],
  ['router id must be IPv4', 'bgp:\n  localAs: 64512\n  routerId: "2001:db8::1"\n',
    ['porter.yaml:3:13: bgp.routerId: "2001:db8::1" is not an IPv4 address']],
  ['AS out of range', 'bgp:\n  localAs: 4294967296\n  routerId: 192.0.2.1\n',
    ['porter.yaml:2:12: bgp.localAs: 4294967296 is not an AS number (1-4294967295)']],
  ['unknown field', 'bgp:\n  localAs: 64512\n  routerId: 192.0.2.1\n  routerid: 1\n',
    ['porter.yaml:4:3: bgp.routerid: unknown field "routerid"']],
  ['hold time 1 is not allowed', 'bgp:\n  localAs: 64512\n  routerId: 192.0.2.1\n  holdTime: 2\n',
    ['porter.yaml:4:13: bgp.holdTime: 2 is not a hold time (0, or 3-65535 seconds)']],
  ['bad community', 'vips:\n  - address: 203.0.113.1\n    export: { communities: ["65536:1"] }\nagent: { nodeAddresses: [198.51.100.1] }\n',
    ['porter.yaml:3:29: vips[0].export.communities[0]: "65536:1" is not a community (use "ASN:VALUE" with 16-bit parts, or a well-known name such as "no-export")']],
  ['VIP must be a host address', 'vips:\n  - address: 203.0.113.0/24\n',
    ['porter.yaml:2:14: vips[0].address: "203.0.113.0/24" is not a host address (an IPv4 /32 or IPv6 /128)']],
  ['bad duration', 'vips:\n  - address: 203.0.113.1\n    check: { type: tcp, port: 80, interval: 2 parsecs }\n',
    ['porter.yaml:3:45: vips[0].check.interval: "2 parsecs" is not a duration (use e.g. "500ms", "2s", "5m")']],
  ['duplicate peer', 'bgp:\n  localAs: 64512\n  routerId: 192.0.2.1\n  peers:\n    - { address: 192.0.2.2, peerAs: 1 }\n    - { address: 192.0.2.2, peerAs: 2 }\n',
    ['porter.yaml:6:18: bgp.peers[1].address: "192.0.2.2" is already configured as peers[0]']],
  ['next hop family mismatch', 'bgp:\n  localAs: 64512\n  routerId: 192.0.2.1\nvips:\n  - address: 203.0.113.1\n    nextHops: ["2001:db8::1"]\n',
    ['porter.yaml:6:16: vips[0].nextHops[0]: "2001:db8::1" is not of the VIP\'s address family (IPv4 VIPs need IPv4 next hops, IPv6 VIPs IPv6 ones)']],
  ['timeout above interval', 'bgp:\n  localAs: 64512\n  routerId: 192.0.2.1\nvips:\n  - address: 203.0.113.1\n    nextHops: [198.51.100.1]\n    check: { type: tcp, port: 80, interval: 1s, timeout: 2s }\n',
    ['porter.yaml:7:58: vips[0].check.timeout: timeout (2000 ms) must not exceed interval (1000 ms)']],
  ['invalid YAML', 'bgp:\n  localAs: [1\n', ['porter.yaml:3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']],
  ['not a mapping', '- 1\n', ['porter.yaml:1:1: the config must be a YAML mapping']],
  ['wrong firewall', 'agent: { firewall: pf }\n',
    ['porter.yaml:1:20: agent.firewall: Invalid option: expected one of "auto"|"nftables"|"iptables"|"none"']],
]

for (const [name, text, expected] of bad) {
  t.test(`rejects: ${name}`, async (t) => {
    t.same(errorsOf(text), expected)
  })
}

t.test('all errors are listed at once, in file order', async (t) => {
  const errs = errorsOf('bgp:\n  localAs: -1\n  routerId: 1.2.3\nadmin: { sock: x }\n')
  t.equal(errs.length, 3)
  t.match(errs[0], /^porter.yaml:2:12: bgp.localAs:/)
  t.match(errs[1], /^porter.yaml:3:13: bgp.routerId: "1.2.3" is not an IPv4 address/)
  t.match(errs[2], /^porter.yaml:4:10: admin.sock: unknown field "sock"/)
})

t.test('errors carry the stable code', async (t) => {
  try {
    parseConfig('bgp: 1\n')
    t.fail('expected an error')
  } catch (e) {
    t.equal((e as ConfigError).code, 'PORTER_ERR_CONFIG_INVALID')
    t.equal((e as ConfigError).issues[0]?.path, 'bgp')
  }
})

t.test('the shipped example systemd/porter.yaml is valid', async (t) => {
  const { readFileSync } = await import('node:fs')
  const c = parseConfig(readFileSync(new URL('../../systemd/porter.yaml', import.meta.url), 'utf8'), 'porter.yaml')
  t.equal(c.bgp?.peers.length, 1)
  t.equal(c.vips[0]?.nextHops.length, 3)
})
