import t from 'tap'
import { hex, msg } from '../../../test/lib/hex.ts'
import { BgpWireError, decode, decodeDetailed, defaultContext, encode, makeOpen, asnOf, type OpenMessage } from './index.ts'

const ctx = defaultContext()

// BIRD-style OPEN: every capability in a single optional parameter.
const BIRD_STYLE = hex`
  ffffffffffffffffffffffffffffffff  # marker
  0039                              # length 57
  01                                # type OPEN
  04                                # version 4
  fde8                              # my AS 65000
  00b4                              # hold time 180
  c0000201                          # BGP identifier 192.0.2.1
  1c                                # optional parameters length 28
  02 1a                             # parameter: capabilities, 26 octets
     01 04 0001 00 01               #   multiprotocol: AFI 1 (IPv4), reserved, SAFI 1 (unicast)
     01 04 0002 00 01               #   multiprotocol: AFI 2 (IPv6), reserved, SAFI 1
     02 00                          #   route refresh
     41 04 0000fde8                 #   4-octet AS: 65000
     45 04 0001 01 03               #   ADD-PATH: IPv4 unicast, send/receive 3 (both)
`
const BIRD_MSG: OpenMessage = {
  type: 'open',
  version: 4,
  myAs: 65000,
  holdTime: 180,
  routerId: '192.0.2.1',
  capabilities: [
    { code: 1, kind: 'multiprotocol', afi: 1, safi: 1 },
    { code: 1, kind: 'multiprotocol', afi: 2, safi: 1 },
    { code: 2, kind: 'route-refresh' },
    { code: 65, kind: 'as4', asn: 65000 },
    { code: 69, kind: 'add-path', families: [{ afi: 1, safi: 1, mode: 'both' }] },
  ],
}

t.test('OPEN with all capabilities in one parameter', async (t) => {
  const r = decodeDetailed(BIRD_STYLE, ctx)
  t.strictSame(r.msg, BIRD_MSG)
  t.strictSame(r.layout.open, { capabilityGroups: [5], extendedParams: false })
  t.strictSame(encode(BIRD_MSG, ctx, { layout: r.layout }), BIRD_STYLE, 'layout reproduces the bytes')
})

// FRR/GoBGP style: one capability per optional parameter; graceful restart; AS_TRANS.
const ONE_PER_PARAM = hex`
  ffffffffffffffffffffffffffffffff  # marker
  0045                              # length 69
  01                                # OPEN
  04                                # version
  5ba0                              # my AS 23456 = AS_TRANS
  005a                              # hold time 90
  c6336401                          # BGP identifier 198.51.100.1
  28                                # optional parameters length 40
  02 06 01 04 0002 00 01            # capabilities: multiprotocol IPv6 unicast
  02 02 02 00                       # capabilities: route refresh
  02 02 06 00                       # capabilities: extended message
  02 08 40 06 c078 0002 01 80       # capabilities: graceful restart, R+N bits, 120 s; IPv6 unicast F bit
  02 06 41 04 fa56ea01              # capabilities: 4-octet AS 4200000001
  02 04 83 02 abcd                  # capabilities: unknown code 131, 2 octets kept raw
`
const ONE_PER_MSG: OpenMessage = {
  type: 'open',
  version: 4,
  myAs: 23456,
  holdTime: 90,
  routerId: '198.51.100.1',
  capabilities: [
    { code: 1, kind: 'multiprotocol', afi: 2, safi: 1 },
    { code: 2, kind: 'route-refresh' },
    { code: 6, kind: 'extended-message' },
    { code: 64, kind: 'graceful-restart', restarting: true, notification: true, restartTime: 120, families: [{ afi: 2, safi: 1, forwardingPreserved: true }] },
    { code: 65, kind: 'as4', asn: 4200000001 },
    { code: 131, kind: 'unknown', data: Uint8Array.of(0xab, 0xcd) },
  ],
}

t.test('OPEN with one capability per parameter, graceful restart, unknown capability', async (t) => {
  t.strictSame(decode(ONE_PER_PARAM, ctx), ONE_PER_MSG)
  t.strictSame(encode(ONE_PER_MSG, ctx), ONE_PER_PARAM, 'default encoding is one capability per parameter')
  t.equal(asnOf(ONE_PER_MSG), 4200000001)
})

t.test('OPEN without optional parameters and with other parameter types', async (t) => {
  const bare = msg(1, hex`04 fde8 0000 c0000201 00`)
  t.strictSame(decode(bare, ctx), { type: 'open', version: 4, myAs: 65000, holdTime: 0, routerId: '192.0.2.1', capabilities: [] })
  const other = msg(1, hex`04 fde8 0003 c0000201 05  01 03 aabbcc  # parameter type 1 (deprecated auth), kept raw`)
  const m = decode(other, ctx) as OpenMessage
  t.strictSame(m.otherParams, [{ type: 1, data: Uint8Array.of(0xaa, 0xbb, 0xcc) }])
  t.strictSame(encode(m, ctx), other)
})

t.test('RFC 9072 extended optional parameters', async (t) => {
  // enough unknown capabilities to pass 255 octets of parameters
  const caps: OpenMessage['capabilities'] = []
  for (let i = 0; i < 5; i++) caps.push({ code: 200 + i, kind: 'unknown', data: new Uint8Array(60).fill(i) })
  const m: OpenMessage = { type: 'open', version: 4, myAs: 65000, holdTime: 90, routerId: '192.0.2.1', capabilities: caps }
  const b = encode(m, ctx)
  // after the fixed fields: 255 (non-ext length), 255 (type), 2-octet extended length, params with 2-octet lengths
  t.equal(b[28], 255, 'non-extended length octet is 255')
  t.equal(b[29], 255, 'first parameter type is 255')
  t.equal((b[30]! << 8) | b[31]!, 5 * (3 + 62), 'extended length')
  t.equal(b[32], 2, 'first parameter: capabilities')
  t.equal((b[33]! << 8) | b[34]!, 62, 'with a 2-octet length')
  const r = decodeDetailed(b, ctx)
  t.strictSame(r.msg, m)
  t.equal(r.layout.open?.extendedParams, true)
})

t.test('OPEN errors', async (t) => {
  const cases: [string, Uint8Array, number, number, number[]?][] = [
    ['version 3', msg(1, hex`03 fde8 00b4 c0000201 00`), 2, 1, [0, 4]],
    ['hold time 1', msg(1, hex`04 fde8 0001 c0000201 00`), 2, 6],
    ['hold time 2', msg(1, hex`04 fde8 0002 c0000201 00`), 2, 6],
    ['BGP identifier 0.0.0.0', msg(1, hex`04 fde8 00b4 00000000 00`), 2, 3],
    ['parameters length too long', msg(1, hex`04 fde8 00b4 c0000201 05 02 02 02 00`), 2, 0],
    ['parameters length too short', msg(1, hex`04 fde8 00b4 c0000201 02 02 02 02 00`), 2, 0],
    ['parameter overruns', msg(1, hex`04 fde8 00b4 c0000201 04 02 05 02 00`), 2, 0],
    ['multiprotocol of length 3', msg(1, hex`04 fde8 00b4 c0000201 07 02 05 01 03 000101`), 2, 0],
    ['4-octet AS of length 2', msg(1, hex`04 fde8 00b4 c0000201 06 02 04 41 02 fde8`), 2, 0],
    ['graceful restart of length 3', msg(1, hex`04 fde8 00b4 c0000201 07 02 05 40 03 007800`), 2, 0],
    ['capability header cut', msg(1, hex`04 fde8 00b4 c0000201 03 02 01 41`), 2, 0],
    ['OPEN longer than 4096', msg(1, new Uint8Array(4100)), 1, 2],
  ]
  for (const [name, bytes, code, sub, data] of cases) {
    try {
      decode(bytes, { ...ctx, maxMessageLength: 65535 })
      t.fail(`${name}: no error`)
    } catch (e) {
      t.ok(e instanceof BgpWireError, `${name}: BgpWireError`)
      const n = (e as BgpWireError).toNotification()
      t.equal(n.code, code, `${name}: code`)
      t.equal(n.subcode, sub, `${name}: subcode`)
      if (data) t.strictSame([...n.data], data, `${name}: data`)
      t.equal((e as BgpWireError).action, 'session-reset')
    }
  }
})

t.test('ADD-PATH with an undefined send/receive value is kept raw (RFC 7911 4)', async (t) => {
  const b = msg(1, hex`04 fde8 00b4 c0000201 08 02 06 45 04 0001 01 04`)
  const m = decode(b, ctx) as OpenMessage
  t.strictSame(m.capabilities, [{ code: 69, kind: 'unknown', data: hex`0001 01 04` }])
})

t.test('makeOpen', async (t) => {
  const m = makeOpen({
    asn: 4200000001, holdTime: 90, routerId: '192.0.2.1', families: ['ipv4-unicast', 'ipv6-unicast'],
    addPath: { 'ipv4-unicast': 'send', 'ipv6-unicast': 'both' }, extendedMessage: true,
    gracefulRestart: { restartTime: 120, forwardingPreserved: ['ipv4-unicast'] },
  })
  t.equal(m.myAs, 23456, 'AS_TRANS in the 2-octet field')
  t.strictSame(m.capabilities.map((c) => c.kind), ['multiprotocol', 'multiprotocol', 'route-refresh', 'extended-message', 'graceful-restart', 'as4', 'add-path'])
  t.strictSame(decode(encode(m, ctx), ctx), m)
  t.equal(asnOf(m), 4200000001)
})

t.test('Unsupported Capability NOTIFICATION lists the capabilities (RFC 5492 5)', async (t) => {
  const { unsupportedCapabilityNotification } = await import('./index.ts')
  const n = unsupportedCapabilityNotification([{ code: 65, kind: 'as4', asn: 4200000001 }, { code: 1, kind: 'multiprotocol', afi: 2, safi: 1 }])
  t.strictSame(n, { type: 'notification', code: 2, subcode: 7, data: hex`41 04 fa56ea01  01 04 0002 00 01` })
})
