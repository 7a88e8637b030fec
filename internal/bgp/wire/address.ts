// IP address and prefix helpers for the codec. Pure functions, no allocation in the parsers
// beyond their result. Canonical text forms:
//   IPv4: dotted quad without leading zeros ("192.0.2.1")
//   IPv6: RFC 5952 section 4: lowercase hex, no leading zeros in a group, the longest run
//         (first on a tie) of two or more zero groups compressed to "::". IPv4-mapped
//         addresses are printed in hex too ("::ffff:c000:201"), as WHATWG URL does.
// Other engineers should normalize configured addresses with canonicalIp() so that string
// comparisons against decoded messages hold.

import type { Afi, Prefix } from './types.ts'
import { AFI_IPV4, AFI_IPV6 } from './types.ts'

/** Parse a dotted quad into an unsigned 32-bit number; -1 when `s` is not one. */
export function parseIpv4(s: string): number {
  const n = s.length
  if (n < 7 || n > 15) return -1
  let acc = 0
  let part = 0
  let digits = 0
  let dots = 0
  let lead0 = false
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1
      acc = acc * 256 + part
      part = 0
      digits = 0
      dots++
    } else if (c >= 48 && c <= 57) {
      if (digits === 0) lead0 = c === 48
      else if (lead0) return -1
      part = part * 10 + (c - 48)
      if (++digits > 3 || part > 255) return -1
    } else {
      return -1
    }
  }
  if (dots !== 3 || digits === 0) return -1
  return acc * 256 + part
}

export function formatIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
}

/** Dotted quad from 4 bytes at `off`. */
export function formatIpv4Bytes(b: Uint8Array, off: number): string {
  return `${b[off]!}.${b[off + 1]!}.${b[off + 2]!}.${b[off + 3]!}`
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/**
 * Parse an IPv6 address (RFC 4291 text forms, including "::" and a trailing dotted quad)
 * into 16 bytes at out[off..off+16]. Returns false (out partly written) when invalid.
 * Zone ids ("%eth0") are not accepted.
 */
export function parseIpv6(s: string, out: Uint8Array, off = 0): boolean {
  const n = s.length
  if (n < 2 || n > 45) return false
  const groups: number[] = []
  let gap = -1 // index in groups where "::" stands
  let i = 0
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false
    gap = 0
    i = 2
    if (i === n) {
      out.fill(0, off, off + 16)
      return true
    }
  }
  while (i < n) {
    // one group, or a dotted quad at the end
    let v = 0
    let d = 0
    let j = i
    while (j < n) {
      const h = hexVal(s.charCodeAt(j))
      if (h < 0) break
      v = v * 16 + h
      if (++d > 4) return false
      j++
    }
    if (j < n && s.charCodeAt(j) === 46) {
      // embedded IPv4 in the last 32 bits
      const v4 = parseIpv4(s.slice(i))
      if (v4 < 0 || groups.length > 6) return false
      groups.push(v4 >>> 16, v4 & 0xffff)
      i = n
      break
    }
    if (d === 0) return false
    groups.push(v)
    if (groups.length > 8) return false
    if (j === n) {
      i = n
      break
    }
    if (s.charCodeAt(j) !== 58) return false
    j++
    if (j < n && s.charCodeAt(j) === 58) {
      if (gap >= 0) return false
      gap = groups.length
      j++
      if (j === n) {
        i = n
        break
      }
    } else if (j === n) {
      return false // trailing single colon
    }
    i = j
  }
  const total = groups.length
  if (gap < 0) {
    if (total !== 8) return false
  } else if (total > 7) {
    return false
  }
  const zeros = 8 - total
  let k = off
  for (let g = 0; g < groups.length; g++) {
    if (g === gap) {
      for (let z = 0; z < zeros; z++) {
        out[k++] = 0
        out[k++] = 0
      }
    }
    const v = groups[g]!
    out[k++] = v >>> 8
    out[k++] = v & 255
  }
  if (gap === groups.length) {
    for (let z = 0; z < zeros; z++) {
      out[k++] = 0
      out[k++] = 0
    }
  }
  return true
}

/** RFC 5952 text of the 16 bytes at b[off..off+16]. */
export function formatIpv6(b: Uint8Array, off = 0): string {
  // find the longest run of zero groups (length >= 2), first on a tie
  let bestStart = -1
  let bestLen = 1
  let runStart = -1
  for (let g = 0; g < 8; g++) {
    const zero = b[off + 2 * g] === 0 && b[off + 2 * g + 1] === 0
    if (zero) {
      if (runStart < 0) runStart = g
      const len = g - runStart + 1
      if (len > bestLen) {
        bestLen = len
        bestStart = runStart
      }
    } else {
      runStart = -1
    }
  }
  let out = ''
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      out += g === 0 ? '::' : ':'
      g += bestLen - 1
      continue
    }
    const v = (b[off + 2 * g]! << 8) | b[off + 2 * g + 1]!
    out += v.toString(16)
    if (g < 7) out += ':'
  }
  return out
}

/** Canonical text of an IPv4 or IPv6 address, or null when `s` is not an address. */
export function canonicalIp(s: string): string | null {
  const v4 = parseIpv4(s)
  if (v4 >= 0) return formatIpv4(v4)
  const b = new Uint8Array(16)
  return parseIpv6(s, b, 0) ? formatIpv6(b, 0) : null
}

/** 4 or 16 bytes of an address, or null. */
export function ipToBytes(s: string): Uint8Array | null {
  const v4 = parseIpv4(s)
  if (v4 >= 0) return Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255)
  const b = new Uint8Array(16)
  return parseIpv6(s, b, 0) ? b : null
}

/** AFI of an address string (by syntax only), or null. */
export function afiOf(s: string): Afi | null {
  if (parseIpv4(s) >= 0) return AFI_IPV4
  return parseIpv6(s, new Uint8Array(16), 0) ? AFI_IPV6 : null
}

/**
 * Parse "addr/len" into a canonical Prefix (host bits cleared), or null when invalid.
 * A bare address is taken as a host prefix (/32 or /128).
 */
export function parsePrefix(s: string): Prefix | null {
  const slash = s.indexOf('/')
  const addr = slash < 0 ? s : s.slice(0, slash)
  const b = ipToBytes(addr)
  if (!b) return null
  const max = b.length * 8
  let len = max
  if (slash >= 0) {
    const t = s.slice(slash + 1)
    if (!/^(0|[1-9][0-9]{0,2})$/.test(t)) return null
    len = Number(t)
    if (len > max) return null
  }
  maskBytes(b, 0, b.length, len)
  return b.length === 4
    ? { afi: AFI_IPV4, addr: formatIpv4Bytes(b, 0), len }
    : { afi: AFI_IPV6, addr: formatIpv6(b, 0), len }
}

export function formatPrefix(p: Prefix): string {
  return `${p.addr}/${p.len}`
}

/** Clear the bits after `len` in b[off..off+n]. */
export function maskBytes(b: Uint8Array, off: number, n: number, len: number): void {
  const full = len >>> 3
  const rem = len & 7
  let i = full
  if (rem && i < n) {
    b[off + i] = b[off + i]! & (0xff << (8 - rem)) & 0xff
    i++
  }
  for (; i < n; i++) b[off + i] = 0
}
