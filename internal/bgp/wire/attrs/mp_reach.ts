// MP_REACH_NLRI (type 14, optional non-transitive, RFC 4760 3):
//   AFI (2) SAFI (1) next hop length (1) next hop (variable) reserved (1) NLRI (rest)
// Next hop: 4 octets IPv4, 16 octets IPv6 global, 32 octets IPv6 global + link-local
// (RFC 2545); an IPv4 family also accepts 16/32 (RFC 8950).
// RFC 7606 5.3/7.11: anything that keeps the NLRI from being located or parsed (short
// attribute, next hop length inconsistent with the family, bad prefix) -> session-reset.
// An AFI/SAFI the codec does not know -> afisafi-disable (the attribute is dropped).
// Flags error -> session-reset (RFC 7606 5.3).

import { formatIpv4Bytes, formatIpv6, parseIpv4, parseIpv6 } from '../../../ip/index.ts'
import { BgpWireError, encodeError } from '../errors.ts'
import { familyOf } from '../families.ts'
import { decodeNlriList, nlriListSize, writeNlriList } from '../nlri.ts'
import { ErrCode, UpdateSubcode } from '../notification.ts'
import { AFI_IPV6 } from '../types.ts'
import { type AttrDef, attrError, type DecodeEnv, OPTIONAL_NON_TRANSITIVE } from './_def.ts'

export function unknownFamilyError(name: string, afi: number, safi: number, env: DecodeEnv, type: number): BgpWireError {
  return new BgpWireError(`${name} for AFI ${afi} SAFI ${safi}, a family Porter does not support`, {
    bgpCode: ErrCode.UPDATE_MESSAGE,
    subcode: UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
    data: new Uint8Array(env.raw),
    action: 'afisafi-disable',
    attrType: type,
    afi,
    safi,
  })
}

export const mpReach: AttrDef = {
  type: 14,
  name: 'MP_REACH_NLRI',
  flags: OPTIONAL_NON_TRANSITIVE,
  flagsAction: 'session-reset',
  decode(data, attrs, env) {
    const sub = UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR
    const n = data.length
    if (n < 5) throw attrError(this, env, `length is ${n}, expected at least 5`, sub, 'session-reset')
    const afi = (data[0]! << 8) | data[1]!
    const safi = data[2]!
    const nhLen = data[3]!
    if (5 + nhLen > n) throw attrError(this, env, `next hop length ${nhLen} overruns the attribute`, sub, 'session-reset')
    const fam = familyOf(afi, safi)
    if (!fam) throw unknownFamilyError(this.name, afi, safi, env, this.type)
    let nextHop: string
    let linkLocal: string | undefined
    if (nhLen === 4 && fam.afi !== AFI_IPV6) {
      nextHop = formatIpv4Bytes(data, 4)
    } else if (nhLen === 16) {
      nextHop = formatIpv6(data, 4)
    } else if (nhLen === 32) {
      nextHop = formatIpv6(data, 4)
      linkLocal = formatIpv6(data, 20)
    } else {
      throw attrError(this, env, `next hop length ${nhLen} does not fit ${fam.key}`, sub, 'session-reset')
    }
    // one reserved octet (formerly the SNPA count), ignored
    const nlri = decodeNlriList(data, 5 + nhLen, n, fam, env.ctx.addPathRx.has(fam.key), (reason) =>
      attrError(this, env, reason, sub, 'session-reset'),
    )
    attrs.mpReach = linkLocal === undefined
      ? { afi, safi, nextHop, nlri }
      : { afi, safi, nextHop, linkLocalNextHop: linkLocal, nlri }
  },
  has: (a) => a.mpReach !== undefined,
  encode(a, w, ctx) {
    const m = a.mpReach!
    const fam = familyOf(m.afi, m.safi)
    if (!fam) throw encodeError(`Cannot encode MP_REACH_NLRI for AFI ${m.afi} SAFI ${m.safi}`)
    w.u16(m.afi)
    w.u8(m.safi)
    writeNextHop(w, m.nextHop, m.linkLocalNextHop)
    w.u8(0)
    const addPath = ctx.addPathTx.has(fam.key)
    const size = nlriListSize(m.nlri, addPath)
    w.ensure(size)
    w.pos = writeNlriList(w.buf, w.pos, fam, m.nlri, addPath)
  },
}

/** next hop length octet and next hop bytes */
export function writeNextHop(w: { u8(v: number): void; u32(v: number): void; bytes(b: Uint8Array): void }, nh: string, ll?: string): void {
  const v4 = parseIpv4(nh)
  if (v4 >= 0) {
    if (ll !== undefined) throw encodeError(`Cannot encode a link-local next hop "${ll}" with the IPv4 next hop "${nh}"`)
    w.u8(4)
    w.u32(v4)
    return
  }
  const b = new Uint8Array(ll === undefined ? 16 : 32)
  if (!parseIpv6(nh, b, 0)) throw encodeError(`Cannot encode next hop "${nh}": not an IP address`)
  if (ll !== undefined && !parseIpv6(ll, b, 16)) throw encodeError(`Cannot encode link-local next hop "${ll}": not an IPv6 address`)
  w.u8(b.length)
  w.bytes(b)
}
