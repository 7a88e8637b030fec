// BFD Keyed / Meticulous Keyed SHA1 (RFC 5880 6.7.4): what is signed verifies; another key, key
// ID or type, a missing section, a replay (Meticulous) or a sequence number outside 3 x Detect
// Mult is refused. Interop with BIRD 2: test/e2e/bfd.test.ts.
import t from 'tap'
import { checkAuth, signPacket, verifyPacket, AUTHENTICATED_LENGTH, type BfdAuth } from './auth.ts'
import { decode, encode, type ControlPacket } from './packet.ts'

const pkt: ControlPacket = { diag: 0, state: 'Up', poll: false, final: false, cpi: false, demand: false, detectMult: 3, myDiscr: 7, yourDiscr: 9, desiredMinTx: 100_000, requiredMinRx: 100_000, requiredMinEchoRx: 0 }
const key = new TextEncoder().encode('porter-secret')
const keyed: BfdAuth = { type: 'keyed-sha1', keyId: 1, key }
const meticulous: BfdAuth = { ...keyed, type: 'meticulous-keyed-sha1' }
const fresh = { known: false, seq: 0 }

t.test('a signed packet: A bit, Length 52, decodes as the same packet, verifies with the same key', async (t) => {
  const b = signPacket(encode(pkt), meticulous, 0xfffffffe)
  t.equal(b.length, AUTHENTICATED_LENGTH)
  t.equal(b[1]! & 0x04, 0x04, 'A bit')
  t.same([b[3], b[24], b[25], b[26]], [52, 5, 28, 1], 'Length, Auth Type 5 (Meticulous Keyed SHA1), Auth Len 28, key ID')
  t.same(decode(b), pkt, 'the control fields are unchanged')
  t.same(verifyPacket(b, meticulous, fresh), { ok: true, seq: 0xfffffffe })
  t.equal(signPacket(encode(pkt), keyed, 5)[24], 4, 'Keyed SHA1 is type 4')
})

t.test('refused: another key, key ID or type; no section; a tampered field', async (t) => {
  const b = signPacket(encode(pkt), keyed, 10)
  const no = (r: ReturnType<typeof verifyPacket>) => (r.ok ? 'accepted' : r.reason)
  t.match(no(verifyPacket(b, { ...keyed, key: new TextEncoder().encode('other') }, fresh)), /digest does not match/)
  t.match(no(verifyPacket(b, { ...keyed, keyId: 2 }, fresh)), /key ID 1, this session uses 2/)
  t.match(no(verifyPacket(b, meticulous, fresh)), /authentication type 4, this session uses 5/)
  t.match(no(verifyPacket(encode(pkt), keyed, fresh)), /A bit is clear/)
  const tampered = Uint8Array.from(b)
  tampered[2] = 50 // Detect Mult
  t.match(no(verifyPacket(tampered, keyed, fresh)), /digest does not match/)
})

t.test('sequence numbers: Meticulous refuses a replay, Keyed takes the same again; both refuse a jump past 3 x Detect Mult, across 2^32', async (t) => {
  const at = (a: BfdAuth, seq: number) => signPacket(encode(pkt), a, seq)
  t.equal(verifyPacket(at(meticulous, 100), meticulous, { known: true, seq: 100 }).ok, false, 'Meticulous: the same number again is a replay')
  t.equal(verifyPacket(at(meticulous, 101), meticulous, { known: true, seq: 100 }).ok, true)
  t.equal(verifyPacket(at(keyed, 100), keyed, { known: true, seq: 100 }).ok, true, 'Keyed: the same number again is fine')
  t.equal(verifyPacket(at(keyed, 109), keyed, { known: true, seq: 100 }).ok, true, 'within 3 x 3')
  t.equal(verifyPacket(at(keyed, 110), keyed, { known: true, seq: 100 }).ok, false, 'past 3 x 3')
  t.equal(verifyPacket(at(keyed, 99), keyed, { known: true, seq: 100 }).ok, false, 'behind')
  t.equal(verifyPacket(at(meticulous, 2), meticulous, { known: true, seq: 0xffffffff }).ok, true, 'modulo 2^32')
  t.equal(verifyPacket(at(keyed, 5000), keyed, fresh).ok, true, 'not known yet: any number')
})

t.test('checkAuth: type, key ID 0-255, key 1-20 bytes', async (t) => {
  t.doesNotThrow(() => checkAuth(keyed))
  t.throws(() => checkAuth({ ...keyed, keyId: 256 }), /key ID 256/)
  t.throws(() => checkAuth({ ...keyed, key: new Uint8Array(21) }), /1-20 bytes, this one has 21/)
  t.throws(() => checkAuth({ ...keyed, type: 'md5' as never }), /"md5" is not one of/)
})
