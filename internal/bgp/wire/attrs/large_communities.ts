// LARGE_COMMUNITIES (type 32, optional transitive, RFC 8092): 12-octet values
// (global administrator, local data 1, local data 2), each 4 octets.
// RFC 8092 6: length not a non-zero multiple of 12 -> treat-as-withdraw.

import { type AttrDef, lengthError, OPTIONAL_TRANSITIVE } from './_def.ts'
import { writeU32 } from './_u32.ts'
import type { LargeCommunity } from '../types.ts'

function u32(d: Uint8Array, off: number): number {
  return ((d[off]! << 24) | (d[off + 1]! << 16) | (d[off + 2]! << 8) | d[off + 3]!) >>> 0
}

export const largeCommunities: AttrDef = {
  type: 32,
  name: 'LARGE_COMMUNITIES',
  flags: OPTIONAL_TRANSITIVE,
  flagsAction: 'treat-as-withdraw',
  decode(data, attrs, env) {
    const n = data.length
    if (n === 0 || n % 12 !== 0) throw lengthError(this, env, n, 'a non-zero multiple of 12', 'treat-as-withdraw')
    const out: LargeCommunity[] = []
    for (let off = 0; off < n; off += 12) out.push({ global: u32(data, off), local1: u32(data, off + 4), local2: u32(data, off + 8) })
    attrs.largeCommunities = out
  },
  has: (a) => a.largeCommunities !== undefined && a.largeCommunities.length > 0,
  encode(a, w) {
    for (const c of a.largeCommunities!) {
      writeU32(w, c.global, 'large community global administrator')
      writeU32(w, c.local1, 'large community local data 1')
      writeU32(w, c.local2, 'large community local data 2')
    }
  },
}
