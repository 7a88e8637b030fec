// PURE: BFD authentication with Keyed SHA1 and Meticulous Keyed SHA1 (RFC 5880 sections 4.4
// and 6.7.4). The authentication section follows the 24-byte control packet:
//
//   | Auth Type (4 or 5) | Auth Len (28) | Auth Key ID | Reserved |
//   |                      Sequence Number                      |
//   |            Auth Key / Digest (20 bytes)                    |
//
// The digest is SHA1 over the whole packet with the key (zero-padded to 20 bytes) in the
// digest's place. Keyed SHA1 accepts a sequence number within 3 x Detect Mult from the last
// one (the same again included); Meticulous Keyed SHA1 needs a larger one each packet. Porter
// sends a new sequence number in every packet, which both allow.
import { createHash, timingSafeEqual } from 'node:crypto'
import { CONTROL_PACKET_LENGTH } from './packet.ts'

export type BfdAuthType = 'keyed-sha1' | 'meticulous-keyed-sha1'
export const BFD_AUTH_TYPES: readonly BfdAuthType[] = ['keyed-sha1', 'meticulous-keyed-sha1']

export interface BfdAuth {
  type: BfdAuthType
  /** 0-255, the same on both sides */
  keyId: number
  /** 1-20 bytes */
  key: Uint8Array
}

/** What a session remembers of the peer's sequence numbers (bfd.RcvAuthSeq, bfd.AuthSeqKnown). */
export interface AuthRxState {
  known: boolean
  seq: number
}

const CODE: Record<BfdAuthType, number> = { 'keyed-sha1': 4, 'meticulous-keyed-sha1': 5 }
const SECTION = 28
export const AUTHENTICATED_LENGTH = CONTROL_PACKET_LENGTH + SECTION
const A_BIT = 0x04

/** Throws (a message naming the field) unless `a` can be used. */
export function checkAuth(a: BfdAuth): void {
  if (!BFD_AUTH_TYPES.includes(a.type)) throw new Error(`BFD authentication type ${JSON.stringify(a.type)} is not one of ${BFD_AUTH_TYPES.join(', ')}`)
  if (!Number.isInteger(a.keyId) || a.keyId < 0 || a.keyId > 255) throw new Error(`BFD key ID ${a.keyId} is not 0-255`)
  if (a.key.length < 1 || a.key.length > 20) throw new Error(`a BFD SHA1 key is 1-20 bytes, this one has ${a.key.length}`)
}

function digestOf(packet: Uint8Array, key: Uint8Array): Buffer {
  const b = Uint8Array.from(packet.subarray(0, AUTHENTICATED_LENGTH))
  b.fill(0, CONTROL_PACKET_LENGTH + 8)
  b.set(key, CONTROL_PACKET_LENGTH + 8)
  return createHash('sha1').update(b).digest()
}

/** The 24 bytes of `packet` (encode()) with the A bit, Length 52 and the section signed with `seq`. */
export function signPacket(packet: Uint8Array, a: BfdAuth, seq: number): Uint8Array {
  const b = new Uint8Array(AUTHENTICATED_LENGTH)
  b.set(packet.subarray(0, CONTROL_PACKET_LENGTH))
  b[1] = b[1]! | A_BIT
  b[3] = AUTHENTICATED_LENGTH
  b[24] = CODE[a.type]
  b[25] = SECTION
  b[26] = a.keyId
  new DataView(b.buffer).setUint32(28, seq >>> 0)
  b.set(digestOf(b, a.key), CONTROL_PACKET_LENGTH + 8)
  return b
}

/**
 * Check a received packet against `a` and what the session knows (RFC 5880 section 6.7.4).
 * ok: the packet's sequence number, to remember; else why it must be discarded.
 */
export function verifyPacket(bytes: Uint8Array, a: BfdAuth, rx: AuthRxState): { ok: true; seq: number } | { ok: false; reason: string } {
  if (!(bytes[1]! & A_BIT)) return { ok: false, reason: 'no authentication (the A bit is clear), and this session requires it' }
  const length = bytes[3]!
  const type = bytes[24]
  if (type !== CODE[a.type]) return { ok: false, reason: `authentication type ${type}, this session uses ${CODE[a.type]} (${a.type})` }
  if (bytes.length < AUTHENTICATED_LENGTH || length !== AUTHENTICATED_LENGTH || bytes[25] !== SECTION) return { ok: false, reason: `Length ${length} / Auth Len ${bytes[25]}: a SHA1 section needs ${AUTHENTICATED_LENGTH} / ${SECTION}` }
  if (bytes[26] !== a.keyId) return { ok: false, reason: `key ID ${bytes[26]}, this session uses ${a.keyId}` }
  const seq = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(28)
  if (rx.known) {
    const window = 3 * bytes[2]!
    const ahead = (seq - rx.seq) >>> 0 // modulo 2^32
    const min = a.type === 'meticulous-keyed-sha1' ? 1 : 0
    if (ahead < min || ahead > window) return { ok: false, reason: `sequence number ${seq} outside ${(rx.seq + min) >>> 0}..${(rx.seq + window) >>> 0} (a replay, or packets lost)` }
  }
  const want = digestOf(bytes, a.key)
  const got = bytes.subarray(CONTROL_PACKET_LENGTH + 8, AUTHENTICATED_LENGTH)
  if (!timingSafeEqual(want, got)) return { ok: false, reason: 'the SHA1 digest does not match (another key?)' }
  return { ok: true, seq }
}

/** What RFC 5880 6.8.6 lets through: with `a`, a packet that verifies; without, one without the A bit. */
export function checkReceived(bytes: Uint8Array, a: BfdAuth | undefined, rx: AuthRxState): { ok: true; seq?: number } | { ok: false; reason: string } {
  if (a) return verifyPacket(bytes, a, rx)
  return bytes[1]! & A_BIT ? { ok: false, reason: 'authenticated (A bit), and no BFD authentication is configured for this peer' } : { ok: true }
}

/** Whether two sessions use the same authentication (a change of type, key ID or key restarts one). */
export function sameAuth(a: BfdAuth | undefined, b: BfdAuth | undefined): boolean {
  if (!a || !b) return a === b
  return a.type === b.type && a.keyId === b.keyId && a.key.length === b.key.length && a.key.every((x, i) => x === b.key[i])
}
