// TEMPORARY adapter until internal/bgp/rib lands: sends nothing.
import type { CodecContext, FamilyKey } from '../wire/types.ts'
import type { RouteSource } from './peer.ts'

export interface PeerExport { communities: string[]; largeCommunities: string[]; med?: number; localPref?: number; asPathPrepend: number }
export interface Advertisement { prefix: string; nextHops: string[]; attrs: Partial<PeerExport> }

export class PeerRoutes implements RouteSource {
  sentCount = 0
  constructor(readonly opts: { localAs: number; peerAs: number; nextHop: 'as-given' | 'self'; export: PeerExport; addPath: boolean }) {}
  set(_advs: readonly Advertisement[]): void {}
  drain(_ctx: CodecContext, _families: readonly FamilyKey[], _full: boolean) {
    return { chunks: [], commit: () => {} }
  }
  reset(): void {}
}
