// OPEN message (RFC 4271 4.2), with RFC 9072 extended optional parameters length.
//
// body layout (after the 19-byte header):
//   0    version (1) = 4
//   1    my autonomous system (2) (AS_TRANS 23456 when the AS needs 4 octets)
//   3    hold time (2)
//   5    BGP identifier (4)
//   9    optional parameters length (1)
//   10   optional parameters: type (1) length (1) value; type 2 = capabilities (capabilities.ts)
// RFC 9072: if the length octet is non-zero and the first parameter type is 255, then
//   10 = 255 (type), 11 = extended length (2), and every parameter has a 2-octet length.
//
// Encoding puts each capability in its own optional parameter (as FRR and GoBGP do), other
// parameters after them, and switches to the RFC 9072 form when the parameters exceed 255
// octets. `OpenLayout` (from decodeOpen) reproduces another grouping (BIRD puts all in one).
//
// Errors (BgpWireError, all session-reset, RFC 4271 6.2):
//   version != 4                       OPEN / Unsupported Version Number, data = 4 as 2 octets
//   hold time 1 or 2                   OPEN / Unacceptable Hold Time
//   BGP identifier 0.0.0.0 (RFC 6286)  OPEN / Bad BGP Identifier
//   lengths that do not add up, malformed capability   OPEN / Unspecific

import { Writer, copyBytes, u16At, u16Bytes } from './_writer.ts'
import { formatIpv4Bytes, parseIpv4 } from '../../ip/index.ts'
import { decodeCapabilities, writeCapability } from './capabilities.ts'
import { BgpWireError, encodeError } from './errors.ts'
import { AS_TRANS, BGP_VERSION } from './iana.ts'
import { ErrCode, OpenSubcode } from './notification.ts'
import type { AddPathMode, Capability, FamilyKey, OpenMessage } from './types.ts'
import { FAMILY_BY_KEY } from './families.ts'

export interface OpenLayout {
  /** number of capabilities in each capabilities optional parameter, in order */
  capabilityGroups: number[]
  /** the RFC 9072 extended form was used */
  extendedParams: boolean
}

function openError(message: string, subcode: number, data?: Uint8Array): BgpWireError {
  return new BgpWireError(message, { bgpCode: ErrCode.OPEN_MESSAGE, subcode, data: data ?? new Uint8Array(0) })
}

export function decodeOpen(body: Uint8Array): { msg: OpenMessage; layout: OpenLayout } {
  const n = body.length
  if (n < 10) throw openError(`Malformed OPEN: body of ${n} bytes is shorter than 10`, OpenSubcode.UNSPECIFIC)
  const version = body[0]!
  if (version !== BGP_VERSION) {
    throw openError(`Unsupported BGP version ${version} in OPEN (Porter speaks 4)`, OpenSubcode.UNSUPPORTED_VERSION_NUMBER, u16Bytes(BGP_VERSION))
  }
  const myAs = u16At(body, 1)
  const holdTime = u16At(body, 3)
  const routerId = formatIpv4Bytes(body, 5)
  if (holdTime === 1 || holdTime === 2) {
    throw openError(`Unacceptable hold time ${holdTime} in OPEN (0 or at least 3)`, OpenSubcode.UNACCEPTABLE_HOLD_TIME)
  }
  if (routerId === '0.0.0.0') throw openError('Bad BGP identifier "0.0.0.0" in OPEN', OpenSubcode.BAD_BGP_IDENTIFIER)
  const optLen = body[9]!
  let off = 10
  let end = 10 + optLen
  let extended = false
  if (optLen > 0 && n > 10 && body[10] === 255) {
    if (n < 13) throw openError('Malformed OPEN: extended optional parameters length is cut short', OpenSubcode.UNSPECIFIC)
    extended = true
    end = 13 + u16At(body, 11)
    off = 13
  }
  if (end !== n) {
    throw openError(`Malformed OPEN: optional parameters length ${end - off} does not match the message (${n - off} bytes)`, OpenSubcode.UNSPECIFIC)
  }
  const capabilities: Capability[] = []
  const otherParams: { type: number; data: Uint8Array }[] = []
  const groups: number[] = []
  const hdr = extended ? 3 : 2
  while (off < end) {
    if (off + hdr > end) throw openError(`Malformed OPEN: optional parameter header at offset ${off} is cut short`, OpenSubcode.UNSPECIFIC)
    const type = body[off]!
    const len = extended ? u16At(body, off + 1) : body[off + 1]!
    const vStart = off + hdr
    if (vStart + len > end) throw openError(`Malformed OPEN: optional parameter of length ${len} overruns the parameters`, OpenSubcode.UNSPECIFIC)
    const data = body.subarray(vStart, vStart + len)
    if (type === 2) groups.push(decodeCapabilities(data, capabilities))
    else otherParams.push({ type, data: copyBytes(data, 0, data.length) })
    off = vStart + len
  }
  const msg: OpenMessage = { type: 'open', version, myAs, holdTime, routerId, capabilities }
  if (otherParams.length > 0) msg.otherParams = otherParams
  return { msg, layout: { capabilityGroups: groups, extendedParams: extended } }
}

export function writeOpenBody(w: Writer, m: OpenMessage, layout?: OpenLayout): void {
  const ip = parseIpv4(m.routerId)
  if (ip < 0) throw encodeError(`Cannot encode OPEN: router id "${m.routerId}" is not an IPv4 address`)
  if (!(m.myAs >= 0 && m.myAs <= 0xffff)) throw encodeError(`Cannot encode OPEN: "My AS" ${m.myAs} does not fit 2 octets (use AS_TRANS)`)
  if (!(m.holdTime >= 0 && m.holdTime <= 0xffff)) throw encodeError(`Cannot encode OPEN: hold time "${m.holdTime}"`)
  w.u8(m.version)
  w.u16(m.myAs)
  w.u16(m.holdTime)
  w.u32(ip)
  // build the parameters first: their size decides between the plain and RFC 9072 forms
  const params = new Writer(128)
  const groups: Capability[][] = []
  const caps = m.capabilities
  let i = 0
  for (const g of layout?.capabilityGroups ?? []) {
    if (i >= caps.length) break
    groups.push(caps.slice(i, i + g))
    i += g
  }
  for (; i < caps.length; i++) groups.push([caps[i]!])
  const plain: { type: number; data: Uint8Array }[] = []
  for (const g of groups) {
    const cw = new Writer(32)
    for (const c of g) writeCapability(cw, c)
    plain.push({ type: 2, data: cw.view().slice() })
  }
  for (const p of m.otherParams ?? []) plain.push(p)
  let total = 0
  for (const p of plain) total += 2 + p.data.length
  // a first parameter of type 255 would read as the RFC 9072 marker: use the extended form then
  const extended = layout?.extendedParams === true || total > 255 || plain.some((p) => p.data.length > 255) || plain[0]?.type === 255
  for (const p of plain) {
    params.u8(p.type)
    if (extended) params.u16(p.data.length)
    else params.u8(p.data.length)
    params.bytes(p.data)
  }
  const pv = params.view()
  if (extended) {
    if (pv.length > 0xffff) throw encodeError(`Cannot encode OPEN: ${pv.length} bytes of optional parameters`)
    w.u8(255)
    w.u8(255)
    w.u16(pv.length)
  } else {
    w.u8(pv.length)
  }
  w.bytes(pv)
}

const ALL_FAMILIES: readonly FamilyKey[] = ['ipv4-unicast', 'ipv6-unicast']

/** The capabilities Porter advertises */
export interface CapabilityOptions {
  /** our AS (4-octet capable; the 2-octet field gets AS_TRANS above 65535) */
  asn: number
  /** default IPv4 and IPv6 unicast */
  families?: readonly FamilyKey[]
  /** default true */
  routeRefresh?: boolean
  extendedMessage?: boolean
  /** ADD-PATH mode per family, or one mode for every family; default none */
  addPath?: AddPathMode | Partial<Record<FamilyKey, AddPathMode>>
  gracefulRestart?: {
    restartTime: number
    /** R bit: we are restarting now */
    restarting?: boolean
    /** N bit (RFC 8538) */
    notification?: boolean
    /** families whose forwarding state we keep across a restart */
    forwardingPreserved?: readonly FamilyKey[]
  }
}

/** What Porter advertises in its OPEN */
export interface OpenOptions extends CapabilityOptions {
  holdTime: number
  routerId: string
}

/**
 * Porter's capabilities, in ascending code order: multiprotocol per family, route refresh,
 * extended message, graceful restart, 4-octet AS, ADD-PATH.
 */
export function makeCapabilities(o: CapabilityOptions): Capability[] {
  const families = o.families ?? ALL_FAMILIES
  const caps: Capability[] = []
  for (const f of families) caps.push({ code: 1, kind: 'multiprotocol', afi: FAMILY_BY_KEY[f].afi, safi: FAMILY_BY_KEY[f].safi })
  if (o.routeRefresh !== false) caps.push({ code: 2, kind: 'route-refresh' })
  if (o.extendedMessage) caps.push({ code: 6, kind: 'extended-message' })
  if (o.gracefulRestart) {
    const gr = o.gracefulRestart
    const keep = new Set(gr.forwardingPreserved ?? [])
    caps.push({
      code: 64,
      kind: 'graceful-restart',
      restarting: gr.restarting === true,
      notification: gr.notification === true,
      restartTime: gr.restartTime,
      families: families.map((f) => ({ afi: FAMILY_BY_KEY[f].afi, safi: FAMILY_BY_KEY[f].safi, forwardingPreserved: keep.has(f) })),
    })
  }
  caps.push({ code: 65, kind: 'as4', asn: o.asn })
  const ap = o.addPath
  const modeOf = (f: FamilyKey): AddPathMode | undefined => (typeof ap === 'string' ? ap : ap?.[f])
  const apFamilies = families.filter((f) => modeOf(f) !== undefined)
  if (apFamilies.length > 0) {
    caps.push({
      code: 69,
      kind: 'add-path',
      families: apFamilies.map((f) => ({ afi: FAMILY_BY_KEY[f].afi, safi: FAMILY_BY_KEY[f].safi, mode: modeOf(f)! })),
    })
  }
  return caps
}

/** An OPEN carrying `capabilities`. "My AS" is AS_TRANS when `asn` needs 4 octets (RFC 6793). */
export function openMessage(o: { asn: number; holdTime: number; routerId: string; capabilities: Capability[] }): OpenMessage {
  return {
    type: 'open',
    version: BGP_VERSION,
    myAs: o.asn > 0xffff ? AS_TRANS : o.asn,
    holdTime: o.holdTime,
    routerId: o.routerId,
    capabilities: o.capabilities,
  }
}

/** Build Porter's OPEN (capabilities from makeCapabilities) */
export function makeOpen(o: OpenOptions): OpenMessage {
  return openMessage({ asn: o.asn, holdTime: o.holdTime, routerId: o.routerId, capabilities: makeCapabilities(o) })
}

/** the speaker's real AS: the 4-octet AS capability when present, else "My AS" */
export function asnOf(m: OpenMessage): number {
  for (const c of m.capabilities) if (c.kind === 'as4') return c.asn
  return m.myAs
}
