// ROUTE-REFRESH (RFC 2918, subtypes of RFC 7313) and End-of-RIB markers (RFC 4724 2).
//
// body layout (after the 19-byte header):
//   0  AFI (2)
//   2  subtype (1): 0 request, 1 BoRR, 2 EoRR (RFC 7313; "reserved" in RFC 2918)
//   3  SAFI (1)
// A body other than 4 octets: ROUTE-REFRESH Message Error / Invalid Message Length
// (RFC 7313 5; for subtype 0 too, as Porter reads the message the same way).
//
// End-of-RIB: IPv4 unicast = an UPDATE with nothing in it; any other family = an UPDATE
// whose only attribute is an empty MP_UNREACH_NLRI of that family.

import type { Writer } from './_writer.ts'
import { u16At } from './_writer.ts'
import { BgpWireError } from './errors.ts'
import { FAMILY_BY_KEY, familyKey } from './families.ts'
import { ErrCode, RouteRefreshSubcode } from './notification.ts'
import type { FamilyKey, RouteRefreshMessage, UpdateMessage } from './types.ts'

export const RouteRefreshSubtype = { REQUEST: 0, BORR: 1, EORR: 2 } as const

export function decodeRouteRefresh(body: Uint8Array): RouteRefreshMessage {
  if (body.length !== 4) {
    throw new BgpWireError(`Malformed ROUTE-REFRESH: body of ${body.length} bytes, expected 4`, {
      bgpCode: ErrCode.ROUTE_REFRESH,
      subcode: RouteRefreshSubcode.INVALID_MESSAGE_LENGTH,
      data: new Uint8Array(body),
    })
  }
  return { type: 'route-refresh', afi: u16At(body, 0), subtype: body[2]!, safi: body[3]! }
}

export function writeRouteRefreshBody(w: Writer, m: RouteRefreshMessage): void {
  w.u16(m.afi)
  w.u8(m.subtype)
  w.u8(m.safi)
}

export function routeRefresh(family: FamilyKey, subtype = 0): RouteRefreshMessage {
  const f = FAMILY_BY_KEY[family]
  return { type: 'route-refresh', afi: f.afi, subtype, safi: f.safi }
}

/** the End-of-RIB marker of `family` */
export function endOfRib(family: FamilyKey): UpdateMessage {
  if (family === 'ipv4-unicast') return { type: 'update', withdrawn: [], attrs: {}, nlri: [] }
  const f = FAMILY_BY_KEY[family]
  return { type: 'update', withdrawn: [], attrs: { mpUnreach: { afi: f.afi, safi: f.safi, withdrawn: [] } }, nlri: [] }
}

/**
 * The family whose End-of-RIB `m` is, or null when it is not one. An unknown family's marker
 * gives null too (its MP_UNREACH was dropped by the decoder).
 */
export function endOfRibFamily(m: UpdateMessage): FamilyKey | null {
  if (m.withdrawn.length > 0 || m.nlri.length > 0) return null
  const keys = Object.keys(m.attrs).filter((k) => (m.attrs as Record<string, unknown>)[k] !== undefined)
  if (keys.length === 0) return 'ipv4-unicast'
  if (keys.length !== 1 || keys[0] !== 'mpUnreach') return null
  const u = m.attrs.mpUnreach!
  if (u.withdrawn.length > 0) return null
  return familyKey(u.afi, u.safi) ?? null
}
