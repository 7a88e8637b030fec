// CLUSTER_LIST (type 10, optional non-transitive, RFC 4456): list of 4-octet cluster ids.
// Validated, then kept raw in attrs.unknown. RFC 7606 7.10: from an external peer ->
// attribute-discard; length not a non-zero multiple of 4 -> treat-as-withdraw.

import { copyBytes } from '../_writer.ts'
import { UpdateSubcode } from '../notification.ts'
import { type AttrDef, attrError, lengthError, OPTIONAL_NON_TRANSITIVE } from './_def.ts'

export const clusterList: AttrDef = {
  type: 10,
  name: 'CLUSTER_LIST',
  flags: OPTIONAL_NON_TRANSITIVE,
  flagsAction: 'treat-as-withdraw',
  decode(data, attrs, env) {
    if (env.ctx.ibgp === false) {
      throw attrError(this, env, 'received from an external peer', UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'attribute-discard')
    }
    if (data.length === 0 || data.length % 4 !== 0) {
      throw lengthError(this, env, data.length, 'a non-zero multiple of 4', 'treat-as-withdraw')
    }
    ;(attrs.unknown ??= []).push({ flags: env.flags & 0xe0, type: 10, data: copyBytes(data, 0, data.length) })
  },
  has: () => false,
  encode() {},
}
