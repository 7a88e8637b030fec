// Message and route counters the routers keep per neighbour, for tests that must see what
// Porter actually sent (not what it logged): BIRD's per-channel route change statistics, FRR's
// per-neighbour message counters and graceful-restart state.
import type { Bird } from './bird.ts'
import type { Frr } from './frr.ts'

/** One row of BIRD's "Route change stats" (received, rejected, filtered, ignored, accepted). */
export interface BirdChangeStats { received: number; rejected: number; filtered: number; ignored: number; accepted: number }

/** `Import updates` of the (first) channel of protocol `proto`: routes received from the peer, counted per route. */
export async function birdImportUpdates(bird: Bird, proto: string): Promise<BirdChangeStats> {
  const text = (await bird.birdc(['show', 'protocols', 'all', proto])).stdout
  const m = /Import updates:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(text)
  if (!m) throw new Error(`no "Import updates" row for ${proto}:\n${text}`)
  const [received, rejected, filtered, ignored, accepted] = m.slice(1).map(Number) as [number, number, number, number, number]
  return { received, rejected, filtered, ignored, accepted }
}

/** FRR `show bgp neighbors ADDR json` -> messageStats (counts BGP messages, not routes). */
export interface FrrMessageStats {
  opensRecv: number
  notificationsSent: number
  notificationsRecv: number
  updatesRecv: number
  keepalivesRecv: number
  routeRefreshSent: number
  routeRefreshRecv: number
  totalRecv: number
}

export interface FrrNeighbor {
  bgpState: string
  messageStats: FrrMessageStats
  connectionsEstablished?: number
  connectionsDropped?: number
  lastResetDueTo?: string
  gracefulRestartInfo?: {
    endOfRibRecv?: Record<string, boolean>
    timers?: { receivedRestartTimer?: number; restartTimerRemaining?: number }
  }
}

export async function frrNeighbor(frr: Frr, address: string): Promise<FrrNeighbor> {
  const j = await frr.json<Record<string, FrrNeighbor>>(`show bgp neighbors ${address} json`)
  const n = j[address]
  if (!n?.messageStats) throw new Error(`FRR has no neighbour ${address}: ${JSON.stringify(j).slice(0, 300)}`)
  return n
}
