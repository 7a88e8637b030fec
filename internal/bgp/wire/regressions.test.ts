// Shrunk counterexamples found by the property tests, kept as named cases.
import t from 'tap'
import { hex, msg, toHex } from '../../../test/lib/hex.ts'
import { decode, defaultContext, encode, type OpenMessage, type UpdateMessage } from './index.ts'

const ctx = defaultContext()

t.test('OPEN whose first optional parameter has type 255 re-encodes in the RFC 9072 form', async (t) => {
  // fast-check: params [[2,0],[255,0]] -> decoded otherParams [{255, []}] -> re-encoded with the
  // plain length octet, where a leading type 255 reads as the extended-length marker
  const input = msg(1, hex`04 0000 0000 00000001 04  02 00  ff 00`)
  const m = decode(input, ctx) as OpenMessage
  t.strictSame(m.otherParams, [{ type: 255, data: new Uint8Array(0) }])
  const once = encode(m, ctx)
  t.equal(once[28], 255, 'extended form')
  t.strictSame(decode(once, ctx), m)
  t.equal(toHex(encode(decode(once, ctx), ctx)), toHex(once))
})

t.test('unknown attributes come back in ascending type order', async (t) => {
  // fast-check: unknown [{type 19}, {type 0}] -> encoded by ascending type code -> decoded [0, 19]
  const m: UpdateMessage = {
    type: 'update', withdrawn: [], nlri: [],
    attrs: { origin: 0, asPath: [], nextHop: '192.0.2.1', unknown: [{ flags: 0x80, type: 19, data: new Uint8Array(0) }, { flags: 0x80, type: 0, data: new Uint8Array(0) }] },
  }
  const back = decode(encode(m, ctx), ctx) as UpdateMessage
  t.strictSame(back.attrs.unknown?.map((u) => u.type), [0, 19])
})
