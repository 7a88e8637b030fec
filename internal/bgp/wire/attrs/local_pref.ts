// LOCAL_PREF (type 5, well-known, iBGP only, RFC 4271 5.1.5): 4 octets.
// RFC 7606 7.5: received from an external peer (ctx.ibgp === false) -> attribute-discard;
// otherwise a length other than 4 -> treat-as-withdraw.

import { UpdateSubcode } from '../notification.ts'
import { type AttrDef, attrError, lengthError, WELL_KNOWN } from './_def.ts'
import { readU32, writeU32 } from './_u32.ts'

export const localPref: AttrDef = {
  type: 5,
  name: 'LOCAL_PREF',
  flags: WELL_KNOWN,
  flagsAction: 'treat-as-withdraw',
  decode(data, attrs, env) {
    if (env.ctx.ibgp === false) {
      throw attrError(this, env, 'received from an external peer', UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'attribute-discard')
    }
    if (data.length !== 4) throw lengthError(this, env, data.length, '4', 'treat-as-withdraw')
    attrs.localPref = readU32(data)
  },
  has: (a) => a.localPref !== undefined,
  encode(a, w) {
    writeU32(w, a.localPref!, 'LOCAL_PREF')
  },
}
