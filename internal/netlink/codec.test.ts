import t from 'tap'
import fc from 'fast-check'
import { ipToBytes, bytesToIp, canonicalIp } from '../ip/index.ts'
import {
  encodeNewAddr, encodeDelAddr, encodeNewRoute, encodeDelRoute, splitMessages, decodeAddr, decodeRoute, errorOf,
  RTM_NEWADDR, RTM_DELADDR, RTM_NEWROUTE, RTM_DELROUTE, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST,
} from './_codec.ts'
import { fastCheckSeed } from '../../test/lib/fuzz.ts'

fastCheckSeed(t)

/** WHATWG URL serialises IPv6 hosts in RFC 5952 form: an independent oracle. */
const urlCanonical = (v6: string): string => new URL(`http://[${v6}]/`).hostname.slice(1, -1)

t.test('IPv4 text <-> bytes', async (t) => {
  const cases: [string, number[]][] = [['192.0.2.1', [192, 0, 2, 1]], ['0.0.0.0', [0, 0, 0, 0]], ['255.255.255.255', [255, 255, 255, 255]]]
  t.ok(cases.length > 0)
  for (const [s, b] of cases) {
    t.same([...ipToBytes(s)!], b, s)
    t.equal(bytesToIp(Uint8Array.from(b)), s)
  }
})

t.test('IPv6 canonical form (RFC 5952)', async (t) => {
  const cases: [string, string][] = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:db8::0:1', '2001:db8::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ]
  for (const [input, want] of cases) t.equal(canonicalIp(input), want, input)
  t.equal(canonicalIp('2001:db8::g'), undefined)
  t.equal(canonicalIp('192.0.2.256'), undefined)
})

t.test('property: bytes -> text -> bytes is the identity, text matches the URL serialiser', async (t) => {
  let runs = 0
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
    runs++
    const s = bytesToIp(b)
    return Buffer.compare(ipToBytes(s)!, Buffer.from(b)) === 0 && s === urlCanonical(s)
  }), { numRuns: 2000 })
  fc.assert(fc.property(fc.ipV6(), (s) => {
    runs++
    return canonicalIp(s) === urlCanonical(s)
  }), { numRuns: 2000 })
  t.equal(runs, 4000)
})

t.test('address messages: encode then decode gives the spec back', async (t) => {
  const specs = [
    { family: 4 as const, address: '203.0.113.10', prefixLen: 32, ifindex: 1, label: 'lo:porter', proto: 0x50, scope: 0 },
    { family: 6 as const, address: '2001:db8::10', prefixLen: 128, ifindex: 7, proto: 0x50, flags: 0x202, scope: 0 },
  ]
  for (const spec of specs) {
    const msg = encodeNewAddr(spec, 42)
    const [h, ...rest] = splitMessages(msg)
    t.equal(rest.length, 0)
    t.equal(h!.type, RTM_NEWADDR)
    t.equal(h!.flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 'create exclusively: an existing address is EEXIST, never replaced')
    t.equal(h!.seq, 42)
    const d = decodeAddr(msg, h!)
    t.match(d, { family: spec.family, address: spec.address, prefixLen: spec.prefixLen, ifindex: spec.ifindex, proto: 0x50, flags: spec.flags ?? 0 })
    t.equal(d!.label, spec.label)
    const del = encodeDelAddr(spec, 43)
    const dh = splitMessages(del)[0]!
    t.equal(dh.type, RTM_DELADDR)
    t.match(decodeAddr(del, dh), { address: spec.address, prefixLen: spec.prefixLen, ifindex: spec.ifindex })
  }
})

t.test('route messages: encode then decode gives the spec back', async (t) => {
  const spec = { family: 6 as const, dst: '2001:db8::20', dstLen: 128, table: 255, protocol: 0x50, type: 2, scope: 254, oif: 1 }
  const msg = encodeNewRoute(spec, 7)
  const h = splitMessages(msg)[0]!
  t.equal(h.type, RTM_NEWROUTE)
  t.same(decodeRoute(msg, h), spec)
  const big = { ...spec, family: 4 as const, dst: '198.18.0.1', dstLen: 32, table: 1000 }
  const m2 = encodeDelRoute(big, 8)
  const h2 = splitMessages(m2)[0]!
  t.equal(h2.type, RTM_DELROUTE)
  t.same(decodeRoute(m2, h2), big, 'a table id above 255 travels in RTA_TABLE')
})

t.test('split several messages in one datagram; ACK and error codes', async (t) => {
  const a = encodeNewAddr({ family: 4, address: '192.0.2.1', prefixLen: 32, ifindex: 1 }, 1)
  const b = encodeNewAddr({ family: 4, address: '192.0.2.2', prefixLen: 32, ifindex: 1 }, 2)
  const both = Buffer.concat([a, b])
  t.same(splitMessages(both).map((h) => h.seq), [1, 2])
  t.same(splitMessages(both.subarray(0, both.length - 3)).map((h) => h.seq), [1], 'a truncated tail is ignored')
  // NLMSG_ERROR: header + int32 error (negative errno) + original header
  const err = Buffer.alloc(36)
  err.writeUInt32LE(36, 0); err.writeUInt16LE(2, 4); err.writeUInt32LE(9, 8); err.writeInt32LE(-17, 16)
  t.equal(errorOf(err, splitMessages(err)[0]!), 17)
  err.writeInt32LE(0, 16)
  t.equal(errorOf(err, splitMessages(err)[0]!), 0)
})
