// UPDATE message (RFC 4271 4.3) with RFC 7606 error handling.
//
// body layout (after the 19-byte header):
//   0            withdrawn routes length (2)
//   2            withdrawn routes (IPv4 unicast NLRI, path ids per ctx.addPathRx)
//   2+W          total path attribute length (2)
//   4+W          path attributes: flags (1) type (1) length (1, or 2 with Extended Length) value
//   4+W+A        NLRI (IPv4 unicast) to the end of the message
//
// decodeUpdate(body, ctx) -> UpdateDecodeResult
//   Throws BgpWireError only for errors whose action is 'session-reset' (lengths that do not
//   add up, a bad prefix in the withdrawn/NLRI fields, MP_REACH/MP_UNREACH malformed,
//   duplicated or with wrong flags, and RFC 7606 5.2: a treat-as-withdraw error in an UPDATE
//   that carries path attributes but no reachable NLRI). Every other error is returned in
//   `errors`, and the message is returned already handled:
//     attribute-discard  the attribute is missing from msg.attrs (duplicates: the first one stays)
//     treat-as-withdraw  treatAsWithdraw = true; msg has no NLRI and no attributes any more:
//                        every IPv4 NLRI is in msg.withdrawn and every MP_REACH NLRI is in
//                        msg.attrs.mpUnreach (or msg.withdrawn for IPv4), next to what the
//                        UPDATE withdrew anyway
//     afisafi-disable    an MP attribute of a family the codec does not know was dropped;
//                        `disabled` lists the AFI/SAFI (RFC 4760 7: drop that family's routes)
//   `action` is the strongest action among `errors` ('none' when there is none).
//   `layout` is the order and raw flags of the attributes as received; pass it to
//   encode(..., { layout }) to reproduce captured bytes exactly (golden tests).
//
// Per-attribute handling (RFC 7606 7, RFC 6793, RFC 8092): see each attrs/<attr>.ts header.
// Structural rules handled here:
//   3.c  Optional/Transitive bits that conflict with the attribute -> the attribute's flagsAction
//   3.d  missing ORIGIN/AS_PATH (and NEXT_HOP for the IPv4 NLRI field) with NLRI present -> treat-as-withdraw
//   3.g  a repeated MP_REACH/MP_UNREACH -> session-reset; any other repeat -> later ones discarded
//   4    an attribute overrunning the Total Attribute Length, or fewer than 3 (4) octets left
//        -> treat-as-withdraw, the NLRI found through the Total Attribute Length
//        unrecognized well-known attribute (Optional bit clear) -> treat-as-withdraw (as BIRD)
//        unrecognized optional attribute -> kept in attrs.unknown with its flags

import { Writer, copyBytes, u16At } from './_writer.ts'
import { ATTR_BY_TYPE, type AttrLayoutEntry, encodeAttributes } from './attrs/index.ts'
import { attrError } from './attrs/_def.ts'
import { ACTION_STRENGTH, BgpWireError, encodeError, type WireAction } from './errors.ts'
import { FAMILY_BY_KEY } from './families.ts'
import { decodeNlriList, nlriListSize, writeNlriList } from './nlri.ts'
import { ErrCode, UpdateSubcode } from './notification.ts'
import type { CodecContext, MpUnreach, Nlri, PathAttributes, UpdateMessage } from './types.ts'
import { AFI_IPV4 } from './types.ts'

export interface UpdateDecodeResult {
  /** the message after RFC 7606 handling (see the file header) */
  msg: UpdateMessage
  /** errors that did not reset the session, in the order found */
  errors: BgpWireError[]
  /** strongest action among `errors` */
  action: WireAction | 'none'
  /** the UPDATE was treated as a withdrawal of all its NLRI */
  treatAsWithdraw: boolean
  /** families whose MP attribute could not be handled (afisafi-disable) */
  disabled: { afi: number; safi: number }[]
  /** attributes in wire order with their raw flags */
  layout: AttrLayoutEntry[]
}

const MANDATORY_NAMES: Record<number, string> = { 1: 'ORIGIN', 2: 'AS_PATH', 3: 'NEXT_HOP' }

function sessionReset(message: string, subcode: number, data?: Uint8Array): BgpWireError {
  return new BgpWireError(message, { bgpCode: ErrCode.UPDATE_MESSAGE, subcode, data: data ?? new Uint8Array(0), action: 'session-reset' })
}

export function decodeUpdate(body: Uint8Array, ctx: CodecContext): UpdateDecodeResult {
  const n = body.length
  if (n < 4) throw sessionReset(`Malformed UPDATE: body of ${n} bytes is shorter than 4`, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST)
  const wlen = u16At(body, 0)
  if (4 + wlen > n) {
    throw sessionReset(`Malformed UPDATE: withdrawn routes length ${wlen} overruns the message`, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST)
  }
  const ipv4 = FAMILY_BY_KEY['ipv4-unicast']
  const ap4 = ctx.addPathRx.has('ipv4-unicast')
  const withdrawn = decodeNlriList(body, 2, 2 + wlen, ipv4, ap4, (r) =>
    sessionReset(`Malformed UPDATE: withdrawn routes: ${r}`, UpdateSubcode.INVALID_NETWORK_FIELD),
  )
  const alen = u16At(body, 2 + wlen)
  const aStart = 4 + wlen
  const aEnd = aStart + alen
  if (aEnd > n) {
    throw sessionReset(
      `Malformed UPDATE: total path attribute length ${alen} overruns the message`,
      UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
    )
  }

  const attrs: PathAttributes = {}
  const errors: BgpWireError[] = []
  const layout: AttrLayoutEntry[] = []
  const seen = new Uint8Array(256)
  const erred = new Uint8Array(256)
  let framingError = false
  let hasOtherThanUnreach = false
  let off = aStart
  while (off < aEnd) {
    const rem = aEnd - off
    const flags = body[off]!
    const ext = (flags & 0x10) !== 0
    if (rem < 3 || (ext && rem < 4)) {
      errors.push(new BgpWireError(`Malformed UPDATE: ${rem} bytes left in the path attributes, too few for an attribute`, {
        bgpCode: ErrCode.UPDATE_MESSAGE, subcode: UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, action: 'treat-as-withdraw',
      }))
      framingError = true
      hasOtherThanUnreach = true
      break
    }
    const type = body[off + 1]!
    const len = ext ? u16At(body, off + 2) : body[off + 2]!
    const vStart = off + (ext ? 4 : 3)
    const vEnd = vStart + len
    if (vEnd > aEnd) {
      errors.push(new BgpWireError(`Malformed UPDATE: attribute type ${type} of length ${len} overruns the path attributes`, {
        bgpCode: ErrCode.UPDATE_MESSAGE, subcode: UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, action: 'treat-as-withdraw',
        attrType: type, data: copyBytes(body, off, aEnd),
      }))
      framingError = true
      hasOtherThanUnreach = true
      break
    }
    const raw = body.subarray(off, vEnd)
    const data = body.subarray(vStart, vEnd)
    off = vEnd
    layout.push({ type, flags })
    if (type !== 15) hasOtherThanUnreach = true
    if (seen[type]) {
      if (type === 14 || type === 15) {
        throw sessionReset(`Malformed UPDATE: ${type === 14 ? 'MP_REACH_NLRI' : 'MP_UNREACH_NLRI'} appears more than once`,
          UpdateSubcode.MALFORMED_ATTRIBUTE_LIST)
      }
      errors.push(new BgpWireError(`Malformed UPDATE: attribute type ${type} appears more than once; the later one is discarded`, {
        bgpCode: ErrCode.UPDATE_MESSAGE, subcode: UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, action: 'attribute-discard',
        attrType: type, data: new Uint8Array(raw),
      }))
      continue
    }
    seen[type] = 1
    const def = ATTR_BY_TYPE[type]
    const env = { ctx, flags, raw }
    if (!def) {
      if ((flags & 0x80) === 0) {
        errors.push(attrError({ type, name: `type ${type}` }, env, 'unrecognized well-known attribute',
          UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, 'treat-as-withdraw'))
        erred[type] = 1
      } else {
        ;(attrs.unknown ??= []).push({ flags: flags & 0xe0, type, data: copyBytes(data, 0, data.length) })
      }
      continue
    }
    if ((flags & 0xc0) !== def.flags) {
      const e = attrError(def, env, `flags 0x${flags.toString(16)} conflict with the attribute's 0x${def.flags.toString(16)}`,
        UpdateSubcode.ATTRIBUTE_FLAGS_ERROR, def.flagsAction)
      if (e.action === 'session-reset') throw e
      errors.push(e)
      erred[type] = 1
      continue
    }
    try {
      def.decode(data, attrs, env)
    } catch (e) {
      if (!(e instanceof BgpWireError) || e.action === 'session-reset') throw e
      errors.push(e)
      erred[type] = 1
    }
  }

  const nlri = decodeNlriList(body, aEnd, n, ipv4, ap4, (r) =>
    sessionReset(`Malformed UPDATE: NLRI: ${r}`, UpdateSubcode.INVALID_NETWORK_FIELD),
  )

  const mpNlri = attrs.mpReach !== undefined && attrs.mpReach.nlri.length > 0
  const reachable = nlri.length > 0 || mpNlri
  if (!framingError && reachable) {
    const need = nlri.length > 0 ? [1, 2, 3] : [1, 2]
    for (const t of need) {
      if (!seen[t]) {
        errors.push(new BgpWireError(`Malformed UPDATE: the well-known attribute ${MANDATORY_NAMES[t]} is missing`, {
          bgpCode: ErrCode.UPDATE_MESSAGE, subcode: UpdateSubcode.MISSING_WELL_KNOWN_ATTRIBUTE, action: 'treat-as-withdraw',
          attrType: t, data: Uint8Array.of(t),
        }))
      }
    }
  }

  let action: WireAction | 'none' = 'none'
  let treatAsWithdraw = false
  const disabled: { afi: number; safi: number }[] = []
  for (const e of errors) {
    if (action === 'none' || ACTION_STRENGTH[e.action] > ACTION_STRENGTH[action]) action = e.action
    if (e.action === 'treat-as-withdraw') treatAsWithdraw = true
    if (e.action === 'afisafi-disable' && e.afi !== undefined && e.safi !== undefined) disabled.push({ afi: e.afi, safi: e.safi })
  }

  // RFC 7606 5.2: path attributes but no reachable NLRI, and an error stronger than attribute-discard
  if (treatAsWithdraw && !reachable && hasOtherThanUnreach) {
    const e = errors.find((x) => x.action === 'treat-as-withdraw')!
    throw new BgpWireError(`${e.message}, in an UPDATE without reachable NLRI (RFC 7606 5.2)`, {
      bgpCode: e.bgpCode, subcode: e.subcode, data: e.data, action: 'session-reset', ...(e.attrType === undefined ? {} : { attrType: e.attrType }),
    })
  }

  let msg: UpdateMessage
  if (treatAsWithdraw) {
    msg = asWithdrawal(withdrawn, nlri, attrs)
  } else {
    msg = { type: 'update', withdrawn, attrs, nlri }
  }
  return { msg, errors, action, treatAsWithdraw, disabled, layout }
}

/** every NLRI of the UPDATE as a withdrawal, nothing else */
function asWithdrawal(withdrawn: Nlri[], nlri: Nlri[], attrs: PathAttributes): UpdateMessage {
  const w4 = withdrawn.concat(nlri)
  let unreach: MpUnreach | undefined = attrs.mpUnreach
  const reach = attrs.mpReach
  if (reach && reach.nlri.length > 0) {
    if (!unreach) {
      unreach = { afi: reach.afi, safi: reach.safi, withdrawn: reach.nlri }
    } else if (unreach.afi === reach.afi && unreach.safi === reach.safi) {
      unreach = { afi: unreach.afi, safi: unreach.safi, withdrawn: unreach.withdrawn.concat(reach.nlri) }
    } else if (reach.afi === AFI_IPV4) {
      // only unicast families exist: the IPv4 ones go to the withdrawn routes field
      for (const x of reach.nlri) w4.push(x)
    } else {
      for (const x of unreach.withdrawn) w4.push(x)
      unreach = { afi: reach.afi, safi: reach.safi, withdrawn: reach.nlri }
    }
  }
  return { type: 'update', withdrawn: w4, attrs: unreach ? { mpUnreach: unreach } : {}, nlri: [] }
}

/** write the UPDATE body (after the header) */
export function writeUpdateBody(w: Writer, m: UpdateMessage, ctx: CodecContext, layout?: readonly AttrLayoutEntry[]): void {
  const ipv4 = FAMILY_BY_KEY['ipv4-unicast']
  const ap4 = ctx.addPathTx.has('ipv4-unicast')
  const wsize = nlriListSize(m.withdrawn, ap4)
  if (wsize > 0xffff) throw encodeError(`Cannot encode UPDATE: ${wsize} bytes of withdrawn routes`)
  w.u16(wsize)
  w.ensure(wsize)
  w.pos = writeNlriList(w.buf, w.pos, ipv4, m.withdrawn, ap4)
  const al = w.reserve(2)
  encodeAttributes(w, m.attrs, ctx, layout)
  const alen = w.pos - al - 2
  if (alen > 0xffff) throw encodeError(`Cannot encode UPDATE: ${alen} bytes of path attributes`)
  w.setU16(al, alen)
  w.ensure(nlriListSize(m.nlri, ap4))
  w.pos = writeNlriList(w.buf, w.pos, ipv4, m.nlri, ap4)
}

/** the encoded path attributes of `attrs` alone (no header), e.g. to compare attribute sets */
export function encodePathAttributes(attrs: PathAttributes, ctx: CodecContext): Uint8Array {
  const w = new Writer(64)
  encodeAttributes(w, attrs, ctx)
  return w.view().slice()
}

