// MULTI_EXIT_DISC (type 4, optional non-transitive, RFC 4271 5.1.4): 4 octets.
// RFC 7606 7.4: length other than 4 -> treat-as-withdraw.

import { type AttrDef, lengthError, OPTIONAL_NON_TRANSITIVE } from './_def.ts'
import { readU32, writeU32 } from './_u32.ts'

export const med: AttrDef = {
  type: 4,
  name: 'MULTI_EXIT_DISC',
  flags: OPTIONAL_NON_TRANSITIVE,
  flagsAction: 'treat-as-withdraw',
  decode(data, attrs, env) {
    if (data.length !== 4) throw lengthError(this, env, data.length, '4', 'treat-as-withdraw')
    attrs.med = readU32(data)
  },
  has: (a) => a.med !== undefined,
  encode(a, w) {
    writeU32(w, a.med!, 'MULTI_EXIT_DISC')
  },
}
