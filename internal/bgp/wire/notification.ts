// NOTIFICATION message (RFC 4271 4.5): error code, subcode, data. All codes and subcodes as
// named constants (RFC 4271, 4486, 5492, 6608, 7313, 8538, 9234, 9384), and the RFC 8203 /
// RFC 9003 shutdown communication carried in Cease subcodes 2 and 4.
//
// body layout (after the 19-byte header):
//   0      error code
//   1      error subcode
//   2..    data

import { BgpWireError } from './errors.ts'
import type { NotificationMessage } from './types.ts'

export const ErrCode = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH: 7,
} as const

export const HeaderSubcode = {
  UNSPECIFIC: 0,
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const

export const OpenSubcode = {
  UNSPECIFIC: 0,
  UNSUPPORTED_VERSION_NUMBER: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  /** deprecated (RFC 4271) */
  AUTHENTICATION_FAILURE: 5,
  UNACCEPTABLE_HOLD_TIME: 6,
  /** RFC 5492 */
  UNSUPPORTED_CAPABILITY: 7,
  /** RFC 9234 */
  ROLE_MISMATCH: 11,
} as const

export const UpdateSubcode = {
  UNSPECIFIC: 0,
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN_ATTRIBUTE: 6,
  /** deprecated (RFC 4271) */
  AS_ROUTING_LOOP: 7,
  INVALID_NEXT_HOP_ATTRIBUTE: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const

/** RFC 6608 */
export const FsmSubcode = {
  UNSPECIFIED: 0,
  UNEXPECTED_MESSAGE_IN_OPENSENT: 1,
  UNEXPECTED_MESSAGE_IN_OPENCONFIRM: 2,
  UNEXPECTED_MESSAGE_IN_ESTABLISHED: 3,
} as const

/** RFC 4486, RFC 8538 (hard reset), RFC 9384 (BFD down) */
export const CeaseSubcode = {
  UNSPECIFIC: 0,
  MAXIMUM_PREFIXES_REACHED: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9,
  BFD_DOWN: 10,
} as const

/** RFC 7313 */
export const RouteRefreshSubcode = {
  INVALID_MESSAGE_LENGTH: 1,
} as const

export function decodeNotification(body: Uint8Array): NotificationMessage {
  if (body.length < 2) {
    throw new BgpWireError(`Cannot decode NOTIFICATION: body has ${body.length} bytes, expected at least 2`, {
      bgpCode: ErrCode.MESSAGE_HEADER,
      subcode: HeaderSubcode.BAD_MESSAGE_LENGTH,
      data: u16(body.length + 19),
    })
  }
  return { type: 'notification', code: body[0]!, subcode: body[1]!, data: new Uint8Array(body.subarray(2)) }
}

export function notificationBodyLength(m: NotificationMessage): number {
  return 2 + m.data.length
}

export function writeNotification(m: NotificationMessage, out: Uint8Array, off: number): number {
  out[off] = m.code & 255
  out[off + 1] = m.subcode & 255
  out.set(m.data, off + 2)
  return off + 2 + m.data.length
}

/** RFC 9003: the shutdown communication is at most 255 octets of UTF-8 */
export const SHUTDOWN_COMMUNICATION_MAX = 255

const utf8 = new TextEncoder()

/**
 * Data field of a Cease / Administrative Shutdown or Reset carrying `text` (RFC 8203/9003):
 * one length octet, then UTF-8. Text longer than 255 octets is cut at a character boundary.
 */
export function encodeShutdownCommunication(text: string): Uint8Array {
  let bytes = utf8.encode(text)
  if (bytes.length > SHUTDOWN_COMMUNICATION_MAX) {
    let end = SHUTDOWN_COMMUNICATION_MAX
    // do not cut inside a multi-byte sequence (continuation bytes are 10xxxxxx)
    while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--
    bytes = bytes.subarray(0, end)
  }
  const out = new Uint8Array(1 + bytes.length)
  out[0] = bytes.length
  out.set(bytes, 1)
  return out
}

/** A Cease NOTIFICATION with a shutdown communication (subcode 2 shutdown or 4 reset). */
export function shutdownNotification(
  subcode: typeof CeaseSubcode.ADMINISTRATIVE_SHUTDOWN | typeof CeaseSubcode.ADMINISTRATIVE_RESET,
  text: string,
): NotificationMessage {
  return { type: 'notification', code: ErrCode.CEASE, subcode, data: encodeShutdownCommunication(text) }
}

/**
 * The shutdown communication of a Cease subcode 2/4 NOTIFICATION, or undefined when the
 * message carries none or a malformed one (bad length octet or invalid UTF-8).
 */
export function decodeShutdownCommunication(m: NotificationMessage): string | undefined {
  if (m.code !== ErrCode.CEASE) return undefined
  if (m.subcode !== CeaseSubcode.ADMINISTRATIVE_SHUTDOWN && m.subcode !== CeaseSubcode.ADMINISTRATIVE_RESET) {
    return undefined
  }
  if (m.data.length < 1) return undefined
  const len = m.data[0]!
  if (len + 1 > m.data.length) return undefined
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(m.data.subarray(1, 1 + len))
  } catch {
    return undefined
  }
}

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
}

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    1: 'Unsupported Version Number', 2: 'Bad Peer AS', 3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter', 5: 'Authentication Failure', 6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability', 11: 'Role Mismatch',
  },
  3: {
    1: 'Malformed Attribute List', 2: 'Unrecognized Well-known Attribute', 3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error', 5: 'Attribute Length Error', 6: 'Invalid ORIGIN Attribute',
    7: 'AS Routing Loop', 8: 'Invalid NEXT_HOP Attribute', 9: 'Optional Attribute Error',
    10: 'Invalid Network Field', 11: 'Malformed AS_PATH',
  },
  5: {
    1: 'Receive Unexpected Message in OpenSent State', 2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached', 2: 'Administrative Shutdown', 3: 'Peer De-configured',
    4: 'Administrative Reset', 5: 'Connection Rejected', 6: 'Other Configuration Change',
    7: 'Connection Collision Resolution', 8: 'Out of Resources', 9: 'Hard Reset', 10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
}

/** Human-readable "Cease / Administrative Shutdown" for logs and status */
export function describeNotification(m: Pick<NotificationMessage, 'code' | 'subcode'>): string {
  const c = CODE_NAMES[m.code] ?? `Unknown error code ${m.code}`
  const s = SUBCODE_NAMES[m.code]?.[m.subcode] ?? (m.subcode === 0 ? 'Unspecific' : `subcode ${m.subcode}`)
  return `${c} / ${s}`
}

function u16(v: number): Uint8Array {
  return Uint8Array.of((v >>> 8) & 255, v & 255)
}
