// AGGREGATOR (type 7, optional transitive, RFC 4271 5.1.7): AS (2 octets, or 4 with ctx.as4)
// and IPv4 address. RFC 7606 7.7: length other than 6 (8 with 4-octet AS) -> attribute-discard.

import { type AttrDef, lengthError, OPTIONAL_TRANSITIVE } from './_def.ts'
import { decodeAggregator, writeAggregator } from './_aggregator.ts'

export const aggregator: AttrDef = {
  type: 7,
  name: 'AGGREGATOR',
  flags: OPTIONAL_TRANSITIVE,
  flagsAction: 'treat-as-withdraw',
  decode(data, attrs, env) {
    const size = env.ctx.as4 ? 4 : 2
    if (data.length !== size + 4) throw lengthError(this, env, data.length, String(size + 4), 'attribute-discard')
    attrs.aggregator = decodeAggregator(data, size)
  },
  has: (a) => a.aggregator !== undefined,
  encode(a, w, ctx) {
    writeAggregator(w, a.aggregator!, ctx.as4 ? 4 : 2, 'AGGREGATOR')
  },
}
