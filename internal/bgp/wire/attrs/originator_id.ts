// ORIGINATOR_ID (type 9, optional non-transitive, RFC 4456): 4 octets. Validated, then kept
// raw in attrs.unknown (Porter is no route reflector). RFC 7606 7.9: from an external peer
// -> attribute-discard; length other than 4 -> treat-as-withdraw.

import { copyBytes } from '../_writer.ts'
import { UpdateSubcode } from '../notification.ts'
import { type AttrDef, attrError, lengthError, OPTIONAL_NON_TRANSITIVE } from './_def.ts'

export const originatorId: AttrDef = {
  type: 9,
  name: 'ORIGINATOR_ID',
  flags: OPTIONAL_NON_TRANSITIVE,
  flagsAction: 'treat-as-withdraw',
  decode(data, attrs, env) {
    if (env.ctx.ibgp === false) {
      throw attrError(this, env, 'received from an external peer', UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'attribute-discard')
    }
    if (data.length !== 4) throw lengthError(this, env, data.length, '4', 'treat-as-withdraw')
    ;(attrs.unknown ??= []).push({ flags: env.flags & 0xe0, type: 9, data: copyBytes(data, 0, data.length) })
  },
  has: () => false,
  encode() {},
}
