// Message model of the BGP codec. Pure data: no I/O. Addresses are strings in
// canonical form ("192.0.2.1", "2001:db8::1"); prefixes are { afi, addr, len }.

import type { Prefix } from '../../ip/index.ts'

export { AFI_IPV4, AFI_IPV6, type Afi, type Prefix } from '../../ip/index.ts'
export const SAFI_UNICAST = 1

/** Address family key used in maps and config: "ipv4-unicast" | "ipv6-unicast". */
export type FamilyKey = 'ipv4-unicast' | 'ipv6-unicast'

/** One NLRI entry. pathId is present only when ADD-PATH is negotiated for the family/direction. */
export interface Nlri {
  prefix: Prefix
  pathId?: number
}

/**
 * An NLRI to send (encodeUpdates, encodeWithdrawals): an Nlri, or a host route (/32 IPv4, /128
 * IPv6) without a path id written as its address text. The Adj-RIB-Out keys host routes by
 * that text and hands the very string to the encoder: no object per route in a diff (a 100k
 * withdrawal made 200k objects that outlived the young generation). toNlri() gives the Nlri.
 */
export type OutNlri = Nlri | string

export type AddPathMode = 'receive' | 'send' | 'both'

export type Capability =
  | { code: 1; kind: 'multiprotocol'; afi: number; safi: number }
  | { code: 2; kind: 'route-refresh' }
  | { code: 6; kind: 'extended-message' }
  | { code: 64; kind: 'graceful-restart'; restarting: boolean; notification: boolean; restartTime: number;
      families: { afi: number; safi: number; forwardingPreserved: boolean }[] }
  | { code: 65; kind: 'as4'; asn: number }
  | { code: 69; kind: 'add-path'; families: { afi: number; safi: number; mode: AddPathMode }[] }
  | { code: number; kind: 'unknown'; data: Uint8Array }

export interface OpenMessage {
  type: 'open'
  version: number // 4
  /** 2-octet "My Autonomous System" field (AS_TRANS 23456 when the real AS > 65535) */
  myAs: number
  holdTime: number
  routerId: string // dotted quad
  capabilities: Capability[]
  /** optional parameters other than capabilities (type != 2), kept raw */
  otherParams?: { type: number; data: Uint8Array }[]
}

export type AsPathSegmentType = 1 | 2 | 3 | 4 // AS_SET, AS_SEQUENCE, AS_CONFED_SEQUENCE, AS_CONFED_SET
export interface AsPathSegment { type: AsPathSegmentType; asns: number[] }

export interface LargeCommunity { global: number; local1: number; local2: number }

export interface MpReach {
  afi: number
  safi: number
  /** global next hop; for IPv6 optionally a link-local second next hop */
  nextHop: string
  linkLocalNextHop?: string
  nlri: Nlri[]
}
export interface MpUnreach { afi: number; safi: number; withdrawn: Nlri[] }

/** Decoded path attributes. Each known attribute is a field; unknown ones are kept raw. */
export interface PathAttributes {
  origin?: 0 | 1 | 2 // IGP, EGP, INCOMPLETE
  asPath?: AsPathSegment[]
  nextHop?: string
  med?: number
  localPref?: number
  atomicAggregate?: boolean
  aggregator?: { asn: number; address: string }
  communities?: number[] // 32-bit values
  extendedCommunities?: Uint8Array[] // 8 bytes each
  largeCommunities?: LargeCommunity[]
  as4Path?: AsPathSegment[]
  as4Aggregator?: { asn: number; address: string }
  mpReach?: MpReach
  mpUnreach?: MpUnreach
  /** unknown attributes, kept with their flags (partial bit set on re-send when optional transitive) */
  unknown?: { flags: number; type: number; data: Uint8Array }[]
}

export interface UpdateMessage {
  type: 'update'
  withdrawn: Nlri[] // IPv4 withdrawn routes field
  attrs: PathAttributes
  nlri: Nlri[] // IPv4 NLRI field
}

export interface NotificationMessage {
  type: 'notification'
  code: number
  subcode: number
  data: Uint8Array
}

export interface KeepaliveMessage { type: 'keepalive' }

export interface RouteRefreshMessage {
  type: 'route-refresh'
  afi: number
  /** RFC 7313 subtype; 0 = normal request */
  subtype: number
  safi: number
}

export type BgpMessage =
  | OpenMessage
  | UpdateMessage
  | NotificationMessage
  | KeepaliveMessage
  | RouteRefreshMessage

/** Negotiated session context the codec needs (holo's `ctx`): no hidden state. */
export interface CodecContext {
  /** both sides advertised 4-octet AS */
  as4: boolean
  /** families for which we SEND path ids (peer said receive/both, we said send/both) */
  addPathTx: ReadonlySet<FamilyKey>
  /** families for which we RECEIVE path ids */
  addPathRx: ReadonlySet<FamilyKey>
  /** max message length: 4096, or 65535 with extended messages on both sides */
  maxMessageLength: number
  /**
   * Optional: the session is iBGP (true) or eBGP (false). When false, a received LOCAL_PREF,
   * ORIGINATOR_ID or CLUSTER_LIST is discarded (RFC 7606 7.5, 7.9, 7.10); when unset, not checked.
   */
  ibgp?: boolean
  /**
   * Optional: the largest message we accept, when it differs from maxMessageLength (the largest
   * we send). RFC 8654 4: we accept 65535 once WE advertised extended messages, and send them
   * only when the PEER did. Unset: maxMessageLength both ways. See receiveLimit().
   */
  maxReceiveLength?: number
}
