// IP address and prefix parsing for the Adj-RIB-Out. Pure, no `node:net`.
// Canonical text: dotted quad for IPv4; RFC 5952 for IPv6 (lower case, no leading zeros, the
// longest run of two or more zero groups compressed, the first one on a tie; no dotted tail).
import { AFI_IPV4, AFI_IPV6, type Afi, type FamilyKey, type Prefix } from '../wire/types.ts'

export interface ParsedAddress {
  afi: Afi
  family: FamilyKey
  /** canonical text */
  text: string
  /** 4 or 16 octets */
  bytes: Uint8Array
  /** fixed-width lower-case hex of the bytes: string order equals numeric order within a family */
  key: string
}

/**
 * Strict dotted quad in s[start, end) -> unsigned 32-bit value, or -1. No leading zeros, so an
 * accepted string is already canonical.
 */
export function parseV4U32(s: string, start = 0, end = s.length): number {
  let v = 0
  let octets = 0
  let i = start
  while (octets < 4) {
    const first = i
    let n = 0
    while (i < end) {
      const c = s.charCodeAt(i)
      if (c < 48 || c > 57) break
      n = n * 10 + (c - 48)
      i++
    }
    const digits = i - first
    if (digits === 0 || digits > 3 || n > 255 || (digits > 1 && s.charCodeAt(first) === 48)) return -1
    v = v * 256 + n
    octets++
    if (octets < 4) {
      if (i >= end || s.charCodeAt(i) !== 46) return -1
      i++
    }
  }
  return i === end ? v : -1
}

function parseV4Bytes(s: string): Uint8Array | undefined {
  const v = parseV4U32(s)
  if (v < 0) return undefined
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff)
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/

function parseV6Bytes(s: string): Uint8Array | undefined {
  if (s.length < 2 || s.length > 45) return undefined
  let head = s
  let tail4: Uint8Array | undefined
  const lastColon = s.lastIndexOf(':')
  if (s.indexOf('.', lastColon) !== -1) {
    tail4 = parseV4Bytes(s.slice(lastColon + 1))
    if (!tail4) return undefined
    head = s.slice(0, lastColon + 1) + '0:0' // placeholder for the 2 groups the dotted tail fills
  }
  const dbl = head.indexOf('::')
  if (dbl !== -1 && head.indexOf('::', dbl + 1) !== -1) return undefined
  const groups: number[] = []
  const parseGroups = (part: string): boolean => {
    if (part === '') return true
    for (const g of part.split(':')) {
      if (!HEX_GROUP.test(g)) return false
      groups.push(parseInt(g, 16))
    }
    return true
  }
  let left: number[] = []
  let right: number[] = []
  if (dbl === -1) {
    if (!parseGroups(head) || groups.length !== 8) return undefined
    left = groups
  } else {
    if (!parseGroups(head.slice(0, dbl))) return undefined
    left = groups.splice(0)
    if (!parseGroups(head.slice(dbl + 2))) return undefined
    right = groups.splice(0)
    if (left.length + right.length > 7) return undefined
  }
  const all = dbl === -1 ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
  const out = new Uint8Array(16)
  for (let i = 0; i < 8; i++) {
    const g = all[i] ?? 0
    out[i * 2] = g >> 8
    out[i * 2 + 1] = g & 0xff
  }
  if (tail4) out.set(tail4, 12)
  return out
}

/** RFC 5952 text of 16 octets. */
export function formatV6(b: Uint8Array): string {
  const g: number[] = []
  for (let i = 0; i < 8; i++) g.push(((b[i * 2] ?? 0) << 8) | (b[i * 2 + 1] ?? 0))
  let bestStart = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen) { bestStart = i; bestLen = j - i }
    i = j
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':')
  if (bestStart === -1) return hex(g)
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`
}

function toHex(b: Uint8Array): string {
  let s = ''
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16)
  return s
}

/** Parse an IPv4 or IPv6 address; undefined when it is neither. */
export function parseAddress(s: string): ParsedAddress | undefined {
  if (typeof s !== 'string') return undefined
  if (s.includes(':')) {
    const bytes = parseV6Bytes(s)
    if (!bytes) return undefined
    return { afi: AFI_IPV6, family: 'ipv6-unicast', text: formatV6(bytes), bytes, key: toHex(bytes) }
  }
  const bytes = parseV4Bytes(s)
  if (!bytes) return undefined
  return { afi: AFI_IPV4, family: 'ipv4-unicast', text: `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`, bytes, key: toHex(bytes) }
}

export interface ParsedPrefix {
  prefix: Prefix
  family: FamilyKey
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
 * must be zero. Returns the reason as a string when it is not a valid prefix.
 */
export function parsePrefixOrReason(s: string): ParsedPrefix | string {
  if (typeof s !== 'string') return 'expected a string'
  const slash = s.indexOf('/')
  const v4 = s.indexOf(':') === -1 ? parseV4U32(s, 0, slash === -1 ? s.length : slash) : -1
  if (v4 >= 0) {
    let len = 32
    if (slash !== -1) {
      len = parseLen(s, slash + 1)
      if (len < 0 || len > 32) return `"${s.slice(slash + 1)}" is not a prefix length from 0 to 32`
    }
    if (len < 32 && (v4 & (0xffffffff >>> len)) !== 0) {
      const m = (v4 & ~(0xffffffff >>> len)) >>> 0
      return `host bits are set (did you mean "${m >>> 24}.${(m >>> 16) & 0xff}.${(m >>> 8) & 0xff}.${m & 0xff}/${len}"?)`
    }
    const addr = slash === -1 ? s : s.slice(0, slash)
    return { prefix: { afi: AFI_IPV4, addr, len }, family: 'ipv4-unicast', text: slash === -1 ? `${s}/32` : s }
  }
  const addrText = slash === -1 ? s : s.slice(0, slash)
  const a = parseAddress(addrText)
  if (!a) return `"${addrText}" is not an IP address`
  const max = a.bytes.length * 8
  let len = max
  if (slash !== -1) {
    const lt = s.slice(slash + 1)
    if (!/^(0|[1-9][0-9]{0,2})$/.test(lt) || Number(lt) > max) return `"${lt}" is not a prefix length from 0 to ${max}`
    len = Number(lt)
  }
  for (let bit = len; bit < max; bit++) {
    if (((a.bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) {
      const masked = new Uint8Array(a.bytes)
      for (let b = len; b < max; b++) masked[b >> 3] = (masked[b >> 3] ?? 0) & ~(1 << (7 - (b & 7)))
      const canon = a.afi === AFI_IPV4 ? [...masked].join('.') : formatV6(masked)
      return `host bits are set (did you mean "${canon}/${len}"?)`
    }
  }
  return { prefix: { afi: a.afi, addr: a.text, len }, family: a.family, text: `${a.text}/${len}` }
}

export function parsePrefix(s: string): PrefixParse {
  const r = parsePrefixOrReason(s)
  return typeof r === 'string' ? { ok: false, reason: r } : { ok: true, value: r }
}
