// Properties (fast-check): decode(encode(m)) equals m for every message type; arbitrary and
// mutated bytes make decode throw nothing but BgpWireError; whatever decodes re-encodes.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'node:util'
import { ctxArb, messageArb, notificationArb, openArb, routeRefreshArb, updateArb, keepaliveArb } from '../../../test/lib/bgp-arbitraries.ts'
import { BgpWireError, decode, decodeDetailed, encode, FrameReader, type BgpMessage, type CodecContext } from './index.ts'
import { msg as frame, toHex } from '../../../test/lib/hex.ts'
import { fastCheckSeed, checkProperty } from '../../../test/lib/fuzz.ts'

const FC = fastCheckSeed(t)

function check(t: Test, name: string, prop: fc.IProperty<[unknown]> | fc.IPropertyWithHooks<never>, runs: number): void {
  checkProperty(t, FC, name, prop as fc.IProperty<[unknown]>, runs)
}

function roundTrip(ctx: CodecContext, m: BgpMessage): boolean {
  const bytes = encode(m, ctx)
  const back = decode(bytes, ctx)
  if (!isDeepStrictEqual(back, m)) throw new Error(`decoded ${fc.stringify(back)}\nbytes ${toHex(bytes)}`)
  return true
}

t.test('decode(encode(m)) deep-equals m', async (t) => {
  check(t, 'UPDATE', fc.property(ctxArb.chain((ctx) => updateArb(ctx).map((m) => ({ ctx, m }))), ({ ctx, m }) => roundTrip(ctx, m)), 2000)
  check(t, 'OPEN', fc.property(fc.tuple(ctxArb, openArb), ([ctx, m]) => roundTrip(ctx, m)), 1000)
  check(t, 'NOTIFICATION', fc.property(fc.tuple(ctxArb, notificationArb), ([ctx, m]) => roundTrip(ctx, m)), 300)
  check(t, 'ROUTE-REFRESH', fc.property(fc.tuple(ctxArb, routeRefreshArb), ([ctx, m]) => roundTrip(ctx, m)), 300)
  check(t, 'KEEPALIVE', fc.property(fc.tuple(ctxArb, keepaliveArb), ([ctx, m]) => roundTrip(ctx, m)), 10)
})

/** decode must return or throw a BgpWireError; what it returns must encode, and be a fixpoint after one round */
function decodeIsSafe(ctx: CodecContext, bytes: Uint8Array): boolean {
  let msg: BgpMessage
  const t0 = performance.now()
  try {
    const r = decodeDetailed(bytes, ctx)
    msg = r.msg
    if (r.treatAsWithdraw && msg.type === 'update' && (msg.nlri.length > 0 || msg.attrs.mpReach)) throw new Error('treat-as-withdraw left NLRI')
  } catch (e) {
    if (e instanceof BgpWireError) return true
    throw e
  } finally {
    // a hang detector, not a benchmark: one message of at most 64 KiB
    if (performance.now() - t0 > 2000) throw new Error(`decoding took ${performance.now() - t0} ms: ${toHex(bytes)}`)
  }
  const once = encode(msg, ctx)
  const twice = encode(decode(once, ctx), ctx)
  if (toHex(once) !== toHex(twice)) throw new Error(`re-encoding is not stable:\n${toHex(once)}\n${toHex(twice)}`)
  return true
}

t.test('arbitrary bytes: only BgpWireError', async (t) => {
  check(t, 'raw bytes', fc.property(fc.tuple(ctxArb, fc.uint8Array({ maxLength: 300 })), ([ctx, b]) => decodeIsSafe(ctx, b)), 3000)
  check(t, 'framed random bodies', fc.property(
    fc.tuple(ctxArb, fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 400 })),
    ([ctx, type, body]) => decodeIsSafe(ctx, frame(type, body)),
  ), 10000)
  // UPDATE bodies built from plausible pieces: small lengths, attribute-looking bytes
  const attr = fc.tuple(fc.constantFrom(0x40, 0x80, 0xc0, 0xd0, 0x50, 0x90, 0xe0, 0x00), fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 40 }))
    .map(([f, ty, v]) => {
      const ext = (f & 0x10) !== 0
      const h = ext ? [f, ty, v.length >>> 8, v.length & 255] : [f, ty, v.length]
      return Uint8Array.from([...h, ...v])
    })
  check(t, 'framed plausible UPDATEs', fc.property(
    fc.tuple(ctxArb, fc.uint8Array({ maxLength: 20 }), fc.array(attr, { maxLength: 6 }), fc.uint8Array({ maxLength: 30 })),
    ([ctx, w, attrs, nlri]) => {
      const a = Uint8Array.from(attrs.flatMap((x) => [...x]))
      const body = Uint8Array.from([w.length >>> 8, w.length & 255, ...w, a.length >>> 8, a.length & 255, ...a, ...nlri])
      return decodeIsSafe(ctx, frame(2, body))
    },
  ), 10000)
})

t.test('plausible OPENs: only BgpWireError', async (t) => {
  const cap = fc.tuple(fc.constantFrom(1, 2, 6, 64, 65, 69, 70, 128), fc.uint8Array({ maxLength: 20 }), fc.boolean())
    .map(([code, v, fit]) => {
      // mostly well-sized values for the known capabilities
      const sizes: Record<number, number> = { 1: 4, 2: 0, 6: 0, 65: 4 }
      const want = sizes[code]
      const val = fit && want !== undefined ? new Uint8Array(want).map((_, i) => v[i] ?? 0) : v
      return [code, val.length, ...val]
    })
  const param = fc.tuple(fc.constantFrom(2, 2, 2, 1, 255), fc.array(cap, { maxLength: 4 }))
    .map(([type, caps]) => {
      const v = caps.flat()
      return [type, v.length & 255, ...v]
    })
  check(t, 'OPEN bodies', fc.property(
    fc.tuple(ctxArb, fc.array(param, { maxLength: 4 }), fc.integer({ min: -2, max: 2 }), fc.uint8Array({ minLength: 9, maxLength: 9 })),
    ([ctx, params, skew, fixed]) => {
      const p = params.flat()
      const body = Uint8Array.from([4, ...fixed.subarray(0, 8), (p.length + skew) & 255, ...p])
      return decodeIsSafe(ctx, frame(1, body))
    },
  ), 10000)
})

t.test('mutated valid messages: only BgpWireError', async (t) => {
  const mutation = fc.record({
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
    bodyOnly: fc.boolean(),
    cut: fc.option(fc.nat(), { nil: undefined }),
    fixLength: fc.boolean(),
  }, { noNullPrototype: true })
  check(t, 'mutations', fc.property(
    ctxArb.chain((ctx) => fc.tuple(fc.constant(ctx), messageArb(ctx), mutation)),
    ([ctx, m, mut]) => {
      let b = encode(m, ctx)
      b = b.slice()
      for (const [pos, v] of mut.edits) {
        // keep the header mostly intact so that the body parsers are reached
        const from = mut.bodyOnly && b.length > 19 ? 19 : 16
        const p = from + (pos % Math.max(1, b.length - from))
        b[p] = v
      }
      if (mut.cut !== undefined && b.length > 19) b = b.slice(0, 19 + (mut.cut % (b.length - 19)))
      if (mut.fixLength) {
        b[16] = b.length >>> 8
        b[17] = b.length & 255
      }
      return decodeIsSafe(ctx, b)
    },
  ), 15000)
})

t.test('FrameReader on arbitrary streams: only BgpWireError', async (t) => {
  check(t, 'frame reader', fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
    const r = new FrameReader()
    try {
      for (const c of chunks) {
        const ff = new Uint8Array(c.length)
        // mostly markers, so that headers get parsed
        for (let i = 0; i < c.length; i++) ff[i] = c[i]! < 200 ? 0xff : c[i]!
        r.push(ff)
        while (r.next()) { /* drain */ }
      }
    } catch (e) {
      if (!(e instanceof BgpWireError)) throw e
    }
    return true
  }), 2000)
})
