// Addresses, prefixes and communities: the text forms config and controllers hand to the RIB.
import t from 'tap'
import { PorterError } from '../../errors/index.ts'
import { formatIpv6, parseAddress, parsePrefix } from '../../ip/index.ts'
import { formatCommunity, formatLargeCommunity, parseCommunity, parseLargeCommunity, WELL_KNOWN_COMMUNITIES } from './community.ts'

t.test('addresses: canonical text (RFC 5952 for IPv6)', async (t) => {
  const cases: [string, string | null][] = [
    ['192.0.2.1', '192.0.2.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['192.0.2.01', null], // leading zero: octal in some parsers, refused
    ['192.0.2.256', null],
    ['192.0.2', null],
    ['192.0.2.1.5', null],
    ['192.0.2.-1', null],
    [' 192.0.2.1', null],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first run on a tie
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['2001:db8::192.0.2.1', '2001:db8::c000:201'],
    ['2001:db8:::1', null],
    ['2001:db8::1::2', null],
    ['1:2:3:4:5:6:7:8:9', null],
    ['1:2:3:4:5:6:7', null],
    ['2001:db8::g', null],
    ['2001:db8::12345', null],
    ['fe80::1%eth0', null],
    ['', null],
  ]
  t.ok(cases.length > 0)
  for (const [input, want] of cases) t.equal(parseAddress(input)?.text ?? null, want, JSON.stringify(input))
  const a = parseAddress('2001:db8::1')
  t.equal(a?.key, '20010db8000000000000000000000001', 'key is fixed-width hex')
  t.equal(parseAddress('10.0.0.1')?.key, '0a000001')
  t.equal(formatIpv6(new Uint8Array(16)), '::')
})

t.test('prefixes', async (t) => {
  const ok: [string, string, number, number][] = [
    ['192.0.2.10/32', '192.0.2.10', 32, 1],
    ['192.0.2.10', '192.0.2.10', 32, 1],
    ['192.0.2.0/24', '192.0.2.0', 24, 1],
    ['0.0.0.0/0', '0.0.0.0', 0, 1],
    ['2001:db8::10/128', '2001:db8::10', 128, 2],
    ['2001:DB8::/32', '2001:db8::', 32, 2],
    ['2001:db8::10', '2001:db8::10', 128, 2],
  ]
  for (const [input, addr, len, afi] of ok) {
    const p = parsePrefix(input)
    t.same(p.ok && p.value.prefix, { afi, addr, len }, input)
    t.equal(p.ok && p.value.text, `${addr}/${len}`, `${input} canonical text`)
  }
  const bad: [string, RegExp][] = [
    ['192.0.2.10/24', /host bits are set \(did you mean "192\.0\.2\.0\/24"\?\)/],
    ['2001:db8::1/64', /did you mean "2001:db8::\/64"/],
    ['192.0.2.0/33', /prefix length from 0 to 32/],
    ['192.0.2.0/024', /prefix length/],
    ['192.0.2.0/', /prefix length/],
    ['2001:db8::/129', /prefix length from 0 to 128/],
    ['vip.example/32', /"vip.example" is not an IP address/],
  ]
  for (const [input, re] of bad) {
    const p = parsePrefix(input)
    t.equal(p.ok, false, input)
    if (!p.ok) t.match(p.reason, re, input)
  }
})

t.test('communities', async (t) => {
  const cases: [string, number][] = [
    ['65000:100', 0xfde80064],
    ['0:0', 0],
    ['65535:65535', 0xffffffff],
    ['no-export', 0xffffff01],
    ['NO_EXPORT', 0xffffff01],
    ['no-advertise', 0xffffff02],
    ['no-export-subconfed', 0xffffff03],
    ['local-as', 0xffffff03],
    ['no-peer', 0xffffff04],
    ['blackhole', 0xffff029a],
    ['graceful-shutdown', 0xffff0000],
    ['65535:666', 0xffff029a],
  ]
  for (const [s, v] of cases) t.equal(parseCommunity(s), v, s)
  t.equal(formatCommunity(0xfde80064), '65000:100')
  t.equal(Object.keys(WELL_KNOWN_COMMUNITIES).length > 5, true)
  const bad = ['65536:1', '1:65536', '65000', '65000:100:1', 'no-such-name', '-1:5', '01:5', '', 'a:b']
  for (const s of bad) {
    t.throws(() => parseCommunity(s), { name: 'PorterError', code: 'PORTER_ERR_CONFIG_INVALID', message: new RegExp(`"${s}"`) }, `refuses ${JSON.stringify(s)}`)
  }
  try {
    parseCommunity('65536:1')
    t.fail('should throw')
  } catch (e) {
    t.ok(e instanceof PorterError)
    t.equal((e as Error).message, 'Cannot parse community "65536:1": both halves must be numbers from 0 to 65535')
  }
})

t.test('large communities', async (t) => {
  t.same(parseLargeCommunity('65000:1:2'), { global: 65000, local1: 1, local2: 2 })
  t.same(parseLargeCommunity('4294967295:4294967295:0'), { global: 4294967295, local1: 4294967295, local2: 0 })
  t.equal(formatLargeCommunity({ global: 4200000000, local1: 7, local2: 9 }), '4200000000:7:9')
  for (const s of ['65000:1', '4294967296:1:1', '1:2:3:4', 'a:b:c', '1::2', 'no-export']) {
    t.throws(() => parseLargeCommunity(s), { code: 'PORTER_ERR_CONFIG_INVALID', message: /large community/ }, `refuses ${s}`)
  }
})
