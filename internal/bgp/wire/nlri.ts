// NLRI encoding (RFC 4271 4.3, RFC 4760 5, RFC 7911 3):
//   [path identifier (4 octets), only with ADD-PATH for the family and direction]
//   length in bits (1 octet)
//   prefix (ceil(length / 8) octets, trailing bits ignored on receipt and zero on send)
// Decoding uses ctx.addPathRx, encoding ctx.addPathTx (decided by the callers, who pass a boolean).

import type { FamilyDef } from './families.ts'
import type { BgpWireError } from './errors.ts'
import type { Nlri, OutNlri, Prefix } from './types.ts'
import { AFI_IPV4, AFI_IPV6 } from './types.ts'

/** bytes one NLRI takes on the wire */
export function nlriSize(p: Prefix, addPath: boolean): number {
  return (addPath ? 5 : 1) + ((p.len + 7) >>> 3)
}

export function nlriListSize(list: readonly Nlri[], addPath: boolean): number {
  let n = 0
  for (let i = 0; i < list.length; i++) n += nlriSize(list[i]!.prefix, addPath)
  return n
}

/** The host route (/32 or /128) of an address text. */
export function hostPrefix(addr: string): Prefix {
  const v6 = addr.includes(':')
  return { afi: v6 ? AFI_IPV6 : AFI_IPV4, addr, len: v6 ? 128 : 32 }
}

/** The Nlri of an OutNlri (a host route's address text: its /32 or /128, no path id). */
export function toNlri(n: OutNlri): Nlri {
  return typeof n === 'string' ? { prefix: hostPrefix(n) } : n
}

/** bytes one NLRI to send takes on the wire, in family `fam` */
export function outNlriSize(n: OutNlri, fam: FamilyDef, addPath: boolean): number {
  return (addPath ? 5 : 1) + (typeof n === 'string' ? fam.addrBytes : (n.prefix.len + 7) >>> 3)
}

/** write one NLRI at out[off]; returns the end offset (a host route's text: path id 0 with ADD-PATH) */
export function writeNlri(out: Uint8Array, off: number, fam: FamilyDef, n: OutNlri, addPath: boolean): number {
  if (typeof n === 'string') {
    if (addPath) {
      out.fill(0, off, off + 4)
      off += 4
    }
    out[off] = fam.maxLen
    return fam.writeAddress(out, off + 1, n)
  }
  if (addPath) {
    const id = n.pathId ?? 0
    out[off] = id >>> 24
    out[off + 1] = (id >>> 16) & 255
    out[off + 2] = (id >>> 8) & 255
    out[off + 3] = id & 255
    off += 4
  }
  out[off] = n.prefix.len
  return fam.writePrefix(out, off + 1, n.prefix)
}

/** write a list; `out` must have room (see nlriListSize) */
export function writeNlriList(out: Uint8Array, off: number, fam: FamilyDef, list: readonly Nlri[], addPath: boolean): number {
  for (let i = 0; i < list.length; i++) off = writeNlri(out, off, fam, list[i]!, addPath)
  return off
}

/**
 * Decode buf[start..end) as a list of NLRI of family `fam`. A prefix length above the
 * family's maximum, or a prefix running past `end`, throws `fail(reason)`.
 */
export function decodeNlriList(
  buf: Uint8Array,
  start: number,
  end: number,
  fam: FamilyDef,
  addPath: boolean,
  fail: (reason: string) => BgpWireError,
): Nlri[] {
  const out: Nlri[] = []
  let off = start
  const afi = fam.afi
  while (off < end) {
    let pathId = 0
    if (addPath) {
      if (off + 5 > end) throw fail(`path identifier at offset ${off - start} runs past the end`)
      pathId = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0
      off += 4
    }
    const len = buf[off]!
    if (len > fam.maxLen) throw fail(`prefix length ${len} exceeds ${fam.maxLen}`)
    const nb = (len + 7) >>> 3
    if (off + 1 + nb > end) throw fail(`prefix of length ${len} at offset ${off - start} runs past the end`)
    const prefix: Prefix = { afi, addr: fam.readPrefix(buf, off + 1, len), len }
    out.push(addPath ? { prefix, pathId } : { prefix })
    off += 1 + nb
  }
  return out
}
