// redactReplacer: secret-named fields dropped at any depth, URL credentials cut, everything else
// serialised as JSON.stringify would.
import t from 'tap'
import { redactReplacer, redactString } from './redact.ts'

const redacted = (x: unknown) => JSON.parse(JSON.stringify(x, redactReplacer))

t.test('secret-named fields are dropped, the rest is kept', async (t) => {
  const input = {
    peers: [{ name: 'r4', address: '192.0.2.1', password: 'md5-key', passwordFile: '/etc/porter/r4.key', addPath: ['ipv4-unicast'] }],
    kubernetes: { server: 'https://admin:hunter2@192.0.2.50:6443', bearerToken: 'abc', clientSecret: 'x', privateKey: 'k', synced: true },
    nested: [[{ authorization: 'Bearer z', note: 'see http://user@198.51.100.1/x and ftp://a:b@h/' }]],
    n: 1, b: false, z: null,
  }
  t.same(redacted(input), {
    peers: [{ name: 'r4', address: '192.0.2.1', passwordFile: '/etc/porter/r4.key', addPath: ['ipv4-unicast'] }],
    kubernetes: { server: 'https://[redacted]@192.0.2.50:6443', synced: true },
    nested: [[{ note: 'see http://[redacted]@198.51.100.1/x and ftp://[redacted]@h/' }]],
    n: 1, b: false, z: null,
  })
  t.equal(input.peers[0]!.password, 'md5-key', 'the input is left as it was')
  t.notMatch(JSON.stringify(input, redactReplacer), /md5-key|hunter2|abc|Bearer/, 'no secret survives')
  t.same(redacted(['token', 'password']), ['token', 'password'], 'array elements are values, not field names')
  const plain = { peers: [{ name: 'r4', state: 'Established', uptimeSeconds: 5 }], vips: [{ address: '203.0.113.10', nextHops: [] }] }
  t.equal(JSON.stringify(plain, redactReplacer), JSON.stringify(plain), 'a status without secrets serialises as it is')
})

t.test('strings: only URL credentials go', async (t) => {
  t.equal(redactString('https://192.0.2.50:6443/api?x=a@b'), 'https://192.0.2.50:6443/api?x=a@b', 'an @ after the host is not userinfo')
  t.equal(redactString('exec /tmp/check: exit 1'), 'exec /tmp/check: exit 1')
  t.equal(redactString('user@example only, no URL'), 'user@example only, no URL')
  t.equal(redactString('dial https://u:p@192.0.2.1/ failed'), 'dial https://[redacted]@192.0.2.1/ failed')
})
