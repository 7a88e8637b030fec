// The address-family table: one row per supported AFI/SAFI, with the prefix byte codecs.
// Adding a family means adding a row here (BIRD's bgp_af_table, holo's AddressFamily).

import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../../ip/index.ts'
import { encodeError } from './errors.ts'
import type { Afi, FamilyKey, Prefix } from './types.ts'
import { AFI_IPV4, AFI_IPV6, SAFI_UNICAST } from './types.ts'

export interface FamilyDef {
  key: FamilyKey
  afi: Afi
  safi: number
  /** address size in bytes */
  addrBytes: 4 | 16
  /** longest prefix length */
  maxLen: number
  /** write the ceil(len/8) significant bytes of `p` (host bits cleared) at out[off]; returns the end */
  writePrefix(out: Uint8Array, off: number, p: Prefix): number
  /** write the addrBytes bytes of the address `addr` (text) at out[off]; returns the end */
  writeAddress(out: Uint8Array, off: number, addr: string): number
  /** canonical address of the `len`-bit prefix whose ceil(len/8) bytes are at buf[off] (host bits cleared) */
  readPrefix(buf: Uint8Array, off: number, len: number): string
}

const scratch = new Uint8Array(16)

/** The ceil(len/8) significant bytes of the IPv4 address text `addr` (host bits cleared) at out[off]; returns the end. */
function writeIpv4Bits(out: Uint8Array, off: number, addr: string, len: number): number {
  const v = parseIpv4(addr)
  if (v < 0) throw encodeError(`Cannot encode prefix "${addr}/${len}": "${addr}" is not an IPv4 address`)
  const nb = (len + 7) >>> 3
  const m = len === 0 ? 0 : (v & (0xffffffff << (32 - len))) >>> 0
  if (nb > 0) out[off] = m >>> 24
  if (nb > 1) out[off + 1] = (m >>> 16) & 255
  if (nb > 2) out[off + 2] = (m >>> 8) & 255
  if (nb > 3) out[off + 3] = m & 255
  return off + nb
}

/** The same for IPv6. */
function writeIpv6Bits(out: Uint8Array, off: number, addr: string, len: number): number {
  if (!parseIpv6(addr, scratch, 0)) throw encodeError(`Cannot encode prefix "${addr}/${len}": "${addr}" is not an IPv6 address`)
  const nb = (len + 7) >>> 3
  for (let i = 0; i < nb; i++) out[off + i] = scratch[i]!
  if (len & 7) out[off + nb - 1] = out[off + nb - 1]! & (0xff << (8 - (len & 7))) & 0xff
  return off + nb
}

const ipv4Unicast: FamilyDef = {
  key: 'ipv4-unicast',
  afi: AFI_IPV4,
  safi: SAFI_UNICAST,
  addrBytes: 4,
  maxLen: 32,
  writePrefix(out, off, p) {
    const len = p.len
    if (p.afi !== AFI_IPV4 || !(len >= 0 && len <= 32) || !Number.isInteger(len)) {
      throw encodeError(`Cannot encode prefix "${p.addr}/${len}" as IPv4 unicast`)
    }
    return writeIpv4Bits(out, off, p.addr, len)
  },
  writeAddress: (out, off, addr) => writeIpv4Bits(out, off, addr, 32),
  readPrefix(buf, off, len) {
    const nb = (len + 7) >>> 3
    let v = 0
    for (let i = 0; i < 4; i++) v = v * 256 + (i < nb ? buf[off + i]! : 0)
    const m = len === 0 ? 0 : (v & (0xffffffff << (32 - len))) >>> 0
    return formatIpv4(m)
  },
}

const ipv6Unicast: FamilyDef = {
  key: 'ipv6-unicast',
  afi: AFI_IPV6,
  safi: SAFI_UNICAST,
  addrBytes: 16,
  maxLen: 128,
  writePrefix(out, off, p) {
    const len = p.len
    if (p.afi !== AFI_IPV6 || !(len >= 0 && len <= 128) || !Number.isInteger(len)) {
      throw encodeError(`Cannot encode prefix "${p.addr}/${len}" as IPv6 unicast`)
    }
    return writeIpv6Bits(out, off, p.addr, len)
  },
  writeAddress: (out, off, addr) => writeIpv6Bits(out, off, addr, 128),
  readPrefix(buf, off, len) {
    const nb = (len + 7) >>> 3
    scratch.fill(0)
    for (let i = 0; i < nb; i++) scratch[i] = buf[off + i]!
    if (len & 7) scratch[nb - 1] = scratch[nb - 1]! & (0xff << (8 - (len & 7))) & 0xff
    return formatIpv6(scratch, 0)
  },
}

export const FAMILIES: readonly FamilyDef[] = [ipv4Unicast, ipv6Unicast]

export const FAMILY_BY_KEY: Readonly<Record<FamilyKey, FamilyDef>> = {
  'ipv4-unicast': ipv4Unicast,
  'ipv6-unicast': ipv6Unicast,
}

export function familyOf(afi: number, safi: number): FamilyDef | undefined {
  if (safi !== SAFI_UNICAST) return undefined
  return afi === AFI_IPV4 ? ipv4Unicast : afi === AFI_IPV6 ? ipv6Unicast : undefined
}

export function familyKey(afi: number, safi: number): FamilyKey | undefined {
  return familyOf(afi, safi)?.key
}

/** the unicast family of a prefix */
export function familyOfPrefix(p: Prefix): FamilyDef {
  return p.afi === AFI_IPV6 ? ipv6Unicast : ipv4Unicast
}
