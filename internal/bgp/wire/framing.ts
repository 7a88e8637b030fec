// Message framing (RFC 4271 4.1): split a byte stream into messages.
//   0   marker (16 octets, all ones)
//   16  length (2), header included: 19..4096, or ..65535 with extended messages (RFC 8654;
//       OPEN and KEEPALIVE stay within 4096)
//   18  type (1): 1 OPEN, 2 UPDATE, 3 NOTIFICATION, 4 KEEPALIVE, 5 ROUTE-REFRESH
// Header errors (RFC 4271 6.1), thrown as BgpWireError (session-reset):
//   marker not all ones       Message Header Error / Connection Not Synchronized
//   length out of range, or too short/long for the type   / Bad Message Length, data = the length field
//   unknown type              / Bad Message Type, data = the type octet
//
// FrameReader is pure: the session pushes the bytes it read and pulls whole messages; the
// maximum length is passed on each pull, as it changes once the OPENs are exchanged.

import { u16At, u16Bytes } from './_writer.ts'
import { BgpWireError } from './errors.ts'
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MIN_LENGTH } from './iana.ts'
import { ErrCode, HeaderSubcode } from './notification.ts'

export interface MessageHeader {
  length: number
  type: number
}

function headerError(message: string, subcode: number, data: Uint8Array): BgpWireError {
  return new BgpWireError(message, { bgpCode: ErrCode.MESSAGE_HEADER, subcode, data })
}

/** check and read the header at buf[off..off+19] (the caller makes sure 19 bytes are there) */
export function parseHeader(buf: Uint8Array, off: number, maxMessageLength: number): MessageHeader {
  for (let i = 0; i < 16; i++) {
    if (buf[off + i] !== 0xff) {
      throw headerError('Connection not synchronized: the message marker is not all ones', HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, new Uint8Array(0))
    }
  }
  const length = u16At(buf, off + 16)
  const type = buf[off + 18]!
  if (length < HEADER_LENGTH || length > maxMessageLength) {
    throw headerError(`Bad message length ${length} (expected ${HEADER_LENGTH} to ${maxMessageLength})`, HeaderSubcode.BAD_MESSAGE_LENGTH, u16Bytes(length))
  }
  const min = MIN_LENGTH[type]
  if (min === undefined) throw headerError(`Bad message type ${type}`, HeaderSubcode.BAD_MESSAGE_TYPE, Uint8Array.of(type))
  if (length < min || (type === 4 && length !== 19) || (type === 1 && length > MAX_MESSAGE_LENGTH)) {
    throw headerError(`Bad message length ${length} for message type ${type}`, HeaderSubcode.BAD_MESSAGE_LENGTH, u16Bytes(length))
  }
  return { length, type }
}

export function writeHeader(out: Uint8Array, off: number, length: number, type: number): void {
  out.fill(0xff, off, off + 16)
  out[off + 16] = length >>> 8
  out[off + 17] = length & 255
  out[off + 18] = type
}

/** Accumulates stream bytes and hands out whole messages (copies, header included). */
export class FrameReader {
  private buf = new Uint8Array(8192)
  private start = 0
  private end = 0

  /** bytes held that are not yet a whole message */
  get buffered(): number {
    return this.end - this.start
  }

  push(chunk: Uint8Array): void {
    const have = this.end - this.start
    if (this.end + chunk.length > this.buf.length) {
      if (have + chunk.length > this.buf.length) {
        let size = this.buf.length * 2
        while (size < have + chunk.length) size *= 2
        const b = new Uint8Array(size)
        b.set(this.buf.subarray(this.start, this.end))
        this.buf = b
      } else {
        this.buf.copyWithin(0, this.start, this.end)
      }
      this.start = 0
      this.end = have
    }
    this.buf.set(chunk, this.end)
    this.end += chunk.length
  }

  /**
   * The next whole message, or null when more bytes are needed. Throws BgpWireError on a bad
   * header (as soon as the 19 header bytes are in).
   */
  next(maxMessageLength: number = MAX_MESSAGE_LENGTH): Uint8Array | null {
    if (this.end - this.start < HEADER_LENGTH) return null
    const h = parseHeader(this.buf, this.start, maxMessageLength)
    if (this.end - this.start < h.length) return null
    const msg = this.buf.slice(this.start, this.start + h.length)
    this.start += h.length
    if (this.start === this.end) this.start = this.end = 0
    return msg
  }
}

/** every whole message in `buf`, and the bytes left over */
export function splitMessages(buf: Uint8Array, maxMessageLength: number = MAX_MESSAGE_LENGTH): { messages: Uint8Array[]; rest: Uint8Array } {
  const messages: Uint8Array[] = []
  let off = 0
  while (buf.length - off >= HEADER_LENGTH) {
    const h = parseHeader(buf, off, maxMessageLength)
    if (buf.length - off < h.length) break
    messages.push(buf.subarray(off, off + h.length))
    off += h.length
  }
  return { messages, rest: buf.subarray(off) }
}
