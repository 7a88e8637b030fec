// Types shared by the BIRD, FRR and GoBGP drivers.

export type Family = 'ipv4' | 'ipv6'

/** A BGP neighbour of the router under test. */
export interface PeerSpec {
  /** neighbour address (IPv4 or IPv6; fe80:: needs `iface`) */
  address: string
  as: number
  /** router waits for the neighbour to connect (default true: the neighbour is Porter/the speaker) */
  passive?: boolean
  /** TCP MD5 password (RFC 2385) */
  password?: string
  /** families negotiated on this session (default: the family of `address`) */
  families?: Family[]
  /** ADD-PATH receive on these families (default true) */
  addPathRx?: boolean
  /** ADD-PATH send (router sends all paths) — used by the capture script */
  addPathTx?: boolean
  /** local address of the session (bind / update-source) */
  localAddress?: string
  /** interface, for link-local neighbours */
  iface?: string
  /** hold time in seconds (default 90; 3 for fast failure tests) */
  holdTime?: number
  /** graceful restart capability on (default: router default) */
  gracefulRestart?: boolean
  /** RFC 8654 extended messages */
  extendedMessages?: boolean
  /** driver-specific extra config lines inside the neighbour / protocol block */
  extra?: string[]
  /** driver-specific extra lines per family: BIRD channel body; FRR `neighbor ADDR <line>` in the address-family */
  familyExtra?: string[]
  /** BIRD only: body of the channel export filter (replaces `export all`), e.g. "bgp_med = 5; accept;" */
  exportFilter?: string
  /** BIRD only: body of the channel import filter (replaces `import all`) */
  importFilter?: string
  /** name used in router config (default derived from the address) */
  name?: string
}

export interface RouterSpec {
  /** namespace the router runs in */
  ns: string
  as: number
  routerId: string
  peers: PeerSpec[]
  /** driver-specific extra global config */
  extra?: string[]
}

/** One path in a router's BGP RIB, normalised across BIRD, FRR and GoBGP. */
export interface BgpRoute {
  prefix: string
  /** next hops of this path (a merged multipath route has several) */
  nextHops: string[]
  /** the BGP NEXT_HOP attribute (global and, for IPv6, possibly link-local) */
  bgpNextHop?: string[]
  /** flattened AS path (sets as their members) */
  asPath: number[]
  origin?: string
  communities: string[] // "65000:1"
  largeCommunities: string[] // "65000:1:2"
  extendedCommunities?: string[]
  localPref?: number
  med?: number
  /** ADD-PATH path id, when the router shows it */
  pathId?: number
  /** neighbour the path was learned from */
  from?: string
  /** router's best path for the prefix */
  best?: boolean
  /** the router's own text or JSON for this path, for failure messages */
  raw?: unknown
}

export type SessionState = 'idle' | 'connect' | 'active' | 'opensent' | 'openconfirm' | 'established' | 'down' | 'unknown'

export interface PeerStatus {
  name: string
  address?: string
  state: SessionState
  info?: string
}

export function familyOf(address: string): Family {
  return address.includes(':') ? 'ipv6' : 'ipv4'
}

export function peerName(p: PeerSpec, i: number): string {
  return p.name ?? `peer${i}_${p.address.replace(/[^0-9a-fA-F]/g, '_')}`
}
