// PURE rtnetlink codec: netlink headers, ifaddrmsg / rtmsg and their attributes.
// Only the fields Porter reads or writes are decoded; everything else is skipped.
// Netlink uses host byte order; the addresses inside attributes are network order.
import { endianness } from 'node:os'
import { bytesToIp, ipToBytes } from '../ip/index.ts'

const LE = endianness() === 'LE'

/** Network-order bytes of an address for an attribute; throws TypeError when it is not one. */
function addrBytes(ip: string): Buffer {
  const b = ipToBytes(ip)
  if (b === undefined) throw new TypeError(`"${ip}" is not an IP address`)
  return Buffer.from(b.buffer, b.byteOffset, b.length)
}

// netlink core (linux/netlink.h)
export const NLMSG_ERROR = 2
export const NLMSG_DONE = 3
export const NLM_F_REQUEST = 0x1
export const NLM_F_MULTI = 0x2
export const NLM_F_ACK = 0x4
export const NLM_F_DUMP_INTR = 0x10
export const NLM_F_REPLACE = 0x100
export const NLM_F_EXCL = 0x200
export const NLM_F_CREATE = 0x400
export const NLM_F_DUMP = 0x300
export const NLMSG_HDRLEN = 16

// rtnetlink message types (linux/rtnetlink.h)
export const RTM_NEWLINK = 16
export const RTM_DELLINK = 17
export const RTM_GETLINK = 18
export const RTM_NEWADDR = 20
export const RTM_DELADDR = 21
export const RTM_GETADDR = 22
export const RTM_NEWROUTE = 24
export const RTM_DELROUTE = 25
export const RTM_GETROUTE = 26

// multicast groups (enum rtnetlink_groups): group numbers, not bit masks
export const RTNLGRP_LINK = 1
export const RTNLGRP_IPV4_IFADDR = 5
export const RTNLGRP_IPV4_ROUTE = 7
export const RTNLGRP_IPV6_IFADDR = 9
export const RTNLGRP_IPV6_ROUTE = 11

// address attributes (linux/if_addr.h)
const IFA_ADDRESS = 1
const IFA_LOCAL = 2
const IFA_LABEL = 3
const IFA_FLAGS = 8
const IFA_PROTO = 11
export const IFA_F_NODAD = 0x02
export const IFA_F_PERMANENT = 0x80
export const IFA_F_NOPREFIXROUTE = 0x200

// route attributes and values
const RTA_DST = 1
const RTA_OIF = 4
const RTA_PREFSRC = 7
const RTA_TABLE = 15
export const RT_TABLE_MAIN = 254
export const RT_TABLE_LOCAL = 255
export const RTN_UNICAST = 1
export const RTN_LOCAL = 2
export const RT_SCOPE_UNIVERSE = 0
export const RT_SCOPE_HOST = 254

// link attributes
const IFLA_IFNAME = 3

export const AF_INET = 2
export const AF_INET6 = 10

import type { Family } from '../ip/index.ts'
export type { Family }
export const afOf = (f: Family): number => (f === 4 ? AF_INET : AF_INET6)
export const familyOfAf = (af: number): Family | undefined => (af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined)

// ---------------------------------------------------------------- messages

function u16(b: Buffer, o: number): number { return LE ? b.readUInt16LE(o) : b.readUInt16BE(o) }
function u32(b: Buffer, o: number): number { return LE ? b.readUInt32LE(o) : b.readUInt32BE(o) }
function i32(b: Buffer, o: number): number { return LE ? b.readInt32LE(o) : b.readInt32BE(o) }
function w16(b: Buffer, v: number, o: number): void { if (LE) b.writeUInt16LE(v, o); else b.writeUInt16BE(v, o) }
function w32(b: Buffer, v: number, o: number): void { if (LE) b.writeUInt32LE(v >>> 0, o); else b.writeUInt32BE(v >>> 0, o) }

const align4 = (n: number): number => (n + 3) & ~3

type Attr = [type: number, data: Buffer]

function attrsLength(attrs: readonly Attr[]): number {
  let n = 0
  for (const [, d] of attrs) n += align4(4 + d.length)
  return n
}

function writeAttrs(buf: Buffer, off: number, attrs: readonly Attr[]): void {
  for (const [t, d] of attrs) {
    w16(buf, 4 + d.length, off)
    w16(buf, t, off + 2)
    d.copy(buf, off + 4)
    off += align4(4 + d.length)
  }
}

function u32Buf(v: number): Buffer { const b = Buffer.alloc(4); w32(b, v, 0); return b }
function strBuf(s: string): Buffer { return Buffer.from(`${s}\0`, 'utf8') }

/** A netlink message: header + fixed struct + attributes. */
function message(type: number, flags: number, seq: number, fixed: Buffer, attrs: readonly Attr[]): Buffer {
  const len = NLMSG_HDRLEN + fixed.length + attrsLength(attrs)
  const b = Buffer.alloc(len)
  w32(b, len, 0)
  w16(b, type, 4)
  w16(b, flags, 6)
  w32(b, seq, 8)
  w32(b, 0, 12)
  fixed.copy(b, NLMSG_HDRLEN)
  writeAttrs(b, NLMSG_HDRLEN + fixed.length, attrs)
  return b
}

/** Sequence number of an encoded message (so a caller can renumber it). */
export function setSeq(msg: Buffer, seq: number): void { w32(msg, seq, 8) }

export interface NlHeader { len: number; type: number; flags: number; seq: number; pid: number; off: number }

/** Split a datagram into messages (header + payload offset). Truncated tails are ignored. */
export function splitMessages(buf: Buffer): NlHeader[] {
  const out: NlHeader[] = []
  let off = 0
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = u32(buf, off)
    if (len < NLMSG_HDRLEN || off + len > buf.length) break
    out.push({ len, type: u16(buf, off + 4), flags: u16(buf, off + 6), seq: u32(buf, off + 8), pid: u32(buf, off + 12), off })
    off += align4(len)
  }
  return out
}

/** The errno of an NLMSG_ERROR message (0 is an ACK; positive numbers are errno values). */
export function errorOf(buf: Buffer, h: NlHeader): number {
  const e = i32(buf, h.off + NLMSG_HDRLEN)
  return e === 0 ? 0 : -e
}

/**
 * The one netlink attribute walker (rtnetlink here, nf_tables in ../nft): calls `fn` with each
 * attribute's type (NLA_F_NESTED and NLA_F_NET_BYTEORDER masked off) and payload [off, off+len)
 * in [start, end); stops at a truncated or malformed attribute.
 */
export function walkAttrs(buf: Buffer, start: number, end: number, fn: (type: number, off: number, len: number) => void): void {
  let o = start
  while (o + 4 <= end) {
    const len = u16(buf, o)
    if (len < 4 || o + len > end) break
    fn(u16(buf, o + 2) & 0x3fff, o + 4, len - 4)
    o += align4(len)
  }
}

// ---------------------------------------------------------------- addresses

export interface AddrEntry {
  family: Family
  /** canonical text */
  address: string
  prefixLen: number
  ifindex: number
  scope: number
  /** IFA_FLAGS (32 bit) when present, else ifa_flags */
  flags: number
  /** IFA_LABEL (IPv4 only) */
  label?: string
  /** IFA_PROTO: who created the address (0 when absent) */
  proto: number
}

export interface AddrSpec {
  family: Family
  address: string
  prefixLen: number
  ifindex: number
  label?: string
  proto?: number
  flags?: number
  scope?: number
}

function ifaddrmsg(family: Family, prefixLen: number, flags: number, scope: number, ifindex: number): Buffer {
  const b = Buffer.alloc(8)
  b[0] = afOf(family)
  b[1] = prefixLen
  b[2] = flags & 0xff
  b[3] = scope
  w32(b, ifindex, 4)
  return b
}

export function encodeNewAddr(a: AddrSpec, seq: number): Buffer {
  const ip = addrBytes(a.address)
  const flags = a.flags ?? 0
  const attrs: Attr[] = [[IFA_LOCAL, ip], [IFA_ADDRESS, ip]]
  if (a.label !== undefined) attrs.push([IFA_LABEL, strBuf(a.label)])
  attrs.push([IFA_FLAGS, u32Buf(flags)])
  if (a.proto !== undefined) attrs.push([IFA_PROTO, Buffer.from([a.proto])])
  return message(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq,
    ifaddrmsg(a.family, a.prefixLen, flags, a.scope ?? RT_SCOPE_UNIVERSE, a.ifindex), attrs)
}

export function encodeDelAddr(a: AddrSpec, seq: number): Buffer {
  const ip = addrBytes(a.address)
  return message(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, seq, ifaddrmsg(a.family, a.prefixLen, 0, 0, a.ifindex), [[IFA_LOCAL, ip], [IFA_ADDRESS, ip]])
}

export function encodeGetAddrs(family: Family | 0, seq: number): Buffer {
  const b = Buffer.alloc(8)
  b[0] = family === 0 ? 0 : afOf(family)
  return message(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq, b, [])
}

/** Decode an RTM_NEWADDR / RTM_DELADDR payload; undefined for families other than IPv4 / IPv6. */
// labels repeat ("lo:porter" on thousands of addresses): reuse the last string
let lastLabel = ''
let lastLabelBytes = Buffer.alloc(0)

function labelAt(buf: Buffer, o: number, l: number): string {
  const end = l > 0 && buf[o + l - 1] === 0 ? o + l - 1 : o + l
  if (end - o === lastLabelBytes.length && buf.compare(lastLabelBytes, 0, lastLabelBytes.length, o, end) === 0) return lastLabel
  lastLabelBytes = Buffer.from(buf.subarray(o, end))
  lastLabel = lastLabelBytes.toString('utf8')
  return lastLabel
}

/** Decode an RTM_NEWADDR / RTM_DELADDR payload; undefined for families other than IPv4 / IPv6. */
export function decodeAddr(buf: Buffer, h: NlHeader): AddrEntry | undefined {
  const p = h.off + NLMSG_HDRLEN
  const family = familyOfAf(buf[p]!)
  if (family === undefined) return undefined
  const e: AddrEntry = { family, address: '', prefixLen: buf[p + 1]!, ifindex: u32(buf, p + 4), scope: buf[p + 3]!, flags: buf[p + 2]!, proto: 0 }
  const alen = family === 4 ? 4 : 16
  let local = -1
  let addr = -1
  const end = h.off + h.len
  let o = p + 8
  while (o + 4 <= end) {
    const len = u16(buf, o)
    if (len < 4 || o + len > end) break
    const t = u16(buf, o + 2) & 0x3fff
    const d = o + 4
    const l = len - 4
    if (t === IFA_LOCAL) { if (l === alen) local = d }
    else if (t === IFA_ADDRESS) { if (l === alen) addr = d }
    else if (t === IFA_LABEL) e.label = labelAt(buf, d, l)
    else if (t === IFA_FLAGS) { if (l >= 4) e.flags = u32(buf, d) }
    else if (t === IFA_PROTO) { if (l >= 1) e.proto = buf[d]! }
    o += align4(len)
  }
  const at = local >= 0 ? local : addr
  if (at < 0) return undefined
  e.address = alen === 4 ? `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}` : bytesToIp(buf.subarray(at, at + 16))
  return e
}

// ---------------------------------------------------------------- routes

export interface RouteEntry {
  family: Family
  /** canonical text of the destination ("0.0.0.0" / "::" for a default route) */
  dst: string
  dstLen: number
  table: number
  protocol: number
  type: number
  scope: number
  oif?: number
  prefsrc?: string
}

export interface RouteSpec {
  family: Family
  dst: string
  dstLen: number
  table: number
  protocol: number
  type: number
  scope: number
  oif?: number
}

function rtmsg(r: { family: Family; dstLen: number; table: number; protocol: number; scope: number; type: number }): Buffer {
  const b = Buffer.alloc(12)
  b[0] = afOf(r.family)
  b[1] = r.dstLen
  b[4] = r.table < 256 ? r.table : 0 // RT_TABLE_UNSPEC: the real id is in RTA_TABLE
  b[5] = r.protocol
  b[6] = r.scope
  b[7] = r.type
  return b
}

export function encodeNewRoute(r: RouteSpec, seq: number): Buffer {
  const attrs: Attr[] = [[RTA_DST, addrBytes(r.dst)], [RTA_TABLE, u32Buf(r.table)]]
  if (r.oif !== undefined) attrs.push([RTA_OIF, u32Buf(r.oif)])
  return message(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq, rtmsg(r), attrs)
}

export function encodeDelRoute(r: RouteSpec, seq: number): Buffer {
  const attrs: Attr[] = [[RTA_DST, addrBytes(r.dst)], [RTA_TABLE, u32Buf(r.table)]]
  if (r.oif !== undefined) attrs.push([RTA_OIF, u32Buf(r.oif)])
  return message(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK, seq, rtmsg(r), attrs)
}

export function encodeGetRoutes(family: Family, seq: number): Buffer {
  const b = Buffer.alloc(12)
  b[0] = afOf(family)
  return message(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq, b, [])
}

/** The protocol byte of a route message without decoding the rest (for cheap filtering of big dumps). */
export function routeProtocolOf(buf: Buffer, h: NlHeader): number { return buf[h.off + NLMSG_HDRLEN + 5]! }

export function decodeRoute(buf: Buffer, h: NlHeader): RouteEntry | undefined {
  const p = h.off + NLMSG_HDRLEN
  const family = familyOfAf(buf[p]!)
  if (family === undefined) return undefined
  const alen = family === 4 ? 4 : 16
  const e: RouteEntry = {
    family, dst: family === 4 ? '0.0.0.0' : '::', dstLen: buf[p + 1]!, table: buf[p + 4]!, protocol: buf[p + 5]!, scope: buf[p + 6]!, type: buf[p + 7]!,
  }
  walkAttrs(buf, p + 12, h.off + h.len, (t, o, l) => {
    switch (t) {
      case RTA_DST: if (l === alen) e.dst = bytesToIp(buf.subarray(o, o + l)); break
      case RTA_TABLE: if (l >= 4) e.table = u32(buf, o); break
      case RTA_OIF: if (l >= 4) e.oif = u32(buf, o); break
      case RTA_PREFSRC: if (l === alen) e.prefsrc = bytesToIp(buf.subarray(o, o + l)); break
    }
  })
  return e
}

// ---------------------------------------------------------------- links

export interface LinkEntry { ifindex: number; name: string; flags: number }

export function encodeGetLinks(seq: number): Buffer {
  return message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, Buffer.alloc(16), [])
}

export function decodeLink(buf: Buffer, h: NlHeader): LinkEntry | undefined {
  const p = h.off + NLMSG_HDRLEN
  if (h.len < NLMSG_HDRLEN + 16) return undefined
  const e: LinkEntry = { ifindex: i32(buf, p + 4), flags: u32(buf, p + 8), name: '' }
  walkAttrs(buf, p + 16, h.off + h.len, (t, o, l) => {
    if (t === IFLA_IFNAME) e.name = buf.toString('utf8', o, l > 0 && buf[o + l - 1] === 0 ? o + l - 1 : o + l)
  })
  return e
}
