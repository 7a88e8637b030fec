// Fast UPDATE packing for the Adj-RIB-Out: many NLRI sharing one attribute set go into as few
// UPDATEs as ctx.maxMessageLength allows (RFC 4271 9.2: one UPDATE per attribute set).
//
//   encodeUpdates(attrs, nlri, ctx)   announcements of one family:
//       IPv4 unicast  -> the NLRI field, next hop in attrs.nextHop (unless attrs.mpReach is set,
//                        then MP_REACH_NLRI as for IPv6)
//       IPv6 unicast  -> MP_REACH_NLRI, next hop from attrs.mpReach (its afi/safi/nextHop/
//                        linkLocalNextHop; its nlri list is ignored); MP_REACH_NLRI comes first
//   encodeWithdrawals(nlri, ctx)      withdrawals of one family (IPv4 field or MP_UNREACH_NLRI)
// The NLRI are OutNlri: an Nlri, or a host route's address text (the Adj-RIB-Out's own keys).
// Both return whole messages (header included) in order. They are views into one buffer laid
// out back to back; joinMessages() returns that buffer without copying.
//
// Cost: the attributes are encoded once; each prefix costs one pass to size it and one to
// write it (IPv4 text parsed with a char-code loop, no string splitting, no per-prefix
// allocation). Each message holds exactly the prefixes that fit.

import { Writer } from './_writer.ts'
import { encodeAttributes } from './attrs/index.ts'
import { writeNextHop } from './attrs/mp_reach.ts'
import { encodeError } from './errors.ts'
import { FAMILY_BY_KEY, type FamilyDef, familyOf } from './families.ts'
import { writeHeader } from './framing.ts'
import { outNlriSize, writeNlri } from './nlri.ts'
import type { CodecContext, OutNlri, PathAttributes } from './types.ts'
import { AFI_IPV6 } from './types.ts'

interface Plan {
  /** number of NLRI per message */
  counts: number[]
  /** NLRI bytes per message */
  bytes: number[]
}

function plan(nlri: readonly OutNlri[], fam: FamilyDef, addPath: boolean, budget: number): Plan {
  const counts: number[] = []
  const bytes: number[] = []
  let c = 0
  let b = 0
  for (let i = 0; i < nlri.length; i++) {
    const s = outNlriSize(nlri[i]!, fam, addPath)
    if (b + s > budget) {
      if (c === 0) throw encodeError(`Cannot encode UPDATE: one NLRI of ${s} bytes does not fit ${budget} bytes`)
      counts.push(c)
      bytes.push(b)
      c = 0
      b = 0
    }
    c++
    b += s
  }
  if (c > 0) {
    counts.push(c)
    bytes.push(b)
  }
  return { counts, bytes }
}

/**
 * Start an UPDATE whose path attributes (alen octets) begin with MP_REACH_NLRI or MP_UNREACH_NLRI
 * (`type`, a value of vlen octets, Extended Length above 255): header, no withdrawn routes,
 * attribute header. Returns where the attribute value goes.
 */
function startMpUpdate(out: Uint8Array, off: number, alen: number, type: number, vlen: number): number {
  writeHeader(out, off, 23 + alen, 2)
  out[off + 19] = 0
  out[off + 20] = 0
  out[off + 21] = alen >>> 8
  out[off + 22] = alen & 255
  off += 23
  const ext = vlen > 255
  out[off++] = ext ? 0x90 : 0x80
  out[off++] = type
  if (ext) out[off++] = vlen >>> 8
  out[off++] = vlen & 255
  return off
}

function familyFor(nlri: readonly OutNlri[]): FamilyDef {
  const n = nlri[0]!
  const v6 = typeof n === 'string' ? n.includes(':') : n.prefix.afi === AFI_IPV6
  return v6 ? FAMILY_BY_KEY['ipv6-unicast'] : FAMILY_BY_KEY['ipv4-unicast']
}

function attrsBlock(attrs: PathAttributes, ctx: CodecContext): Uint8Array {
  const rest: PathAttributes = { ...attrs }
  delete rest.mpReach
  delete rest.mpUnreach
  const w = new Writer(128)
  encodeAttributes(w, rest, ctx)
  return w.view().slice()
}

export function encodeUpdates(attrs: PathAttributes, nlri: readonly OutNlri[], ctx: CodecContext): Uint8Array[] {
  if (nlri.length === 0) return []
  if (attrs.mpUnreach) throw encodeError('Cannot pack announcements with MP_UNREACH_NLRI in the attributes (RFC 7606 5.1)')
  const fam = familyFor(nlri)
  const addPath = ctx.addPathTx.has(fam.key)
  const max = ctx.maxMessageLength
  const other = attrsBlock(attrs, ctx)
  const useMp = fam.afi === AFI_IPV6 || attrs.mpReach !== undefined
  if (!useMp) {
    if (attrs.nextHop === undefined) throw encodeError('Cannot pack IPv4 announcements without attrs.nextHop')
    const fixed = 23 + other.length
    const p = plan(nlri, fam, addPath, max - fixed)
    let total = 0
    for (const b of p.bytes) total += fixed + b
    const out = new Uint8Array(total)
    const msgs: Uint8Array[] = []
    let off = 0
    let k = 0
    for (let m = 0; m < p.counts.length; m++) {
      const len = fixed + p.bytes[m]!
      const start = off
      writeHeader(out, off, len, 2)
      out[off + 19] = 0
      out[off + 20] = 0
      out[off + 21] = other.length >>> 8
      out[off + 22] = other.length & 255
      out.set(other, off + 23)
      off += fixed
      for (let e = k + p.counts[m]!; k < e; k++) off = writeNlri(out, off, fam, nlri[k]!, addPath)
      if (off - start !== len) throw encodeError('Cannot encode UPDATE: prefix and length disagree')
      msgs.push(out.subarray(start, off))
    }
    return msgs
  }
  const mp = attrs.mpReach
  if (!mp) throw encodeError('Cannot pack IPv6 announcements without attrs.mpReach (its next hop)')
  const mpFam = familyOf(mp.afi, mp.safi)
  if (!mpFam || mpFam.key !== fam.key) throw encodeError(`Cannot pack ${fam.key} NLRI into MP_REACH_NLRI of AFI ${mp.afi} SAFI ${mp.safi}`)
  const hw = new Writer(48)
  hw.u16(mp.afi)
  hw.u8(mp.safi)
  writeNextHop(hw, mp.nextHop, mp.linkLocalNextHop)
  hw.u8(0)
  const head = hw.view().slice()
  const base = 23 + head.length + other.length // plus 3 or 4 for the attribute header
  const p = plan(nlri, fam, addPath, max - base - 4)
  let total = 0
  for (const b of p.bytes) total += base + (head.length + b > 255 ? 4 : 3) + b
  const out = new Uint8Array(total)
  const msgs: Uint8Array[] = []
  let off = 0
  let k = 0
  for (let m = 0; m < p.counts.length; m++) {
    const vlen = head.length + p.bytes[m]!
    const alen = (vlen > 255 ? 4 : 3) + vlen + other.length
    const len = 23 + alen
    const start = off
    off = startMpUpdate(out, off, alen, 14, vlen)
    out.set(head, off)
    off += head.length
    for (let e = k + p.counts[m]!; k < e; k++) off = writeNlri(out, off, fam, nlri[k]!, addPath)
    out.set(other, off)
    off += other.length
    if (off - start !== len) throw encodeError('Cannot encode UPDATE: prefix and length disagree')
    msgs.push(out.subarray(start, off))
  }
  return msgs
}

export function encodeWithdrawals(nlri: readonly OutNlri[], ctx: CodecContext): Uint8Array[] {
  if (nlri.length === 0) return []
  const fam = familyFor(nlri)
  const addPath = ctx.addPathTx.has(fam.key)
  const max = ctx.maxMessageLength
  const msgs: Uint8Array[] = []
  if (fam.afi !== AFI_IPV6) {
    const p = plan(nlri, fam, addPath, max - 23)
    let total = 0
    for (const b of p.bytes) total += 23 + b
    const out = new Uint8Array(total)
    let off = 0
    let k = 0
    for (let m = 0; m < p.counts.length; m++) {
      const wl = p.bytes[m]!
      const start = off
      writeHeader(out, off, 23 + wl, 2)
      out[off + 19] = wl >>> 8
      out[off + 20] = wl & 255
      off += 21
      for (let e = k + p.counts[m]!; k < e; k++) off = writeNlri(out, off, fam, nlri[k]!, addPath)
      out[off++] = 0
      out[off++] = 0
      msgs.push(out.subarray(start, off))
    }
    return msgs
  }
  const p = plan(nlri, fam, addPath, max - 23 - 4 - 3)
  let total = 0
  for (const b of p.bytes) total += 23 + (3 + b > 255 ? 4 : 3) + 3 + b
  const out = new Uint8Array(total)
  let off = 0
  let k = 0
  for (let m = 0; m < p.counts.length; m++) {
    const vlen = 3 + p.bytes[m]!
    const alen = (vlen > 255 ? 4 : 3) + vlen
    const start = off
    off = startMpUpdate(out, off, alen, 15, vlen)
    out[off++] = fam.afi >>> 8
    out[off++] = fam.afi & 255
    out[off++] = fam.safi
    for (let e = k + p.counts[m]!; k < e; k++) off = writeNlri(out, off, fam, nlri[k]!, addPath)
    msgs.push(out.subarray(start, off))
  }
  return msgs
}

/** the messages from encodeUpdates/encodeWithdrawals as one buffer (no copy when they are contiguous) */
export function joinMessages(msgs: readonly Uint8Array[]): Uint8Array {
  if (msgs.length === 0) return new Uint8Array(0)
  const first = msgs[0]!
  let total = 0
  let contiguous = true
  let expect = first.byteOffset
  for (const m of msgs) {
    if (m.buffer !== first.buffer || m.byteOffset !== expect) contiguous = false
    expect = m.byteOffset + m.length
    total += m.length
  }
  if (contiguous) return new Uint8Array(first.buffer, first.byteOffset, total)
  const out = new Uint8Array(total)
  let off = 0
  for (const m of msgs) {
    out.set(m, off)
    off += m.length
  }
  return out
}
