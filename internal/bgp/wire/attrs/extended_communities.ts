// EXTENDED_COMMUNITIES (type 16, optional transitive, RFC 4360): 8-octet values kept as bytes.
// RFC 7606 7.14: length not a non-zero multiple of 8 -> treat-as-withdraw. Unknown types
// and sub-types are not errors.

import { copyBytes } from '../_writer.ts'
import { encodeError } from '../errors.ts'
import { type AttrDef, lengthError, OPTIONAL_TRANSITIVE } from './_def.ts'

export const extendedCommunities: AttrDef = {
  type: 16,
  name: 'EXTENDED_COMMUNITIES',
  flags: OPTIONAL_TRANSITIVE,
  flagsAction: 'treat-as-withdraw',
  decode(data, attrs, env) {
    const n = data.length
    if (n === 0 || n % 8 !== 0) throw lengthError(this, env, n, 'a non-zero multiple of 8', 'treat-as-withdraw')
    const out: Uint8Array[] = []
    for (let off = 0; off < n; off += 8) out.push(copyBytes(data, off, off + 8))
    attrs.extendedCommunities = out
  },
  has: (a) => a.extendedCommunities !== undefined && a.extendedCommunities.length > 0,
  encode(a, w) {
    for (const c of a.extendedCommunities!) {
      if (c.length !== 8) throw encodeError(`Cannot encode an extended community of ${c.length} bytes (expected 8)`)
      w.bytes(c)
    }
  },
}
