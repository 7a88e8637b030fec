import t, { type Test } from 'tap'
import { hex, msg } from '../../../test/lib/hex.ts'
import {
  decode, decodeDetailed, defaultContext, encode, mergeAsPath,
  type CodecContext, type UpdateMessage, type FamilyKey,
} from './index.ts'

const ctx2 = defaultContext() // 2-octet AS, no ADD-PATH
const ctx4: CodecContext = { ...defaultContext(), as4: true }
const apCtx = (as4: boolean, fams: FamilyKey[]): CodecContext => ({
  as4, addPathTx: new Set(fams), addPathRx: new Set(fams), maxMessageLength: 4096,
})

/** decode deep-equals `m`, encode byte-equals `bytes` */
function both(t: Test, name: string, bytes: Uint8Array, m: UpdateMessage, ctx: CodecContext): void {
  const r = decodeDetailed(bytes, ctx)
  t.strictSame(r.msg, m, `${name}: decode`)
  t.strictSame(r.errors, [], `${name}: no errors`)
  t.strictSame(encode(m, ctx), bytes, `${name}: encode`)
}

t.test('IPv4 UPDATE with the RFC 4271 attributes, 2-octet AS', async (t) => {
  const bytes = hex`
    ffffffffffffffffffffffffffffffff  # marker
    005e                              # length 94
    02                                # UPDATE
    0000                              # withdrawn routes length 0
    003d                              # total path attribute length 61
    40 01 01 00                       # ORIGIN (well-known transitive), 1 octet: IGP
    40 02 0a                          # AS_PATH, 10 octets
       02 02 fde8 fde9                #   AS_SEQUENCE of 2: 65000 65001
       01 01 fdea                     #   AS_SET of 1: 65002
    40 03 04 c0000201                 # NEXT_HOP 192.0.2.1
    80 04 04 00000064                 # MULTI_EXIT_DISC (optional non-transitive) 100
    40 05 04 000000c8                 # LOCAL_PREF 200
    40 06 00                          # ATOMIC_AGGREGATE
    c0 07 06 fde8 c0000201            # AGGREGATOR (optional transitive) AS 65000, 192.0.2.1
    c0 08 08 fde80064 ffffff01        # COMMUNITIES 65000:100, NO_EXPORT
    18 c63364                         # NLRI 198.51.100.0/24
    20 cb007101                       # NLRI 203.0.113.1/32
    00                                # NLRI 0.0.0.0/0
  `
  const m: UpdateMessage = {
    type: 'update',
    withdrawn: [],
    attrs: {
      origin: 0,
      asPath: [{ type: 2, asns: [65000, 65001] }, { type: 1, asns: [65002] }],
      nextHop: '192.0.2.1',
      med: 100,
      localPref: 200,
      atomicAggregate: true,
      aggregator: { asn: 65000, address: '192.0.2.1' },
      communities: [0xfde80064, 0xffffff01],
    },
    nlri: [
      { prefix: { afi: 1, addr: '198.51.100.0', len: 24 } },
      { prefix: { afi: 1, addr: '203.0.113.1', len: 32 } },
      { prefix: { afi: 1, addr: '0.0.0.0', len: 0 } },
    ],
  }
  both(t, 'ipv4', bytes, m, ctx2)
})

t.test('4-octet AS session: AS_PATH and AGGREGATOR carry 4-octet ASNs', async (t) => {
  const bytes = hex`
    ffffffffffffffffffffffffffffffff 003e 02   # header, 62 octets, UPDATE
    0000                              # withdrawn routes length
    0023                              # total path attribute length 35
    40 01 01 02                       # ORIGIN INCOMPLETE
    40 02 0a 02 02 0000fde8 fa56ea01  # AS_PATH: AS_SEQUENCE 65000 4200000001
    40 03 04 c0000201                 # NEXT_HOP
    c0 07 08 fa56ea01 c0000201        # AGGREGATOR 4200000001, 192.0.2.1
    18 c63364                         # 198.51.100.0/24
  `
  both(t, 'as4', bytes, {
    type: 'update', withdrawn: [],
    attrs: { origin: 2, asPath: [{ type: 2, asns: [65000, 4200000001] }], nextHop: '192.0.2.1', aggregator: { asn: 4200000001, address: '192.0.2.1' } },
    nlri: [{ prefix: { afi: 1, addr: '198.51.100.0', len: 24 } }],
  }, ctx4)
})

t.test('2-octet session: AS_TRANS with AS4_PATH and AS4_AGGREGATOR (RFC 6793)', async (t) => {
  const bytes = hex`
    ffffffffffffffffffffffffffffffff 0050 02   # header, 80 octets
    0000 0035                         # no withdrawn routes, 53 octets of attributes
    40 01 01 00                       # ORIGIN IGP
    40 02 06 02 02 5ba0 fde8          # AS_PATH: AS_SEQUENCE 23456 (AS_TRANS) 65000
    40 03 04 c0000201                 # NEXT_HOP
    c0 07 06 5ba0 c0000201            # AGGREGATOR AS_TRANS
    c0 11 0a 02 02 fa56ea01 0000fde8  # AS4_PATH: AS_SEQUENCE 4200000001 65000
    c0 12 08 fa56ea01 c0000201        # AS4_AGGREGATOR 4200000001
    18 c63364                         # 198.51.100.0/24
  `
  const m: UpdateMessage = {
    type: 'update', withdrawn: [],
    attrs: {
      origin: 0, asPath: [{ type: 2, asns: [23456, 65000] }], nextHop: '192.0.2.1',
      aggregator: { asn: 23456, address: '192.0.2.1' },
      as4Path: [{ type: 2, asns: [4200000001, 65000] }],
      as4Aggregator: { asn: 4200000001, address: '192.0.2.1' },
    },
    nlri: [{ prefix: { afi: 1, addr: '198.51.100.0', len: 24 } }],
  }
  both(t, 'as4_path', bytes, m, ctx2)
  t.strictSame(mergeAsPath(m.attrs, false), [{ type: 2, asns: [4200000001, 65000] }], 'merged path')
  t.strictSame(mergeAsPath(m.attrs, true), m.attrs.asPath, 'AS4_PATH ignored between 4-octet speakers')
  // encoding a 4-octet ASN on a 2-octet session writes AS_TRANS
  const enc = encode({ ...m, attrs: { ...m.attrs, asPath: [{ type: 2, asns: [4200000001, 65000] }] } }, ctx2)
  t.strictSame(enc, bytes)
})

t.test('IPv6 MP_REACH_NLRI with a link-local next hop and ADD-PATH', async (t) => {
  const bytes = hex`
    ffffffffffffffffffffffffffffffff 0066 02   # header, 102 octets
    0000                              # withdrawn routes length
    004f                              # total path attribute length 79
    80 0e 45                          # MP_REACH_NLRI (optional non-transitive), 69 octets
       0002 01                        #   AFI 2 IPv6, SAFI 1 unicast
       20                             #   next hop length 32: global + link-local
       20010db8000000000000000000000001   # 2001:db8::1
       fe800000000000000000000000000001   # fe80::1
       00                             #   reserved
       00000001 30 20010db80001       #   path id 1, 2001:db8:1::/48
       00000002 80 20010db8000000000000000000000abc   # path id 2, 2001:db8::abc/128
    40 01 01 00                       # ORIGIN IGP
    40 02 00                          # AS_PATH empty (iBGP)
  `
  both(t, 'ipv6', bytes, {
    type: 'update', withdrawn: [],
    attrs: {
      mpReach: {
        afi: 2, safi: 1, nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1',
        nlri: [
          { prefix: { afi: 2, addr: '2001:db8:1::', len: 48 }, pathId: 1 },
          { prefix: { afi: 2, addr: '2001:db8::abc', len: 128 }, pathId: 2 },
        ],
      },
      origin: 0, asPath: [],
    },
    nlri: [],
  }, apCtx(false, ['ipv6-unicast']))
})

t.test('IPv6 global next hop only, IPv4 over MP_REACH_NLRI', async (t) => {
  const v6 = hex`
    ffffffffffffffffffffffffffffffff 003f 02  0000 0028   # header, 63 octets; attributes 40 octets
    80 0e 1e 0002 01 10 20010db8000000000000000000000001 00  # MP_REACH IPv6, 16-octet next hop 2001:db8::1
       40 20010db800000001            #   2001:db8:0:1::/64
    40 01 01 00 40 02 00              # ORIGIN, AS_PATH
  `
  both(t, 'v6 global', v6, {
    type: 'update', withdrawn: [],
    attrs: { mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::1', nlri: [{ prefix: { afi: 2, addr: '2001:db8:0:1::', len: 64 } }] }, origin: 0, asPath: [] },
    nlri: [],
  }, ctx2)
  const v4 = hex`
    ffffffffffffffffffffffffffffffff 002e 02  0000 0017   # 46 octets; attributes 23
    80 0e 0d 0001 01 04 c0000201 00 18 c63364   # MP_REACH IPv4 unicast, next hop 192.0.2.1, 198.51.100.0/24
    40 01 01 00 40 02 00              # ORIGIN, AS_PATH
  `
  both(t, 'v4 mp', v4, {
    type: 'update', withdrawn: [],
    attrs: { mpReach: { afi: 1, safi: 1, nextHop: '192.0.2.1', nlri: [{ prefix: { afi: 1, addr: '198.51.100.0', len: 24 } }] }, origin: 0, asPath: [] },
    nlri: [],
  }, ctx2)
})

t.test('withdrawals: IPv4 field and MP_UNREACH_NLRI', async (t) => {
  both(t, 'v4 withdraw', hex`
    ffffffffffffffffffffffffffffffff 0020 02   # 32 octets
    0009                              # withdrawn routes length 9
    18 c63364                         # 198.51.100.0/24
    20 cb007101                       # 203.0.113.1/32
    0000                              # no attributes
  `, {
    type: 'update',
    withdrawn: [{ prefix: { afi: 1, addr: '198.51.100.0', len: 24 } }, { prefix: { afi: 1, addr: '203.0.113.1', len: 32 } }],
    attrs: {}, nlri: [],
  }, ctx2)
  both(t, 'v4 withdraw add-path', hex`
    ffffffffffffffffffffffffffffffff 0020 02  0009   # 32 octets, withdrawn length 9
    0000000a 20 cb007101              # path id 10, 203.0.113.1/32
    0000                              # no attributes
  `, { type: 'update', withdrawn: [{ prefix: { afi: 1, addr: '203.0.113.1', len: 32 }, pathId: 10 }], attrs: {}, nlri: [] }, apCtx(true, ['ipv4-unicast']))
  both(t, 'v6 withdraw', hex`
    ffffffffffffffffffffffffffffffff 0024 02   # 36 octets
    0000 000d                         # no withdrawn routes; attributes 13
    80 0f 0a 0002 01 30 20010db80001  # MP_UNREACH_NLRI IPv6 unicast: 2001:db8:1::/48
  `, {
    type: 'update', withdrawn: [],
    attrs: { mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: { afi: 2, addr: '2001:db8:1::', len: 48 } }] } },
    nlri: [],
  }, ctx2)
})

t.test('extended and large communities', async (t) => {
  both(t, 'communities', hex`
    ffffffffffffffffffffffffffffffff 004b 02  0000 0030  # 75 octets; attributes 48
    40 01 01 00  40 02 00  40 03 04 c0000201             # ORIGIN, AS_PATH, NEXT_HOP
    c0 10 10                          # EXTENDED_COMMUNITIES, 16 octets
       0002 fde8 00000064             #   route target 65000:100 (type 0x00 sub-type 0x02)
       030c 0000 0000 0008            #   opaque (encapsulation 8), kept as bytes
    c0 20 0c 0000fde8 00000001 00000002   # LARGE_COMMUNITIES 65000:1:2
    18 c63364
  `, {
    type: 'update', withdrawn: [],
    attrs: {
      origin: 0, asPath: [], nextHop: '192.0.2.1',
      extendedCommunities: [hex`0002fde800000064`, hex`030c000000000008`],
      largeCommunities: [{ global: 65000, local1: 1, local2: 2 }],
    },
    nlri: [{ prefix: { afi: 1, addr: '198.51.100.0', len: 24 } }],
  }, ctx2)
})

t.test('unknown optional transitive attribute gets the Partial bit on re-send', async (t) => {
  const inBytes = msg(2, hex`0000 0013  40 01 01 00  40 02 00  40 03 04 c0000201  c0 63 02 abcd  # type 99, flags O+T
    18 c63364`)
  const m = decode(inBytes, ctx2) as UpdateMessage
  t.strictSame(m.attrs.unknown, [{ flags: 0xc0, type: 99, data: hex`abcd` }])
  const out = encode(m, ctx2)
  t.strictSame(out, msg(2, hex`0000 0013  40 01 01 00  40 02 00  40 03 04 c0000201  e0 63 02 abcd  # now O+T+P
    18 c63364`))
  t.strictSame((decode(out, ctx2) as UpdateMessage).attrs.unknown, [{ flags: 0xe0, type: 99, data: hex`abcd` }])
  // optional non-transitive: kept, no Partial bit
  const nt = msg(2, hex`0000 0011  40 01 01 00  40 02 00  40 03 04 c0000201  80 64 00  18 c63364`)
  const m2 = decode(nt, ctx2) as UpdateMessage
  t.strictSame(m2.attrs.unknown, [{ flags: 0x80, type: 100, data: new Uint8Array(0) }])
  t.strictSame(encode(m2, ctx2), nt)
})

t.test('Extended Length attributes and long AS paths', async (t) => {
  const asns = Array.from({ length: 300 }, (_, i) => 64512 + i)
  const m: UpdateMessage = { type: 'update', withdrawn: [], attrs: { origin: 0, asPath: [{ type: 2, asns }], nextHop: '192.0.2.1' }, nlri: [{ prefix: { afi: 1, addr: '198.51.100.0', len: 24 } }] }
  const b = encode(m, ctx4)
  // attributes start at 23: ORIGIN (4 octets), then AS_PATH with the Extended Length bit
  t.equal(b[27], 0x50, 'AS_PATH flags: well-known transitive + Extended Length')
  t.equal((b[29]! << 8) | b[30]!, 2 + 255 * 4 + 2 + 45 * 4, 'split into 255 + 45')
  t.strictSame((decode(b, ctx4) as UpdateMessage).attrs.asPath, [{ type: 2, asns: asns.slice(0, 255) }, { type: 2, asns: asns.slice(255) }])
})

t.test('host bits in received prefixes are cleared', async (t) => {
  const b = msg(2, hex`0000 000e 40 01 01 00 40 02 00 40 03 04 c0000201  17 c63365  # 198.51.101.0/23 -> 198.51.100.0/23`)
  t.strictSame((decode(b, ctx2) as UpdateMessage).nlri, [{ prefix: { afi: 1, addr: '198.51.100.0', len: 23 } }])
})

t.test('layout reproduces attribute order and Extended Length flags', async (t) => {
  const b = msg(2, hex`
    0000 0016
    40 03 04 c0000201                 # NEXT_HOP first
    40 01 01 00                       # ORIGIN
    50 02 0000                        # AS_PATH with Extended Length although empty
    c0 08 04 fde80064                 # COMMUNITIES
    18 c63364
  `)
  const r = decodeDetailed(b, ctx2)
  t.strictSame(r.layout.update, [{ type: 3, flags: 0x40 }, { type: 1, flags: 0x40 }, { type: 2, flags: 0x50 }, { type: 8, flags: 0xc0 }])
  t.strictSame(encode(r.msg, ctx2, { layout: r.layout }), b)
  t.strictSame(encode(r.msg, ctx2), msg(2, hex`0000 0015 40 01 01 00 40 02 00 40 03 04 c0000201 c0 08 04 fde80064 18 c63364`), 'default order')
})

t.test('MP_REACH_NLRI is encoded first (RFC 7606 5.1)', async (t) => {
  const b = encode({ type: 'update', withdrawn: [], attrs: { origin: 0, asPath: [], mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::1', nlri: [] } }, nlri: [] }, ctx2)
  t.equal(b[24], 14, 'first attribute type')
})
