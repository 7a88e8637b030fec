export { Rtnl, NetlinkConn, type RtnlOptions, type WriteRequest, type WriteResults } from './client.ts'
export { monitor, type Monitor, type MonitorOptions, type NetlinkEvent } from './monitor.ts'
export { NetlinkError, errnoName } from './errors.ts'
export { addAddress, delAddress, addRoute, delRoute } from './requests.ts'
export {
  type AddrEntry, type AddrSpec, type RouteEntry, type RouteSpec, type LinkEntry, type Family, type NlHeader, walkAttrs,
  IFA_F_NODAD, IFA_F_NOPREFIXROUTE, IFA_F_PERMANENT, RT_TABLE_LOCAL, RT_TABLE_MAIN, RTN_LOCAL, RTN_UNICAST,
  RT_SCOPE_HOST, RT_SCOPE_UNIVERSE,
} from './_codec.ts'
