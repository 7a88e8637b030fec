// ATOMIC_AGGREGATE (type 6, well-known discretionary, RFC 4271 5.1.6): no value.
// RFC 7606 7.6: length other than 0 -> attribute-discard.

import { type AttrDef, lengthError, WELL_KNOWN } from './_def.ts'

export const atomicAggregate: AttrDef = {
  type: 6,
  name: 'ATOMIC_AGGREGATE',
  flags: WELL_KNOWN,
  flagsAction: 'treat-as-withdraw',
  decode(data, attrs, env) {
    if (data.length !== 0) throw lengthError(this, env, data.length, '0', 'attribute-discard')
    attrs.atomicAggregate = true
  },
  has: (a) => a.atomicAggregate === true,
  encode() {},
}
