// Framing, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH and End-of-RIB.
import t from 'tap'
import { hex, msg } from '../../../test/lib/hex.ts'
import {
  BgpWireError, CeaseSubcode, decode, decodeShutdownCommunication, defaultContext, describeNotification, encode,
  encodeShutdownCommunication, endOfRib, endOfRibFamily, ErrCode, FrameReader, keepaliveBytes, routeRefresh,
  shutdownNotification, splitMessages, type NotificationMessage, type UpdateMessage,
} from './index.ts'

const ctx = defaultContext()

const KEEPALIVE = hex`
  ffffffffffffffffffffffffffffffff  # marker
  0013                              # length 19
  04                                # KEEPALIVE
`

t.test('KEEPALIVE', async (t) => {
  t.strictSame(decode(KEEPALIVE, ctx), { type: 'keepalive' })
  t.strictSame(encode({ type: 'keepalive' }, ctx), KEEPALIVE)
  t.strictSame(keepaliveBytes(), KEEPALIVE)
})

t.test('header errors (RFC 4271 6.1)', async (t) => {
  const cases: [string, Uint8Array, number, number[]][] = [
    ['marker not all ones', hex`ffffffffffffffffffffffffffffff00 0013 04`, 1, []],
    ['length 18', hex`ffffffffffffffffffffffffffffffff 0012 04`, 2, [0x00, 0x12]],
    ['length 4097', hex`ffffffffffffffffffffffffffffffff 1001 02`, 2, [0x10, 0x01]],
    ['KEEPALIVE with a body', msg(4, hex`00`), 2, [0x00, 0x14]],
    ['OPEN of 28 octets', msg(1, new Uint8Array(9)), 2, [0x00, 28]],
    ['UPDATE of 22 octets', msg(2, new Uint8Array(3)), 2, [0x00, 22]],
    ['NOTIFICATION of 20 octets', msg(3, new Uint8Array(1)), 2, [0x00, 20]],
    ['ROUTE-REFRESH of 22 octets', msg(5, new Uint8Array(3)), 2, [0x00, 22]],
    ['type 6', msg(6, new Uint8Array(0)), 3, [6]],
    ['type 0', msg(0, new Uint8Array(0)), 3, [0]],
    ['length field disagrees with the bytes', hex`ffffffffffffffffffffffffffffffff 0014 04`, 2, [0x00, 0x14]],
    ['shorter than a header', hex`ffffffff`, 2, [0x00, 0x04]],
  ]
  for (const [name, bytes, sub, data] of cases) {
    try {
      decode(bytes, ctx)
      t.fail(`${name}: no error`)
    } catch (e) {
      t.ok(e instanceof BgpWireError, name)
      const n = (e as BgpWireError).toNotification()
      t.strictSame([n.code, n.subcode, [...n.data]], [1, sub, data], name)
    }
  }
  // an UPDATE above 4096 is fine with extended messages
  const big = msg(2, new Uint8Array(5000))
  t.throws(() => decode(big, ctx), BgpWireError)
  t.strictSame(FrameReaderCheck(big, 65535), big)
  const u = decode(big, { ...ctx, maxMessageLength: 65535 }) as UpdateMessage
  t.equal(u.withdrawn.length, 4996, "4996 /0 NLRI without attributes: treated as withdrawn")
})

function FrameReaderCheck(b: Uint8Array, max: number): Uint8Array | null {
  const r = new FrameReader()
  r.push(b)
  return r.next(max)
}

t.test('FrameReader splits a stream fed in arbitrary chunks', async (t) => {
  const msgs = [KEEPALIVE, msg(3, hex`06 02 00`), msg(5, hex`0001 00 01`), msg(2, hex`0000 0000`)]
  const stream = new Uint8Array(msgs.reduce((a, m) => a + m.length, 0))
  let off = 0
  for (const m of msgs) {
    stream.set(m, off)
    off += m.length
  }
  for (const chunk of [1, 3, 7, 19, 20, 64, stream.length]) {
    const r = new FrameReader()
    const got: Uint8Array[] = []
    for (let i = 0; i < stream.length; i += chunk) {
      r.push(stream.subarray(i, i + chunk))
      for (let m = r.next(); m; m = r.next()) got.push(m)
    }
    t.strictSame(got, msgs, `chunks of ${chunk}`)
    t.equal(r.buffered, 0)
  }
  // a buffer larger than the reader's initial size
  const r = new FrameReader()
  const many = new Uint8Array(19 * 1000)
  for (let i = 0; i < 1000; i++) many.set(KEEPALIVE, 19 * i)
  r.push(many.subarray(0, 10000))
  r.push(many.subarray(10000))
  let n = 0
  while (r.next()) n++
  t.equal(n, 1000)
  const s = splitMessages(stream.subarray(0, stream.length - 2))
  t.equal(s.messages.length, 3)
  t.equal(s.rest.length, msgs[3]!.length - 2)
  const bad = new FrameReader()
  bad.push(hex`ffffffffffffffffffffffffffffffff 0013 09`)
  t.throws(() => bad.next(), BgpWireError, 'header error as soon as 19 octets are in')
})

t.test('NOTIFICATION', async (t) => {
  const bytes = hex`
    ffffffffffffffffffffffffffffffff 0017 03   # 23 octets, NOTIFICATION
    03                                # error code 3: UPDATE Message Error
    0b                                # subcode 11: Malformed AS_PATH
    abcd                              # data
  `
  const m: NotificationMessage = { type: 'notification', code: 3, subcode: 11, data: hex`abcd` }
  t.strictSame(decode(bytes, ctx), m)
  t.strictSame(encode(m, ctx), bytes)
  t.equal(describeNotification(m), 'UPDATE Message Error / Malformed AS_PATH')
  t.equal(describeNotification({ code: 6, subcode: 2 }), 'Cease / Administrative Shutdown')
  t.equal(describeNotification({ code: 9, subcode: 0 }), 'Unknown error code 9 / Unspecific')
  t.equal(ErrCode.CEASE, 6)
  t.equal(CeaseSubcode.HARD_RESET, 9)
})

t.test('RFC 8203 / 9003 shutdown communication', async (t) => {
  // RFC 8203 section 2: Cease, subcode 2, length octet, UTF-8
  const bytes = hex`
    ffffffffffffffffffffffffffffffff 0026 03   # 38 octets
    06 02                             # Cease / Administrative Shutdown
    10                                # shutdown communication length 16
    6d61696e74656e616e6365203132333a  # "maintenance 123:"  (16 octets)
  `
  const m = decode(bytes, ctx) as NotificationMessage
  t.equal(decodeShutdownCommunication(m), 'maintenance 123:')
  t.strictSame(encode(shutdownNotification(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, 'maintenance 123:'), ctx), bytes)
  t.equal(decodeShutdownCommunication(shutdownNotification(4, 'bye ✓')), 'bye ✓', 'multi-byte UTF-8')
  t.equal(decodeShutdownCommunication({ type: 'notification', code: 6, subcode: 2, data: new Uint8Array(0) }), undefined, 'no data')
  t.equal(decodeShutdownCommunication({ type: 'notification', code: 6, subcode: 2, data: hex`05 6162` }), undefined, 'length past the data')
  t.equal(decodeShutdownCommunication({ type: 'notification', code: 6, subcode: 2, data: hex`02 c328` }), undefined, 'invalid UTF-8')
  t.equal(decodeShutdownCommunication({ type: 'notification', code: 6, subcode: 3, data: hex`01 41` }), undefined, 'other subcode')
  const long = encodeShutdownCommunication('é'.repeat(200))
  t.equal(long[0], 254, 'cut to 255 octets at a character boundary')
  t.equal(long.length, 255)
})

t.test('ROUTE-REFRESH', async (t) => {
  const bytes = hex`
    ffffffffffffffffffffffffffffffff 0017 05   # 23 octets, ROUTE-REFRESH
    0002                              # AFI 2
    00                                # subtype 0 (request)
    01                                # SAFI 1
  `
  t.strictSame(decode(bytes, ctx), { type: 'route-refresh', afi: 2, subtype: 0, safi: 1 })
  t.strictSame(encode(routeRefresh('ipv6-unicast'), ctx), bytes)
  try {
    decode(msg(5, hex`0001 01 01 00`), ctx)
    t.fail('no error')
  } catch (e) {
    t.strictSame([(e as BgpWireError).bgpCode, (e as BgpWireError).subcode], [7, 1], 'ROUTE-REFRESH Message Error / Invalid Message Length')
  }
})

t.test('End-of-RIB markers (RFC 4724 2)', async (t) => {
  const v4 = hex`ffffffffffffffffffffffffffffffff 0017 02  0000 0000   # empty UPDATE`
  const v6 = hex`
    ffffffffffffffffffffffffffffffff 001d 02  0000 0006   # 29 octets, attributes 6
    80 0f 03 0002 01                  # MP_UNREACH_NLRI IPv6 unicast with no NLRI
  `
  t.strictSame(encode(endOfRib('ipv4-unicast'), ctx), v4)
  t.strictSame(encode(endOfRib('ipv6-unicast'), ctx), v6)
  t.equal(endOfRibFamily(decode(v4, ctx) as UpdateMessage), 'ipv4-unicast')
  t.equal(endOfRibFamily(decode(v6, ctx) as UpdateMessage), 'ipv6-unicast')
  t.equal(endOfRibFamily({ type: 'update', withdrawn: [], attrs: { origin: 0 }, nlri: [] }), null)
  t.equal(endOfRibFamily({ type: 'update', withdrawn: [{ prefix: { afi: 1, addr: '192.0.2.0', len: 24 } }], attrs: {}, nlri: [] }), null)
})
