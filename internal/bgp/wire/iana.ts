// IANA numbers used by the codec: message types, path attribute type codes and flags,
// capability codes, address families. Notification codes live in notification.ts.

export { AFI_IPV4, AFI_IPV6, SAFI_UNICAST } from './types.ts'

export const BGP_VERSION = 4
export const BGP_PORT = 179
export const HEADER_LENGTH = 19
export const MARKER_LENGTH = 16
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

export const AttrType = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITIES: 32,
} as const

export const AttrFlag = {
  OPTIONAL: 0x80,
  TRANSITIVE: 0x40,
  PARTIAL: 0x20,
  EXTENDED_LENGTH: 0x10,
} as const

export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const

export const AsPathSegmentTypes = {
  AS_SET: 1,
  AS_SEQUENCE: 2,
  AS_CONFED_SEQUENCE: 3,
  AS_CONFED_SET: 4,
} as const

/** OPEN optional parameter types */
export const OptParam = {
  CAPABILITIES: 2,
  /** RFC 9072: a first parameter type 255 announces the extended (2-octet) lengths */
  EXTENDED_LENGTH: 255,
} as const

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
