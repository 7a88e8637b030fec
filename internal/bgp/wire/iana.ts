// IANA numbers used by the codec: message types, path attribute type codes and flags,
// capability codes, address families. Notification codes live in notification.ts.

export { AFI_IPV4, AFI_IPV6, SAFI_UNICAST } from './types.ts'

export const BGP_VERSION = 4
export const HEADER_LENGTH = 19
/** RFC 4271 maximum message size; RFC 8654 raises it for all but OPEN and KEEPALIVE */
export const MAX_MESSAGE_LENGTH = 4096
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535
/** RFC 6793 AS_TRANS, sent in 2-octet fields when the real AS does not fit */
export const AS_TRANS = 23456

export const MsgType = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const

/** Minimum total length (header included) per message type, RFC 4271 section 4 */
export const MIN_LENGTH: Readonly<Record<number, number>> = {
  1: 29,
  2: 23,
  3: 21,
  4: 19,
  5: 23,
}

export const CapCode = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_MESSAGE: 6,
  GRACEFUL_RESTART: 64,
  AS4: 65,
  ADD_PATH: 69,
  ENHANCED_ROUTE_REFRESH: 70,
} as const

/** RFC 7911 Send/Receive field */
export const AddPathBits = { receive: 1, send: 2, both: 3 } as const
