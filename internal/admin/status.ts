// The one status contract: what a running porter answers on its admin socket. The daemon
// builds it, `porter status` renders it, the metrics collector and the end-to-end helpers read
// it. Types only.
import type { InformerStatus, KubernetesSourceStatus } from '../k8s/index.ts'
import type { LeaseStatus } from '../k8s/lease.ts'

/** One BGP neighbour (bgp/session + its Adj-RIB-Out). */
export interface PeerStatus {
  name: string
  address: string
  peerAs: number
  /** RFC 4271 state: Idle, Connect, Active, OpenSent, OpenConfirm, Established */
  state: string
  uptimeSeconds?: number
  holdTime?: number
  families?: string[]
  /** families with ADD-PATH send negotiated */
  addPath?: string[]
  prefixesReceived: number
  updatesReceived: number
  flaps: number
  lastError?: string
  prefixesSent: number
  /** "add-path", or why ECMP is unavailable with this peer */
  ecmp?: string
  /** BFD with this peer (bgp.peers[].bfd); absent without BFD */
  bfd?: BfdPeerStatus
}

/** A BFD session (RFC 5880): with a BGP peer, a next hop (`check: { type: bfd }`) or a controller (`agent.liveness`). */
export interface BfdPeerStatus {
  /** AdminDown, Down, Init, Up */
  state: string
  /** RFC 5880 diagnostic: why the state last changed ("Control Detection Time Expired", ...) */
  diag: string
  remoteState: string
  remoteDiag?: string
  /** agreed transmit interval before jitter (ms; 0 when not sending) */
  txIntervalMs: number
  /** detection time (ms; 0 until the peer is heard) */
  detectTimeMs: number
  /** seconds in the current state */
  sinceSeconds: number
  /** Up -> Down transitions (with a BGP peer each closed the session unless the peer said AdminDown) */
  downs: number
  /** why the session could not start (e.g. port 3784 in use) */
  error?: string
}

export interface NextHopStatus {
  address: string
  /** "no check", "pending", "up", "down" */
  health: string
  lastError?: string
  /** the next hop's BFD session (node liveness), for a `bfd` check; one per address, shared by its VIPs */
  bfd?: BfdPeerStatus
  /** in Porter's announcement of the VIP (healthy); whether a router got it is `peers` */
  announced: boolean
  /**
   * The peers (names) that have a path to the VIP via this next hop. Without ADD-PATH a peer
   * gets one of several next hops only; a peer with `nextHop: self` gets Porter's own address
   * and is listed under the VIP's `peers` only. Absent from porter versions before it existed.
   */
  peers?: string[]
}

/** A VIP of the config file. */
export interface VipStatus {
  name?: string
  address: string
  /** Porter announces it (at least one healthy next hop) */
  announced: boolean
  /** the peers (names) that have the VIP, with any next hop */
  peers?: string[]
  nextHops: NextHopStatus[]
}

/** controller mode, kubernetes.enabled */
export interface KubeControllerStatus {
  server: string
  synced: boolean
  connected: boolean
  /** since when some informer cannot reach the API server (the last known state is announced) */
  staleSince?: string
  leader: LeaseStatus | { leader: true; disabled: true }
  services: number
  allocated: number
  announced: number
  notAnnounced: Record<string, number>
  pools: { name: string; size: string; used: number; error?: string }[]
  lastPass?: { at: string; durationMs: number; writes: number; errors: number }
  informers: InformerStatus[]
}

export interface ControllerStatus {
  peers: PeerStatus[]
  refusedConnections: number
  /** why BGP is not running (no AS / router ID yet, a failed reconfiguration) */
  bgpProblem?: string
  vips: VipStatus[]
  /**
   * `vips[].notSent`: next hops no peer has (no session, no ADD-PATH, node selectors); absent when
   * every one is sent. `vips[].notLive`: next hops left out because their node's BFD session is
   * not Up (kubernetes.nodeLiveness). `nodeLiveness`: the session with each node
   */
  kubernetes?: KubeControllerStatus & { vips: { prefix: string; nextHops: string[]; notSent?: string[]; notLive?: string[] }[]; nodeLiveness?: (BfdPeerStatus & { address: string })[] }
}

export interface AgentReport {
  interface: string
  mode: string
  backend?: string
  iptablesFlavour?: 'nft' | 'legacy'
  /** VIPs the last successful reconcile programmed */
  vips: string[]
  foreign: string[]
  lastReconcile?: { at: string; ok: boolean; error?: string; changes: number; durationMs: number }
  counters: { reconciles: number; changes: number; failures: number; driftRepairs: number }
  kubernetes?: KubernetesSourceStatus
  /** kubernetes.bgpPeers: the BgpPeers this node peers with, MD5 key errors (never the key), the informers */
  bgpPeers?: { peers: string[]; keyErrors: Record<string, string>; informers: InformerStatus[] }
  /** agent.liveness: the BFD session with each controller address (`accepted`: from a CIDR of agent.liveness.peers) */
  liveness?: (BfdPeerStatus & { address: string; accepted?: boolean })[]
}

export interface AgentStatus {
  agent?: AgentReport
  /** per-node speaker (agent mode with a `bgp` section): the node's own BGP sessions */
  peers?: PeerStatus[]
  /** per-node speaker: the config VIPs this node serves, as the controller shows them */
  vips?: VipStatus[]
}

/** What every daemon adds around its mode's status. */
export interface DaemonInfo {
  mode: 'controller' | 'agent'
  pid: number
  version: string
  commit: string
  node: string
  uptimeSeconds: number
  configFile: string
  lastReload?: { at: string; ok: boolean; error?: string }
}

export type ModeStatus = ControllerStatus | AgentStatus
export type DaemonStatus = DaemonInfo & Partial<ControllerStatus> & AgentStatus
