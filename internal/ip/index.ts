// IP addresses and prefixes: text <-> numbers and network-order bytes, canonical text. Pure (no
// node:net), shared by the BGP codec and RIB, rtnetlink, the nft/iptables readers and the agent.
//
// Canonical text:
//   IPv4: dotted quad without leading zeros ("192.0.2.1")
//   IPv6: RFC 5952 section 4: lowercase hex, no leading zeros in a group, the longest run
//         (first on a tie) of two or more zero groups compressed to "::". IPv4-mapped
//         addresses are printed in hex too ("::ffff:c000:201"), as WHATWG URL does.
// Parsing is strict: no leading zeros in IPv4 octets or prefix lengths, no zone id ("%eth0"),
// except canonicalIp / ipToBytes, which drop a zone id as node:net's isIP accepts one.
// The parsers work on char codes and allocate nothing beyond their result: the codec parses
// every NLRI address with parseIpv4 / parseIpv6.

/** An IP version: the one family type of the kernel-facing code (netlink, nft, iptables, agent, sockets). */
export type Family = 4 | 6

/** IANA address family numbers (also the BGP AFI) */
export const AFI_IPV4 = 1
export const AFI_IPV6 = 2
export type Afi = typeof AFI_IPV4 | typeof AFI_IPV6

export interface Prefix {
  afi: Afi
  /** canonical address with host bits zero */
  addr: string
  len: number
}

/**
 * Strict dotted quad in s[start, end) -> unsigned 32-bit number, or -1 when it is not one. No
 * leading zeros, so an accepted string is already canonical.
 */
export function parseIpv4(s: string, start = 0, end = s.length): number {
  const n = end - start
  if (n < 7 || n > 15) return -1
  let acc = 0
  let part = 0
  let digits = 0
  let dots = 0
  let lead0 = false
  for (let i = start; i < end; i++) {
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

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])'
/** the strings parseIpv4 accepts whole, as a regular expression */
const IPV4_TEXT = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`)

/**
 * Whether s is a strict dotted quad (parseIpv4(s) >= 0). For the per-item checks of long address
 * lists: V8 compiles a regular expression to machine code at once, whatever tier the calling
 * JavaScript runs in, and the daemon runs without the optimizing compiler (cmd/porter/heap.ts),
 * where a char-code loop is ~15 x slower than this.
 */
export function isIpv4(s: string): boolean {
  return IPV4_TEXT.test(s)
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
      const v4 = parseIpv4(s, i)
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

/** Canonical text of a 4- or 16-byte address; throws TypeError for any other length. */
export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return formatIpv4Bytes(b, 0)
  if (b.length !== 16) throw new TypeError(`An IP address has 4 or 16 bytes, not ${b.length}`)
  return formatIpv6(b, 0)
}

/** node:net's zone id syntax after "%": letters, digits, "-", "." and ":", at least one */
function isZoneId(s: string, from: number): boolean {
  if (from >= s.length) return false
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (!((c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46)) return false
  }
  return true
}

const scratch16 = new Uint8Array(16)

/**
 * 4, 6, or 0 when `s` is not an IP address: node:net's isIP, the same answers (no leading zeros
 * in IPv4, every IPv6 text form, a zone id accepted on IPv6) without node:net (its streams and
 * sockets are a tenth of `porter validate`'s start-up). IPv6 is read by parseIpv6, not by
 * node:net's regular expression: V8 takes ~8 ms to compile that one on its first use.
 */
export function isIP(s: string): 0 | 4 | 6 {
  if (isIpv4(s)) return 4
  const pct = s.indexOf('%')
  if (pct < 0) return parseIpv6(s, scratch16, 0) ? 6 : 0
  return pct > 0 && isZoneId(s, pct + 1) && parseIpv6(s.slice(0, pct), scratch16, 0) ? 6 : 0
}

/**
 * 4 or 16 bytes (network order) of an IPv4 or IPv6 address, or undefined. An IPv6 zone id
 * ("fe80::1%eth0") is dropped.
 */
export function ipToBytes(s: string): Uint8Array | undefined {
  const v4 = parseIpv4(s)
  if (v4 >= 0) return Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255)
  const b = new Uint8Array(16)
  if (parseIpv6(s, b, 0)) return b
  const pct = s.indexOf('%')
  if (pct > 0 && isZoneId(s, pct + 1) && parseIpv6(s.slice(0, pct), b, 0)) return b
  return undefined
}

/** Canonical text of an IPv4 or IPv6 address, or undefined when `s` is not one. An IPv6 zone id is dropped. */
export function canonicalIp(s: string): string | undefined {
  const b = ipToBytes(s)
  return b === undefined ? undefined : bytesToIp(b)
}

/**
 * A socket's peer address as one key: an IPv4-mapped IPv6 address ("::ffff:192.0.2.1", from a
 * dual-stack socket) as its IPv4 address, others canonical (lower-case, shortest IPv6, no zone);
 * text that is no address, lower-cased.
 */
export function normalizeAddress(a: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a)
  if (m) return m[1]!
  return canonicalIp(a) ?? a.toLowerCase()
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

export interface ParsedAddress {
  afi: Afi
  /** canonical text */
  text: string
  /** 4 or 16 octets */
  bytes: Uint8Array
  /** fixed-width lower-case hex of the bytes: string order equals numeric order within a family */
  key: string
}

function toHex(b: Uint8Array): string {
  let s = ''
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16)
  return s
}

/** Parse an IPv4 or IPv6 address (strict, no zone id); undefined when it is neither. */
export function parseAddress(s: string): ParsedAddress | undefined {
  if (typeof s !== 'string') return undefined
  if (s.includes(':')) {
    const bytes = new Uint8Array(16)
    if (!parseIpv6(s, bytes, 0)) return undefined
    return { afi: AFI_IPV6, text: formatIpv6(bytes, 0), bytes, key: toHex(bytes) }
  }
  const v = parseIpv4(s)
  if (v < 0) return undefined
  const bytes = Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff)
  return { afi: AFI_IPV4, text: formatIpv4Bytes(bytes, 0), bytes, key: toHex(bytes) }
}

export interface ParsedPrefix {
  prefix: Prefix
  /** canonical "addr/len" */
  text: string
}

export type PrefixParse = { ok: true; value: ParsedPrefix } | { ok: false; reason: string }

/** Decimal prefix length at s[from..] without leading zeros, or -1. */
function parseLen(s: string, from: number): number {
  const digits = s.length - from
  if (digits < 1 || digits > 3 || (digits > 1 && s.charCodeAt(from) === 48)) return -1
  let n = 0
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return -1
    n = n * 10 + (c - 48)
  }
  return n
}

/**
 * Parse "192.0.2.10/32" or "2001:db8::10/128" (a bare address means a host route). Host bits
 * must be zero, unless `clearHostBits` (then "192.0.2.77/24" is 192.0.2.0/24). Returns the
 * reason as a string when it is not a valid prefix.
 */
export function parsePrefixOrReason(s: string, clearHostBits = false): ParsedPrefix | string {
  if (typeof s !== 'string') return 'expected a string'
  const slash = s.indexOf('/')
  const v4 = s.indexOf(':') === -1 ? parseIpv4(s, 0, slash === -1 ? s.length : slash) : -1
  if (v4 >= 0) {
    let len = 32
    if (slash !== -1) {
      len = parseLen(s, slash + 1)
      if (len < 0 || len > 32) return `"${s.slice(slash + 1)}" is not a prefix length from 0 to 32`
    }
    if (len < 32 && (v4 & (0xffffffff >>> len)) !== 0) {
      const m = (v4 & ~(0xffffffff >>> len)) >>> 0
      if (!clearHostBits) return `host bits are set (did you mean "${formatIpv4(m)}/${len}"?)`
      const addr = formatIpv4(m)
      return { prefix: { afi: AFI_IPV4, addr, len }, text: `${addr}/${len}` }
    }
    const addr = slash === -1 ? s : s.slice(0, slash)
    return { prefix: { afi: AFI_IPV4, addr, len }, text: slash === -1 ? `${s}/32` : s }
  }
  const addrText = slash === -1 ? s : s.slice(0, slash)
  const a = parseAddress(addrText)
  if (!a) return `"${addrText}" is not an IP address`
  const max = a.bytes.length * 8
  let len = max
  if (slash !== -1) {
    const lt = s.slice(slash + 1)
    len = parseLen(s, slash + 1)
    if (len < 0 || len > max) return `"${lt}" is not a prefix length from 0 to ${max}`
  }
  for (let bit = len; bit < max; bit++) {
    if (((a.bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) {
      const masked = new Uint8Array(a.bytes)
      maskBytes(masked, 0, masked.length, len)
      const canon = a.afi === AFI_IPV4 ? formatIpv4Bytes(masked, 0) : formatIpv6(masked, 0)
      if (!clearHostBits) return `host bits are set (did you mean "${canon}/${len}"?)`
      return { prefix: { afi: a.afi, addr: canon, len }, text: `${canon}/${len}` }
    }
  }
  return { prefix: { afi: a.afi, addr: a.text, len }, text: `${a.text}/${len}` }
}

/** parsePrefixOrReason as a result object */
export function parsePrefix(s: string): PrefixParse {
  const r = parsePrefixOrReason(s)
  return typeof r === 'string' ? { ok: false, reason: r } : { ok: true, value: r }
}

/** The network "addr/len" names, host bits cleared ("198.51.100.77/24" -> 198.51.100.0/24), or null. */
export function networkOf(s: string): Prefix | null {
  const r = parsePrefixOrReason(s, true)
  return typeof r === 'string' ? null : r.prefix
}
/** Whether `address` (any spelling) is inside `p` (same family). */
export function prefixContains(p: Prefix, address: string): boolean {
  const a = parseAddress(address)
  const net = parseAddress(p.addr)
  if (!a || !net || a.afi !== p.afi) return false
  maskBytes(a.bytes, 0, a.bytes.length, p.len)
  return a.bytes.every((x, i) => x === net.bytes[i])
}
