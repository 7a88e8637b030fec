// ORIGIN (type 1, well-known mandatory, RFC 4271 5.1.1): one octet, 0 IGP, 1 EGP, 2 INCOMPLETE.
// RFC 7606 7.1: length other than 1 or an undefined value -> treat-as-withdraw.

import { UpdateSubcode } from '../notification.ts'
import { type AttrDef, attrError, lengthError, WELL_KNOWN } from './_def.ts'

export const origin: AttrDef = {
  type: 1,
  name: 'ORIGIN',
  flags: WELL_KNOWN,
  flagsAction: 'treat-as-withdraw',
  decode(data, attrs, env) {
    if (data.length !== 1) throw lengthError(this, env, data.length, '1', 'treat-as-withdraw')
    const v = data[0]!
    if (v > 2) throw attrError(this, env, `value ${v} is not IGP, EGP or INCOMPLETE`, UpdateSubcode.INVALID_ORIGIN_ATTRIBUTE, 'treat-as-withdraw')
    attrs.origin = v as 0 | 1 | 2
  },
  has: (a) => a.origin !== undefined,
  encode(a, w) {
    w.u8(a.origin!)
  },
}
