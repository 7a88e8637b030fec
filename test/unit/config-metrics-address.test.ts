// admin.metricsAddress: "IP:PORT" with a literal IP (IPv6 in brackets); every other form is a
// config error with its place and a hint.
import { errorsOf } from '../lib/config-errors.ts'
import t from 'tap'
import { parseConfig } from '../../internal/config/index.ts'
import { parseHostPort } from '../../internal/config/schema.ts'


t.test('valid addresses: IPv4, bracketed IPv6, any IP (loopback is advice, not a rule)', async (t) => {
  t.equal(parseConfig('admin: { metricsAddress: "127.0.0.1:9477" }').admin.metricsAddress, '127.0.0.1:9477')
  t.equal(parseConfig('admin:\n  metricsAddress: 127.0.0.1:9477\n').admin.metricsAddress, '127.0.0.1:9477', 'unquoted in block style')
  t.equal(parseConfig('admin: { metricsAddress: "[::1]:9477" }').admin.metricsAddress, '[::1]:9477')
  t.equal(parseConfig('admin: { metricsAddress: "0.0.0.0:9477" }').admin.metricsAddress, '0.0.0.0:9477')
  t.equal(parseConfig('admin: { metricsAddress: "[2001:db8::5]:65535" }').admin.metricsAddress, '[2001:db8::5]:65535')
  t.equal(parseConfig('').admin.metricsAddress, undefined, 'default: off')
  t.same(parseHostPort('[::1]:9477'), { host: '::1', port: 9477 })
  t.same(parseHostPort('192.0.2.1:1'), { host: '192.0.2.1', port: 1 })
})

t.test('invalid addresses: one error each, with line:col and what to write instead', async (t) => {
  const rows: [string, string][] = [
    ['"localhost:9477"', 'admin.metricsAddress: "localhost:9477": "localhost" is not an IP address (a literal IP is needed, no host names; use e.g. "127.0.0.1:9477" or "[::1]:9477")'],
    ['"127.0.0.1"', 'admin.metricsAddress: "127.0.0.1" has no port (use e.g. "127.0.0.1:9477" or "[::1]:9477")'],
    ['"::1"', 'admin.metricsAddress: "::1" has no port: put the IPv6 address in brackets and add ":PORT" (use e.g. "127.0.0.1:9477" or "[::1]:9477")'],
    ['"[::1]"', 'admin.metricsAddress: "[::1]" has no port (use e.g. "127.0.0.1:9477" or "[::1]:9477")'],
    ['"2001:db8::1:9477"', 'admin.metricsAddress: "2001:db8::1:9477" has no port: put the IPv6 address in brackets and add ":PORT" (use e.g. "127.0.0.1:9477" or "[::1]:9477")'],
    ['"127.0.0.1:0"', 'admin.metricsAddress: "127.0.0.1:0": "0" is not a port (1-65535)'],
    ['"127.0.0.1:65536"', 'admin.metricsAddress: "127.0.0.1:65536": "65536" is not a port (1-65535)'],
    ['"127.0.0.1:http"', 'admin.metricsAddress: "127.0.0.1:http": "http" is not a port (1-65535)'],
    ['"[127.0.0.1]:9477"', 'admin.metricsAddress: "[127.0.0.1]:9477": brackets are for IPv6 addresses only (use e.g. "127.0.0.1:9477" or "[::1]:9477")'],
    ['"127.0.0.256:9477"', 'admin.metricsAddress: "127.0.0.256:9477": "127.0.0.256" is not an IP address (a literal IP is needed, no host names; use e.g. "127.0.0.1:9477" or "[::1]:9477")'],
    ['":9477"', 'admin.metricsAddress: ":9477": "" is not an IP address (a literal IP is needed, no host names; use e.g. "127.0.0.1:9477" or "[::1]:9477")'],
    ['9477', 'admin.metricsAddress: 9477 is not an address and port (use a quoted string such as "127.0.0.1:9477" or "[::1]:9477")'],
  ]
  for (const [value, message] of rows) {
    const errs = errorsOf(`admin:\n  metricsAddress: ${value}\n`)
    t.same(errs, [`porter.yaml:2:19: ${message}`], value)
  }
})
