// AS_PATH (type 2, well-known mandatory, RFC 4271 5.1.2): segments of 2-octet ASNs, or
// 4-octet ASNs when both sides have the 4-octet AS capability (ctx.as4, RFC 6793).
// RFC 7606 7.2: undefined segment type, zero-length segment, overrun or underrun
// -> treat-as-withdraw. An empty AS_PATH (length 0) is valid (iBGP).

import { UpdateSubcode } from '../notification.ts'
import { type AttrDef, attrError, WELL_KNOWN } from './_def.ts'
import { decodeSegments, writeSegments } from './_as_path.ts'

export const asPath: AttrDef = {
  type: 2,
  name: 'AS_PATH',
  flags: WELL_KNOWN,
  flagsAction: 'treat-as-withdraw',
  decode(data, attrs, env) {
    const segs = decodeSegments(data, env.ctx.as4 ? 4 : 2)
    if (typeof segs === 'string') throw attrError(this, env, segs, UpdateSubcode.MALFORMED_AS_PATH, 'treat-as-withdraw')
    attrs.asPath = segs
  },
  has: (a) => a.asPath !== undefined,
  encode(a, w, ctx) {
    writeSegments(w, a.asPath!, ctx.as4 ? 4 : 2)
  },
}
