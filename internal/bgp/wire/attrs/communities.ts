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

// the one table of well-known communities: its own file, so that config validation reads it
// without loading the codec
export { WELL_KNOWN_COMMUNITIES } from '../well-known-communities.ts'
