// redact: secret-named fields dropped at any depth, URL credentials cut, everything else kept.
import t from 'tap'
import { redact } from './redact.ts'

t.test('secret-named fields are dropped, the rest is a deep copy', async (t) => {
  const input = {
    peers: [{ name: 'r4', address: '192.0.2.1', password: 'md5-key', passwordFile: '/etc/porter/r4.key', addPath: ['ipv4-unicast'] }],
    kubernetes: { server: 'https://admin:hunter2@192.0.2.50:6443', bearerToken: 'abc', clientSecret: 'x', privateKey: 'k', synced: true },
    nested: [[{ authorization: 'Bearer z', note: 'see http://user@198.51.100.1/x and ftp://a:b@h/' }]],
    n: 1, b: false, z: null,
  }
  const out = redact(input) as typeof input
  t.same(out, {
    peers: [{ name: 'r4', address: '192.0.2.1', passwordFile: '/etc/porter/r4.key', addPath: ['ipv4-unicast'] }],
    kubernetes: { server: 'https://[redacted]@192.0.2.50:6443', synced: true },
    nested: [[{ note: 'see http://[redacted]@198.51.100.1/x and ftp://[redacted]@h/' }]],
    n: 1, b: false, z: null,
  })
  t.not(out.peers, input.peers, 'a copy, not the same array')
  t.equal(input.peers[0]!.password, 'md5-key', 'the input is left as it was')
  t.notMatch(JSON.stringify(out), /md5-key|hunter2|abc|Bearer/, 'no secret survives')
})

t.test('strings without credentials, and cycles', async (t) => {
  t.equal(redact('https://192.0.2.50:6443/api?x=a@b'), 'https://192.0.2.50:6443/api?x=a@b', 'an @ after the host is not userinfo')
  t.equal(redact('exec /tmp/check: exit 1'), 'exec /tmp/check: exit 1')
  const a: Record<string, unknown> = { x: 1 }
  a.self = a
  t.same(redact(a), { x: 1, self: '[cycle]' })
  const shared = { v: 1 }
  t.same(redact({ p: shared, q: shared }), { p: { v: 1 }, q: { v: 1 } }, 'the same object twice is not a cycle')
})
