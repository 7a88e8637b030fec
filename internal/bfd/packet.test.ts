// The BFD control packet codec: golden pairs both ways (annotated field by field), every
// section 6.8.6 discard with its clear error, and fast-check properties with a fixed, printed
// seed: decode(encode(p)) deep-equals p; arbitrary and mutated bytes make decode return or
// throw a BfdWireError, nothing else; whatever decodes re-encodes to the same 24 bytes.
import t from 'tap'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'node:util'
import { BfdWireError, decode, encode, STATES, type BfdWireReason, type ControlPacket } from './packet.ts'
import { fastCheckSeed, checkProperty } from '../../test/lib/fuzz.ts'

const FC = fastCheckSeed(t)

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+|#.*$/gm, ''), 'hex'))

// A BIRD 2 packet as it brings a session up: state Init, slow start.
const BIRD_INIT = hex(`
  20        # version 1, diag 0
  80        # state Init (2), no flags
  03        # detect mult 3
  18        # length 24
  7a 3c 00 01  # my discriminator
  00 00 00 11  # your discriminator
  00 0f 42 40  # desired min tx 1,000,000 us (slow start)
  00 01 86 a0  # required min rx 100,000 us
  00 00 00 00  # required min echo rx 0
`)
const BIRD_INIT_PACKET: ControlPacket = {
  diag: 0, state: 'Init', poll: false, final: false, cpi: false, demand: false, detectMult: 3,
  myDiscr: 0x7a3c0001, yourDiscr: 0x11, desiredMinTx: 1_000_000, requiredMinRx: 100_000, requiredMinEchoRx: 0,
}
// Up with the Final bit, diag 3, control plane independent (FRR sets C)
const UP_FINAL = hex('23 d8 05 18  00000002 00000001 000186a0 000186a0 00000000')
const UP_FINAL_PACKET: ControlPacket = {
  diag: 3, state: 'Up', poll: false, final: true, cpi: true, demand: false, detectMult: 5,
  myDiscr: 2, yourDiscr: 1, desiredMinTx: 100_000, requiredMinRx: 100_000, requiredMinEchoRx: 0,
}

t.test('golden pairs: decode(bytes) equals the packet and encode(packet) equals the bytes', async (t) => {
  for (const [name, bytes, packet] of [['BIRD Init', BIRD_INIT, BIRD_INIT_PACKET], ['Up F C diag 3', UP_FINAL, UP_FINAL_PACKET]] as const) {
    t.strictSame(decode(bytes), packet, `${name}: decode`)
    t.strictSame(Buffer.from(encode(packet)).toString('hex'), Buffer.from(bytes).toString('hex'), `${name}: encode`)
  }
  const longer = new Uint8Array([...UP_FINAL, 1, 2, 3])
  t.strictSame(decode(longer), UP_FINAL_PACKET, 'bytes past the UDP payload\'s Length are ignored')
})

t.test('section 6.8.6 discards and the A bit: a BfdWireError with a clear message', async (t) => {
  const mut = (i: number, v: number, from: Uint8Array = BIRD_INIT): Uint8Array => { const b = from.slice(); b[i] = v; return b }
  const cases: [string, Uint8Array, BfdWireReason, RegExp][] = [
    ['empty', new Uint8Array(0), 'short', /is 0 bytes long: at least 24/],
    ['23 bytes', BIRD_INIT.slice(0, 23), 'short', /23 bytes long/],
    ['version 0', mut(0, 0x00), 'version', /version 0: only version 1/],
    ['version 2', mut(0, 0x40), 'version', /version 2/],
    ['A bit without room for its section', mut(1, 0x84), 'authentication', /A bit set but Length 24 leaves no room for an authentication section/],
    ['Length 23', mut(3, 23), 'length', /Length 23: at least 24/],
    ['Length 26 in 24 bytes', mut(3, 26), 'length', /Length 26 but only 24 bytes arrived/],
    ['Detect Mult 0', mut(2, 0), 'detect-mult', /Detect Mult 0/],
    ['M bit', mut(1, 0x81), 'multipoint', /M \(multipoint\) bit/],
    ['My Discriminator 0', hex('20 40 03 18 00000000 00000000 000f4240 000186a0 00000000'), 'my-discriminator', /My Discriminator 0/],
    ['P and F', mut(1, 0xf0), 'field', /both the Poll and the Final bit/],
  ]
  for (const [name, bytes, reason, msg] of cases) {
    try {
      decode(bytes)
      t.fail(`${name}: decoded`)
    } catch (e) {
      t.ok(e instanceof BfdWireError, `${name}: a BfdWireError`)
      t.equal((e as BfdWireError).reason, reason, `${name}: reason ${reason}`)
      t.equal((e as BfdWireError).code, 'PORTER_ERR_BFD_WIRE', `${name}: code`)
      t.match((e as Error).message, msg, `${name}: message`)
    }
  }
})

t.test('encode refuses out-of-range fields with their name', async (t) => {
  const bad: [Partial<ControlPacket>, RegExp][] = [
    [{ diag: 32 }, /diag 32 is not an integer from 0 to 31/],
    [{ detectMult: 0 }, /detectMult 0/],
    [{ detectMult: 256 }, /detectMult 256/],
    [{ myDiscr: 0 }, /myDiscr 0 is not an integer from 1/],
    [{ yourDiscr: 2 ** 32 }, /yourDiscr 4294967296/],
    [{ desiredMinTx: -1 }, /desiredMinTx -1/],
    [{ requiredMinRx: 1.5 }, /requiredMinRx 1.5/],
    [{ state: 'Open' as never }, /state "Open" is not one of AdminDown, Down, Init, Up/],
    [{ poll: true, final: true }, /both the Poll and the Final bit/],
  ]
  for (const [over, msg] of bad) t.throws(() => encode({ ...BIRD_INIT_PACKET, ...over }), msg, JSON.stringify(over))
})

const u32 = fc.integer({ min: 0, max: 0xffffffff })
const packetArb: fc.Arbitrary<ControlPacket> = fc.record({
  diag: fc.integer({ min: 0, max: 31 }),
  state: fc.constantFrom(...STATES),
  poll: fc.boolean(),
  final: fc.boolean(),
  cpi: fc.boolean(),
  demand: fc.boolean(),
  detectMult: fc.integer({ min: 1, max: 255 }),
  myDiscr: fc.integer({ min: 1, max: 0xffffffff }),
  yourDiscr: u32,
  desiredMinTx: u32,
  requiredMinRx: u32,
  requiredMinEchoRx: u32,
}).map((p) => ({ ...p, final: p.final && !p.poll })) // a plain object (fc.record's have no prototype); never P and F together

/** decode returns or throws a BfdWireError; what it returns re-encodes to the first 24 bytes */
function decodeIsSafe(bytes: Uint8Array): boolean {
  let p: ControlPacket
  try {
    p = decode(bytes)
  } catch (e) {
    if (e instanceof BfdWireError) return true
    throw new Error(`decode threw ${String(e)} (not a BfdWireError) for ${Buffer.from(bytes).toString('hex')}`)
  }
  const again = encode(p)
  if (Buffer.compare(Buffer.from(again), Buffer.from(bytes.subarray(0, 24))) !== 0 && bytes[3] === 24 && bytes.length === 24) {
    throw new Error(`re-encoded ${Buffer.from(again).toString('hex')} differs from ${Buffer.from(bytes).toString('hex')}`)
  }
  if (!isDeepStrictEqual(decode(again), p)) throw new Error('re-encoding is not a fixpoint')
  return true
}

t.test('properties (fast-check, fixed seed)', async (t) => {
  const run = (name: string, prop: fc.IPropertyWithHooks<never> | fc.IProperty<never>, numRuns: number): void =>
    checkProperty(t, FC, name, prop as fc.IProperty<[unknown]>, numRuns)
  run('decode(encode(p)) deep-equals p', fc.property(packetArb, (p) => isDeepStrictEqual(decode(encode(p)), p)) as never, 5000)
  run('arbitrary bytes: a packet or a BfdWireError', fc.property(fc.uint8Array({ maxLength: 64 }), decodeIsSafe) as never, 5000)
  run('one to three mutated bytes of a valid packet: a packet or a BfdWireError',
    fc.property(packetArb, fc.array(fc.tuple(fc.nat(23), fc.nat(255)), { minLength: 1, maxLength: 3 }), (p, muts) => {
      const b = encode(p)
      for (const [i, v] of muts) b[i] = v
      return decodeIsSafe(b)
    }) as never, 5000)
  run('truncated valid packets: always a BfdWireError "short"', fc.property(packetArb, fc.nat(23), (p, n) => {
    try { decode(encode(p).subarray(0, n)); return false } catch (e) { return e instanceof BfdWireError && e.reason === 'short' }
  }) as never, 1000)
})
