// BGP sessions: one configured neighbour's sockets and timers around the pure FSM and codec
// (peer.ts), and its Adj-RIB-Out as the session's source of UPDATEs (routes.ts).
export { PeerSession, type PeerOptions, type Dialer, type RouteSource } from './peer.ts'
export { PeerRoutes, type PeerRoutesOptions, type PeerExport, type Advertisement } from './routes.ts'
