// BGP sessions: one configured neighbour as a pure core (core.ts: events in, effects out, the
// contract in types.ts) behind a socket adapter (peer.ts), and its Adj-RIB-Out as the session's
// source of UPDATEs (routes.ts).
export { PeerSession, type PeerOptions, type Dialer } from './peer.ts'
export { SessionCore, type SessionCoreOptions } from './core.ts'
export type { ConnId, LogLevel, RouteSource, SessionEffect, SessionEvent, SessionInput, TimerId } from './types.ts'
export { PeerRoutes, type PeerRoutesOptions, type PeerExport, type Advertisement, type AdvertisementBatch } from './routes.ts'
