// NEXT_HOP (type 3, well-known mandatory for the IPv4 NLRI field, RFC 4271 5.1.3): 4 octets.
// RFC 7606 7.3: length other than 4 -> treat-as-withdraw. Semantic checks (own address,
// martians) are the session's business, not the codec's.

import { formatIpv4Bytes, parseIpv4 } from '../../../ip/index.ts'
import { encodeError } from '../errors.ts'
import { type AttrDef, lengthError, WELL_KNOWN } from './_def.ts'

export const nextHop: AttrDef = {
  type: 3,
  name: 'NEXT_HOP',
  flags: WELL_KNOWN,
  flagsAction: 'treat-as-withdraw',
  decode(data, attrs, env) {
    if (data.length !== 4) throw lengthError(this, env, data.length, '4', 'treat-as-withdraw')
    attrs.nextHop = formatIpv4Bytes(data, 0)
  },
  has: (a) => a.nextHop !== undefined,
  encode(a, w) {
    const v = parseIpv4(a.nextHop!)
    if (v < 0) throw encodeError(`Cannot encode NEXT_HOP "${a.nextHop}": not an IPv4 address (IPv6 next hops go in MP_REACH_NLRI)`)
    w.u32(v)
  },
}
