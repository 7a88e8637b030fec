// When two services may hold the same IP: ports that do not collide, and both Cluster, or both
// Local selecting the same pods (MetalLB's rule; a Local service's traffic must reach the nodes
// its own endpoints run on, so it shares only with services of the same endpoints).
import type { Port, TrafficPolicy } from './types.ts'

/** The part of a request that decides sharing, kept with each assignment. */
export interface Sharing {
  ports: readonly Port[]
  trafficPolicy: TrafficPolicy
  sharingKey: string | undefined
}

interface SharingConflict {
  reason: 'IPInUse' | 'PortConflict'
  /** why, to follow "held by ...: " */
  why: string
}

export function sharingOf(req: { ports: readonly Port[]; trafficPolicy: TrafficPolicy; sharingKey?: string }): Sharing {
  return { ports: req.ports.map((p) => ({ protocol: p.protocol.toUpperCase(), port: p.port })), trafficPolicy: req.trafficPolicy, sharingKey: req.sharingKey }
}

/** undefined when services `a` and `b` may hold the same IP */
export function sharingConflict(a: Sharing, b: Sharing): SharingConflict | undefined {
  if (a.trafficPolicy !== b.trafficPolicy) {
    return { reason: 'IPInUse', why: 'a service with externalTrafficPolicy Local shares an IP only with Local services of the same pods' }
  }
  if (a.trafficPolicy === 'Local' && (a.sharingKey === undefined || a.sharingKey !== b.sharingKey)) {
    return { reason: 'IPInUse', why: 'both have externalTrafficPolicy Local but select different pods' }
  }
  for (const p of a.ports) {
    if (b.ports.some((q) => q.protocol === p.protocol && q.port === p.port)) return { reason: 'PortConflict', why: `both use ${p.protocol} port ${p.port}` }
  }
  return undefined
}
