// MP_UNREACH_NLRI (type 15, optional non-transitive, RFC 4760 4):
//   AFI (2) SAFI (1) withdrawn routes (rest)
// RFC 7606 5.3: too short or a bad prefix -> session-reset; unknown AFI/SAFI ->
// afisafi-disable. An empty one is the End-of-RIB marker of its family (RFC 4724 2).

import { encodeError } from '../errors.ts'
import { familyOf } from '../families.ts'
import { decodeNlriList, nlriListSize, writeNlriList } from '../nlri.ts'
import { UpdateSubcode } from '../notification.ts'
import { type AttrDef, attrError, OPTIONAL_NON_TRANSITIVE } from './_def.ts'
import { unknownFamilyError } from './mp_reach.ts'

export const mpUnreach: AttrDef = {
  type: 15,
  name: 'MP_UNREACH_NLRI',
  flags: OPTIONAL_NON_TRANSITIVE,
  flagsAction: 'session-reset',
  decode(data, attrs, env) {
    const sub = UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR
    if (data.length < 3) throw attrError(this, env, `length is ${data.length}, expected at least 3`, sub, 'session-reset')
    const afi = (data[0]! << 8) | data[1]!
    const safi = data[2]!
    const fam = familyOf(afi, safi)
    if (!fam) throw unknownFamilyError(this.name, afi, safi, env, this.type)
    const withdrawn = decodeNlriList(data, 3, data.length, fam, env.ctx.addPathRx.has(fam.key), (reason) =>
      attrError(this, env, reason, sub, 'session-reset'),
    )
    attrs.mpUnreach = { afi, safi, withdrawn }
  },
  has: (a) => a.mpUnreach !== undefined,
  encode(a, w, ctx) {
    const m = a.mpUnreach!
    const fam = familyOf(m.afi, m.safi)
    if (!fam) throw encodeError(`Cannot encode MP_UNREACH_NLRI for AFI ${m.afi} SAFI ${m.safi}`)
    w.u16(m.afi)
    w.u8(m.safi)
    const addPath = ctx.addPathTx.has(fam.key)
    w.ensure(nlriListSize(m.withdrawn, addPath))
    w.pos = writeNlriList(w.buf, w.pos, fam, m.withdrawn, addPath)
  },
}
