// AS4_AGGREGATOR (type 18, optional transitive, RFC 6793): 4-octet AS and IPv4 address.
// RFC 6793 7: length other than 8 (or a flags error) -> attribute-discard.

import { type AttrDef, lengthError, OPTIONAL_TRANSITIVE } from './_def.ts'
import { decodeAggregator, writeAggregator } from './_aggregator.ts'

export const as4Aggregator: AttrDef = {
  type: 18,
  name: 'AS4_AGGREGATOR',
  flags: OPTIONAL_TRANSITIVE,
  flagsAction: 'attribute-discard',
  decode(data, attrs, env) {
    if (data.length !== 8) throw lengthError(this, env, data.length, '8', 'attribute-discard')
    attrs.as4Aggregator = decodeAggregator(data, 4)
  },
  has: (a) => a.as4Aggregator !== undefined,
  encode(a, w) {
    writeAggregator(w, a.as4Aggregator!, 4, 'AS4_AGGREGATOR')
  },
}
