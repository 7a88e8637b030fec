// Which IP TTL a BGP session's packets carry and which it accepts, from the peer's settings.
// One rule, used for outgoing and accepted connections alike:
//   ttlSecurity (GTSM, RFC 5082)  send 255, accept 254 and above (one hop, as FRR's "ttl-security hops 1" sends)
//   eBGP                          send ebgpMultihop, default 1 (RFC 4271 directly connected; BIRD and FRR do the same)
//   iBGP                          the system default (64), any accepted
export interface SessionTtl {
  ttl?: number
  minTtl?: number
}

export interface TtlSettings {
  peerAs: number
  ebgpMultihop?: number
  ttlSecurity?: boolean
}

export const GTSM_TTL = 255
export const GTSM_MIN_TTL = 254

export function sessionTtl(localAs: number, p: TtlSettings): SessionTtl {
  if (p.ttlSecurity) return { ttl: GTSM_TTL, minTtl: GTSM_MIN_TTL }
  if (p.peerAs === localAs) return {}
  return { ttl: p.ebgpMultihop ?? 1 }
}
