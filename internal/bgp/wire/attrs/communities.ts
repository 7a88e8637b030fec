// COMMUNITIES (type 8, optional transitive, RFC 1997): a list of 32-bit values.
// RFC 7606 7.8: length not a non-zero multiple of 4 -> treat-as-withdraw.

import { type AttrDef, lengthError, OPTIONAL_TRANSITIVE } from './_def.ts'
import { writeU32 } from './_u32.ts'

export const communities: AttrDef = {
  type: 8,
  name: 'COMMUNITIES',
  flags: OPTIONAL_TRANSITIVE,
  flagsAction: 'treat-as-withdraw',
  decode(data, attrs, env) {
    const n = data.length
    if (n === 0 || n % 4 !== 0) throw lengthError(this, env, n, 'a non-zero multiple of 4', 'treat-as-withdraw')
    const out = new Array<number>(n / 4)
    for (let i = 0, off = 0; off < n; i++, off += 4) {
      out[i] = ((data[off]! << 24) | (data[off + 1]! << 16) | (data[off + 2]! << 8) | data[off + 3]!) >>> 0
    }
    attrs.communities = out
  },
  has: (a) => a.communities !== undefined && a.communities.length > 0,
  encode(a, w) {
    for (const c of a.communities!) writeU32(w, c, 'community')
  },
}

/** community value of "asn:value" halves */
export function community(high: number, low: number): number {
  return ((high & 0xffff) * 0x10000 + (low & 0xffff)) >>> 0
}

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
