// AS_PATH segment codec shared by AS_PATH (2 or 4 octet ASNs) and AS4_PATH (always 4).
//   segment: type (1 octet: 1 AS_SET, 2 AS_SEQUENCE, 3 AS_CONFED_SEQUENCE, 4 AS_CONFED_SET)
//            count (1 octet, number of ASNs, > 0)
//            ASNs (count x 2 or 4 octets)

import type { Writer } from '../_writer.ts'
import { encodeError } from '../errors.ts'
import { AS_TRANS } from '../iana.ts'
import type { AsPathSegment, AsPathSegmentType } from '../types.ts'

/** segments, or the reason the bytes are malformed (RFC 7606 7.2) */
export function decodeSegments(data: Uint8Array, asnSize: 2 | 4): AsPathSegment[] | string {
  const segs: AsPathSegment[] = []
  let off = 0
  const n = data.length
  while (off < n) {
    if (off + 2 > n) return `a segment header at offset ${off} is cut short`
    const type = data[off]!
    const count = data[off + 1]!
    if (type < 1 || type > 4) return `segment type ${type} is not defined`
    if (count === 0) return `segment at offset ${off} has length 0`
    off += 2
    if (off + count * asnSize > n) return `segment of ${count} ASNs overruns the attribute`
    const asns = new Array<number>(count)
    if (asnSize === 2) {
      for (let i = 0; i < count; i++, off += 2) asns[i] = (data[off]! << 8) | data[off + 1]!
    } else {
      for (let i = 0; i < count; i++, off += 4) {
        asns[i] = ((data[off]! << 24) | (data[off + 1]! << 16) | (data[off + 2]! << 8) | data[off + 3]!) >>> 0
      }
    }
    segs.push({ type: type as AsPathSegmentType, asns })
  }
  return segs
}

/**
 * Write segments. With 2-octet ASNs an AS above 65535 is written as AS_TRANS (the caller adds
 * AS4_PATH, RFC 6793 4.2.2). Sequences longer than 255 are split (RFC 4271 5.1.2); a set
 * longer than 255 cannot be encoded. Empty segments are left out.
 */
export function writeSegments(w: Writer, segs: readonly AsPathSegment[], asnSize: 2 | 4): void {
  for (const seg of segs) {
    const asns = seg.asns
    if (asns.length === 0) continue
    if (seg.type < 1 || seg.type > 4) throw encodeError(`Cannot encode AS_PATH segment type ${seg.type}`)
    if (asns.length > 255 && (seg.type === 1 || seg.type === 4)) {
      throw encodeError(`Cannot encode an AS_SET of ${asns.length} ASNs (at most 255)`)
    }
    for (let start = 0; start < asns.length; start += 255) {
      const end = Math.min(asns.length, start + 255)
      w.u8(seg.type)
      w.u8(end - start)
      for (let i = start; i < end; i++) {
        const asn = asns[i]!
        if (!(asn >= 0 && asn <= 0xffffffff) || !Number.isInteger(asn)) throw encodeError(`Cannot encode AS number "${asn}"`)
        if (asnSize === 2) w.u16(asn > 0xffff ? AS_TRANS : asn)
        else w.u32(asn)
      }
    }
  }
}
