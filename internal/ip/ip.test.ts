import t from 'tap'
import fc from 'fast-check'
import { canonicalIp, formatIpv6, ipToBytes, isIpv4, networkOf, parseAddress, parseIpv4, parseIpv6 } from './index.ts'
import { checkProperty, fastCheckSeed } from '../../test/lib/fuzz.ts'
import { isIP, isIPv6 } from 'node:net'

/** canonical text of a strictly parsed address (no zone id), or null */
const strictCanonical = (s: string): string | null => parseAddress(s)?.text ?? null

t.test('IPv4 parse and reject', async (t) => {
  t.equal(parseIpv4('192.0.2.1'), 0xc0000201)
  t.equal(parseIpv4('0.0.0.0'), 0)
  t.equal(parseIpv4('255.255.255.255'), 0xffffffff)
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1..2.3', '1.2.3.4 ', 'a.b.c.d', '1.2.3.']) {
    t.equal(parseIpv4(bad), -1, `rejects "${bad}"`)
  }
})

t.test('isIpv4 (a regular expression) accepts exactly what parseIpv4 does', async (t) => {
  for (const good of ['192.0.2.1', '0.0.0.0', '255.255.255.255', '198.18.0.10']) t.ok(isIpv4(good), `accepts "${good}"`)
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1..2.3', '1.2.3.4 ', 'a.b.c.d', '1.2.3.', '1.2.3.4\n', '1.2.3.4/32', '::1']) t.notOk(isIpv4(bad), `rejects ${JSON.stringify(bad)}`)
  const run = fastCheckSeed(t)
  // strings near dotted quads: digits, dots and a few other characters, and real addresses
  const near = fc.oneof(
    fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '9', '.', '.', ' ', '\n', 'a', '/', '-'), maxLength: 18 }),
    fc.ipV4(),
    fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300)).map((p) => p.join('.')),
  )
  checkProperty(t, run, 'isIpv4(s) === (parseIpv4(s) >= 0)', fc.property(near, (s) => isIpv4(s) === parseIpv4(s) >= 0), 20_000)
})

t.test('IPv6 canonical text per RFC 5952', async (t) => {
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs (4.2.3)
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed (4.2.2)
    ['2001:DB8::A', '2001:db8::a'], // lowercase (4.3)
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['fe80::1:2', 'fe80::1:2'],
    ['2001:db8:0:0:0:1:0:0', '2001:db8::1:0:0'], // longest run wins
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['0:0:0:0:0:0:0:0', '::'],
  ]
  for (const [inp, out] of cases) {
    t.equal(strictCanonical(inp), out, inp)
    t.equal(canonicalIp(inp), out, inp)
  }
  for (const bad of ['', ':', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::', '1:2:3:4:5:6:7', '::1:', '1:2:3:4:5:6:7::8:9', 'fe80::1%eth0']) {
    t.equal(strictCanonical(bad), null, `rejects "${bad}"`)
  }
})

t.test('IPv6 formatting agrees with node:net on random addresses', async (t) => {
  const b = new Uint8Array(16)
  let n = 0
  for (let i = 0; i < 2000; i++) {
    for (let j = 0; j < 16; j++) b[j] = Math.random() < 0.5 ? 0 : (Math.random() * 256) | 0
    const s = formatIpv6(b)
    if (!isIPv6(s)) t.fail(`not IPv6: ${s}`)
    const back = new Uint8Array(16)
    if (!parseIpv6(s, back) || Buffer.compare(Buffer.from(back), Buffer.from(b)) !== 0) t.fail(`round trip ${s}`)
    // compare with the WHATWG URL serializer, which follows RFC 5952
    const viaUrl = new URL(`http://[${s}]/`).hostname.slice(1, -1)
    if (viaUrl !== s) t.fail(`${s} vs URL ${viaUrl}`)
    n++
  }
  t.equal(n, 2000)
})

t.test('canonicalIp drops an IPv6 zone id, as node:net accepts one', async (t) => {
  const cases: [string, string | undefined][] = [
    ['fe80::1%eth0', 'fe80::1'],
    ['FE80::0:1%en0.5', 'fe80::1'],
    ['::ffff:192.0.2.1%a-b', '::ffff:c000:201'],
    ['fe80::1%', undefined],
    ['fe80::1%a%b', undefined],
    ['fe80::1%_', undefined],
    ['192.0.2.1%eth0', undefined],
    ['%eth0', undefined],
  ]
  for (const [inp, out] of cases) {
    t.equal(canonicalIp(inp), out, inp)
    t.equal(out !== undefined, isIP(inp) !== 0, `${inp}: accepted exactly when node:net accepts it`)
  }
})

t.test('prefixes', async (t) => {
  t.same(networkOf('198.51.100.77/24'), { afi: 1, addr: '198.51.100.0', len: 24 })
  t.same(networkOf('2001:db8:1:2::/33'), { afi: 2, addr: '2001:db8::', len: 33 })
  t.same(networkOf('192.0.2.1'), { afi: 1, addr: '192.0.2.1', len: 32 })
  t.equal(networkOf('192.0.2.0/33'), null)
  t.equal(networkOf('192.0.2.0/024'), null)
  t.same(ipToBytes('192.0.2.1'), Uint8Array.of(192, 0, 2, 1))
})
