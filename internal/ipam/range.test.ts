// parseRange: the three Eip address forms, IPv4 and IPv6, canonical text out, and an error
// string that says what is wrong; parseIp / formatIp agree with the project's canonical text.
import fc from 'fast-check'
import t from 'tap'
import { canonicalIp } from '../ip/index.ts'
import { formatIp, parseIp, parseRange } from './range.ts'
import type { IpRange } from './types.ts'
import { fastCheckSeed } from '../../test/lib/fuzz.ts'

fastCheckSeed(t)

function range(s: string): IpRange {
  const r = parseRange(s)
  if (typeof r === 'string') throw new Error(r)
  return r
}

const shape = (r: IpRange) => ({ family: r.family, firstIP: r.firstIP, lastIP: r.lastIP, size: r.size })

t.test('the three forms', async (t) => {
  const cases: [string, ReturnType<typeof shape>][] = [
    ['192.0.2.10', { family: 'IPv4', firstIP: '192.0.2.10', lastIP: '192.0.2.10', size: 1n }],
    ['192.0.2.0/28', { family: 'IPv4', firstIP: '192.0.2.0', lastIP: '192.0.2.15', size: 16n }], // network and broadcast included
    ['192.0.2.10-192.0.2.20', { family: 'IPv4', firstIP: '192.0.2.10', lastIP: '192.0.2.20', size: 11n }],
    ['192.0.2.10 - 192.0.2.10', { family: 'IPv4', firstIP: '192.0.2.10', lastIP: '192.0.2.10', size: 1n }],
    [' 192.0.2.7/32 ', { family: 'IPv4', firstIP: '192.0.2.7', lastIP: '192.0.2.7', size: 1n }],
    ['0.0.0.0/0', { family: 'IPv4', firstIP: '0.0.0.0', lastIP: '255.255.255.255', size: 1n << 32n }],
    ['192.0.2.7/28', { family: 'IPv4', firstIP: '192.0.2.0', lastIP: '192.0.2.15', size: 16n }], // host bits cleared, as OpenELB (net.ParseCIDR)
    ['2001:DB8:0::A', { family: 'IPv6', firstIP: '2001:db8::a', lastIP: '2001:db8::a', size: 1n }],
    ['2001:db8:1::/64', { family: 'IPv6', firstIP: '2001:db8:1::', lastIP: '2001:db8:1:0:ffff:ffff:ffff:ffff', size: 1n << 64n }],
    ['2001:db8::ff00-2001:db8::1:0', { family: 'IPv6', firstIP: '2001:db8::ff00', lastIP: '2001:db8::1:0', size: 257n }],
    ['::/0', { family: 'IPv6', firstIP: '::', lastIP: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', size: 1n << 128n }],
  ]
  for (const [s, want] of cases) t.same(shape(range(s)), want, s)
})

t.test('errors say what is wrong', async (t) => {
  const cases: [string, string][] = [
    ['192.0.2.20-192.0.2.10', '"192.0.2.20-192.0.2.10": the last address is before the first'],
    ['192.0.2.1-2001:db8::1', '"192.0.2.1-2001:db8::1": the first address is IPv4 and the last is IPv6; a range has one family'],
    ['192.0.2.1-', '"192.0.2.1-": "" is not an IP address'],
    ['192.0.2.256-192.0.2.300', '"192.0.2.256-192.0.2.300": "192.0.2.256" is not an IP address'],
    ['192.0.2.0/33', '"192.0.2.0/33": "33" is not a prefix length from 0 to 32'],
    ['2001:db8::/129', '"2001:db8::/129": "129" is not a prefix length from 0 to 128'],
    ['eth0/24', '"eth0/24": "eth0" is not an IP address'],
    ['192.0.2.010', '"192.0.2.010" is not an IP address ("192.0.2.10"), a CIDR ("192.0.2.0/28") or a range ("192.0.2.10-192.0.2.20")'],
    ['fe80::1%eth0', '"fe80::1%eth0" is not an IP address ("192.0.2.10"), a CIDR ("192.0.2.0/28") or a range ("192.0.2.10-192.0.2.20")'],
    ['', '"" is not an IP address ("192.0.2.10"), a CIDR ("192.0.2.0/28") or a range ("192.0.2.10-192.0.2.20")'],
  ]
  for (const [s, want] of cases) t.equal(parseRange(s), want, s)
  t.equal(parseRange(7 as unknown as string), 'Expected an IP address ("192.0.2.10"), a CIDR ("192.0.2.0/28") or a range ("192.0.2.10-192.0.2.20"), not number')
})

t.test('contains: family and bounds, any text form', async (t) => {
  const r = range('192.0.2.10-192.0.2.20')
  t.same(['192.0.2.9', '192.0.2.10', '192.0.2.20', '192.0.2.21', '::ffff:192.0.2.15', 'x'].map((ip) => r.contains(ip)), [false, true, true, false, false, false])
  const r6 = range('2001:db8:1::/64')
  t.same(['2001:db8:1::', '2001:DB8:1:0:FFFF:ffff:ffff:ffff', '2001:db8:1:1::', '192.0.2.15'].map((ip) => r6.contains(ip)), [true, true, false, false])
  t.ok(Object.isFrozen(r), 'a range is immutable')
})

t.test('parseIp / formatIp round trip in canonical text', async (t) => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'))
  const v6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => g.map((x) => x.toString(16)).join(':'))
  const r = fc.check(fc.property(fc.oneof(v4, v6), (s) => {
    const a = parseIp(s)!
    return a.text === canonicalIp(s) && formatIp(a.family, a.value) === a.text
  }), { numRuns: 2000 })
  t.notOk(r.failed, r.failed ? `counterexample ${fc.stringify(r.counterexample)}` : 'holds')
  t.equal(parseIp('192.0.2.1')?.value, 0xc0000201n)
  t.equal(parseIp('::1')?.value, 1n)
  t.equal(parseIp('1.2.3'), undefined)
})
