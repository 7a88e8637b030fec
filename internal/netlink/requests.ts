// Write requests (encoded message + a description for errors) for Rtnl.write().
import { encodeNewAddr, encodeDelAddr, encodeNewRoute, encodeDelRoute, type AddrSpec, type RouteSpec } from './_codec.ts'
import type { WriteRequest } from './client.ts'

const where = (ifindex: number | undefined): string => (ifindex === undefined ? '' : ` (ifindex ${ifindex})`)

export function addAddress(a: AddrSpec): WriteRequest {
  return { msg: encodeNewAddr(a, 0), op: `add address ${a.address}/${a.prefixLen}${where(a.ifindex)}` }
}
export function delAddress(a: AddrSpec): WriteRequest {
  return { msg: encodeDelAddr(a, 0), op: `delete address ${a.address}/${a.prefixLen}${where(a.ifindex)}` }
}
export function addRoute(r: RouteSpec): WriteRequest {
  return { msg: encodeNewRoute(r, 0), op: `add route ${r.dst}/${r.dstLen} table ${r.table}${where(r.oif)}` }
}
export function delRoute(r: RouteSpec): WriteRequest {
  return { msg: encodeDelRoute(r, 0), op: `delete route ${r.dst}/${r.dstLen} table ${r.table}${where(r.oif)}` }
}
