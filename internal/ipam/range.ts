// Addresses as numbers and pool ranges (an Eip's spec.address). Pure. Addresses are bigints so
// an IPv6 /64 is as cheap as an IPv4 /30: nothing here enumerates a range.
import { AFI_IPV4, formatIpv4, formatIpv6, parseAddress, parsePrefixOrReason } from '../ip/index.ts'
import type { Family, IpRange } from './types.ts'

/** An address as a number in its family, with its canonical text. */
export interface Address {
  family: Family
  value: bigint
  text: string
}

/** Strict IPv4 or IPv6 address (no zone id), or undefined. */
export function parseIp(s: string): Address | undefined {
  const a = parseAddress(s)
  if (a === undefined) return undefined
  let value = 0n
  for (const b of a.bytes) value = (value << 8n) | BigInt(b)
  return { family: a.afi === AFI_IPV4 ? 'IPv4' : 'IPv6', value, text: a.text }
}

/** Canonical text of the address `value` of `family`. */
export function formatIp(family: Family, value: bigint): string {
  if (family === 'IPv4') return formatIpv4(Number(value))
  const b = new Uint8Array(16)
  for (let i = 15; i >= 0; i--) {
    b[i] = Number(value & 0xffn)
    value >>= 8n
  }
  return formatIpv6(b)
}

export function inRange(r: IpRange, a: Address): boolean {
  return a.family === r.family && a.value >= r.first && a.value <= r.last
}

function rangeOf(family: Family, first: bigint, last: bigint): IpRange {
  const r: IpRange = {
    family,
    first,
    last,
    size: last - first + 1n,
    firstIP: formatIp(family, first),
    lastIP: formatIp(family, last),
    contains(ip: string): boolean {
      const a = parseIp(ip)
      return a !== undefined && inRange(r, a)
    },
  }
  return Object.freeze(r)
}

const FORMS = 'an IP address ("192.0.2.10"), a CIDR ("192.0.2.0/28") or a range ("192.0.2.10-192.0.2.20")'

/**
 * Parse an Eip spec.address: one IP, a CIDR (every address, network and broadcast included, like
 * OpenELB; host bits are cleared as Go's net.ParseCIDR does, so "192.0.2.7/28" is 192.0.2.0/28)
 * or "first-last", IPv4 or IPv6 (spaces around "-" are allowed). Returns the range, or what is
 * wrong: `"192.0.2.20-192.0.2.10": the last address is before the first`.
 */
export function parseRange(s: string): IpRange | string {
  if (typeof s !== 'string') return `Expected ${FORMS}, not ${typeof s}`
  const text = s.trim()
  const dash = text.indexOf('-')
  if (dash >= 0) {
    const [a, b] = [text.slice(0, dash).trim(), text.slice(dash + 1).trim()]
    const first = parseIp(a)
    if (first === undefined) return `"${s}": "${a}" is not an IP address`
    const last = parseIp(b)
    if (last === undefined) return `"${s}": "${b}" is not an IP address`
    if (first.family !== last.family) return `"${s}": the first address is ${first.family} and the last is ${last.family}; a range has one family`
    if (last.value < first.value) return `"${s}": the last address is before the first`
    return rangeOf(first.family, first.value, last.value)
  }
  if (text.includes('/')) {
    const p = parsePrefixOrReason(text, true)
    if (typeof p === 'string') return `"${s}": ${p}`
    const base = parseIp(p.prefix.addr)!
    const bits = base.family === 'IPv4' ? 32 : 128
    return rangeOf(base.family, base.value, base.value + (1n << BigInt(bits - p.prefix.len)) - 1n)
  }
  const ip = parseIp(text)
  if (ip === undefined) return `"${s}" is not ${FORMS}`
  return rangeOf(ip.family, ip.value, ip.value)
}
