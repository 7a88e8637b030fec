// Porter's BGP wire codec (pure: no sockets, timers or files). Entry points:
//
//   encode(msg, ctx, opts?)        -> Uint8Array   whole message, header included
//   decode(bytes, ctx)             -> BgpMessage   one whole message; throws BgpWireError
//   decodeDetailed(bytes, ctx)     -> DecodeResult the same plus RFC 7606 errors and the layout
//   negotiate(localOpen, remoteOpen) -> Negotiated (ctx, families, hold time, ADD-PATH, GR)
//   defaultContext()               -> CodecContext before the OPEN exchange
//   encodeUpdates / encodeWithdrawals  pack many NLRI per UPDATE (pack.ts)
//   FrameReader / splitMessages    stream framing (framing.ts)
//
// decode() of an UPDATE returns the message after RFC 7606 handling (discarded attributes
// gone, treat-as-withdraw turned into withdrawals) and throws only for session-reset errors;
// use decodeDetailed() to see the errors (update.ts explains each case). Every decode error is
// a BgpWireError: send err.toNotification() when err.action is 'session-reset'.
// encode() throws a PorterError (code PORTER_ERR_BGP_WIRE, not a BgpWireError) for a message
// that cannot be encoded: a bad address, a value out of range, more than the maximum length.
//
// Canonical form (what decode returns, so what decode(encode(m)) gives back): addresses as in
// internal/ip, prefixes with host bits clear, pathId only where ADD-PATH applies, optional
// fields absent rather than undefined, empty lists (communities ...) absent, attrs.unknown in
// ascending type order with the Partial bit set on optional transitive ones.

import { Writer } from './_writer.ts'
import type { AttrLayoutEntry } from './attrs/index.ts'
import { BgpWireError, encodeError, type WireAction } from './errors.ts'
import { parseHeader, writeHeader } from './framing.ts'
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MsgType } from './iana.ts'
import { decodeNotification, ErrCode, HeaderSubcode, writeNotification } from './notification.ts'
import { decodeOpen, type OpenLayout, writeOpenBody } from './open.ts'
import { decodeRouteRefresh, writeRouteRefreshBody } from './route-refresh.ts'
import type { BgpMessage, CodecContext } from './types.ts'
import { decodeUpdate, writeUpdateBody } from './update.ts'
import { receiveLimit } from './negotiate.ts'
import { u16Bytes } from './_writer.ts'

export interface MessageLayout {
  /** UPDATE: attribute order and raw flags */
  update?: AttrLayoutEntry[]
  /** OPEN: capability grouping */
  open?: OpenLayout
}

export interface EncodeOptions {
  /** reproduce a decoded message's layout byte for byte (golden tests) */
  layout?: MessageLayout
}

export interface DecodeResult {
  msg: BgpMessage
  /** RFC 7606 errors that did not reset the session (UPDATE only) */
  errors: BgpWireError[]
  action: WireAction | 'none'
  treatAsWithdraw: boolean
  /** families to disable (afisafi-disable) */
  disabled: { afi: number; safi: number }[]
  layout: MessageLayout
}

const TYPE_CODE: Record<BgpMessage['type'], number> = {
  open: MsgType.OPEN,
  update: MsgType.UPDATE,
  notification: MsgType.NOTIFICATION,
  keepalive: MsgType.KEEPALIVE,
  'route-refresh': MsgType.ROUTE_REFRESH,
}

export function encode(msg: BgpMessage, ctx: CodecContext, opts?: EncodeOptions): Uint8Array {
  const w = new Writer(msg.type === 'update' ? 512 : 64)
  w.reserve(HEADER_LENGTH)
  switch (msg.type) {
    case 'open':
      writeOpenBody(w, msg, opts?.layout?.open)
      break
    case 'update':
      writeUpdateBody(w, msg, ctx, opts?.layout?.update)
      break
    case 'notification':
      w.ensure(2 + msg.data.length)
      w.pos = writeNotification(msg, w.buf, w.pos)
      break
    case 'keepalive':
      break
    case 'route-refresh':
      writeRouteRefreshBody(w, msg)
      break
    default:
      throw encodeError(`Cannot encode message type "${(msg as { type: unknown }).type}"`)
  }
  const len = w.pos
  const max = msg.type === 'open' || msg.type === 'keepalive' ? MAX_MESSAGE_LENGTH : ctx.maxMessageLength
  if (len > max) throw encodeError(`Cannot encode ${msg.type.toUpperCase()}: ${len} bytes exceed the maximum message length ${max}`)
  writeHeader(w.buf, 0, len, TYPE_CODE[msg.type])
  return w.buf.slice(0, len)
}

export function decodeDetailed(bytes: Uint8Array, ctx: CodecContext): DecodeResult {
  if (bytes.length < HEADER_LENGTH) {
    throw new BgpWireError(`Bad message length: ${bytes.length} bytes is shorter than the header`, {
      bgpCode: ErrCode.MESSAGE_HEADER, subcode: HeaderSubcode.BAD_MESSAGE_LENGTH, data: u16Bytes(bytes.length),
    })
  }
  const h = parseHeader(bytes, 0, receiveLimit(ctx))
  if (h.length !== bytes.length) {
    throw new BgpWireError(`Bad message length: the header says ${h.length} bytes, the message has ${bytes.length}`, {
      bgpCode: ErrCode.MESSAGE_HEADER, subcode: HeaderSubcode.BAD_MESSAGE_LENGTH, data: u16Bytes(h.length),
    })
  }
  const body = bytes.subarray(HEADER_LENGTH, h.length)
  const none = { errors: [], action: 'none' as const, treatAsWithdraw: false, disabled: [] }
  switch (h.type) {
    case MsgType.OPEN: {
      const r = decodeOpen(body)
      return { msg: r.msg, ...none, layout: { open: r.layout } }
    }
    case MsgType.UPDATE: {
      const r = decodeUpdate(body, ctx)
      return { msg: r.msg, errors: r.errors, action: r.action, treatAsWithdraw: r.treatAsWithdraw, disabled: r.disabled, layout: { update: r.layout } }
    }
    case MsgType.NOTIFICATION:
      return { msg: decodeNotification(body), ...none, layout: {} }
    case MsgType.KEEPALIVE:
      return { msg: { type: 'keepalive' }, ...none, layout: {} }
    default:
      return { msg: decodeRouteRefresh(body), ...none, layout: {} }
  }
}

export function decode(bytes: Uint8Array, ctx: CodecContext): BgpMessage {
  return decodeDetailed(bytes, ctx).msg
}

export * from './types.ts'
export { BgpWireError, isBgpWireError, ACTION_STRENGTH, type WireAction, type BgpWireErrorInit } from './errors.ts'
export * from './iana.ts'
export * from './notification.ts'
export {
  decodeOpen, writeOpenBody, makeCapabilities, makeOpen, openMessage, asnOf, type CapabilityOptions, type OpenLayout, type OpenOptions,
} from './open.ts'
export { decodeCapabilities, writeCapability, encodeCapabilityList, unsupportedCapabilityNotification, CAPABILITIES } from './capabilities.ts'
export { decodeUpdate, writeUpdateBody, encodePathAttributes, type UpdateDecodeResult } from './update.ts'
export { ATTRS, ATTR_BY_TYPE, type AttrDef, type AttrLayoutEntry } from './attrs/index.ts'
export { mergeAsPath } from './attrs/as4_path.ts'
export { community, WELL_KNOWN_COMMUNITIES } from './attrs/communities.ts'
export { decodeRouteRefresh, routeRefresh, endOfRib, endOfRibFamily, RouteRefreshSubtype } from './route-refresh.ts'
export { KEEPALIVE, keepaliveBytes } from './keepalive.ts'
export { FrameReader, parseHeader, splitMessages, writeHeader, type MessageHeader } from './framing.ts'
export { negotiate, defaultContext, familiesOf, receiveLimit, type Negotiated, type GracefulRestartInfo } from './negotiate.ts'
export { encodeUpdates, encodeWithdrawals, joinMessages } from './pack.ts'
export { FAMILIES, FAMILY_BY_KEY, familyOf, familyKey, type FamilyDef } from './families.ts'
export { nlriSize, nlriListSize, decodeNlriList, hostPrefix, toNlri } from './nlri.ts'
