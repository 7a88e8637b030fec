// IANA "BGP Well-known Communities": a leaf of the wire package with no imports, read by the
// codec (attrs/communities.ts re-exports it) and, without loading the codec, by the RIB's text
// parser that config validation uses (internal/bgp/rib/community.ts).

/**
 * The one table of well-known communities (IANA "BGP Well-known Communities" with a common
 * name), used by the codec, the RIB's text parser and config validation. Names are matched
 * case-insensitively, "-" or "_".
 */
export const WELL_KNOWN_COMMUNITIES: Readonly<Record<string, number>> = Object.freeze({
  'graceful-shutdown': 0xffff0000, // RFC 8326
  'accept-own': 0xffff0001, // RFC 7611
  'llgr-stale': 0xffff0006, // RFC 9494
  'no-llgr': 0xffff0007, // RFC 9494
  'accept-own-nexthop': 0xffff0008,
  'blackhole': 0xffff029a, // RFC 7999, 65535:666
  'no-export': 0xffffff01, // RFC 1997
  'no-advertise': 0xffffff02, // RFC 1997
  'no-export-subconfed': 0xffffff03, // RFC 1997
  'local-as': 0xffffff03, // common alias of no-export-subconfed
  'no-peer': 0xffffff04, // RFC 3765
})
