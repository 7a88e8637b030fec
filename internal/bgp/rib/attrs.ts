// Export attributes (config form) -> wire PathAttributes. Pure.
import { PorterError } from '../../errors/index.ts'
import { AFI_IPV6, SAFI_UNICAST, type AsPathSegment, type FamilyKey, type LargeCommunity, type PathAttributes } from '../wire/index.ts'
import { compareLargeCommunity, formatLargeCommunity, parseCommunity, parseLargeCommunity } from './community.ts'

export type OriginName = 'igp' | 'egp' | 'incomplete'

/** Per-peer or per-VIP export attributes, as written in config. */
export interface ExportAttrs {
  /** "65000:100" or a well-known name ("no-export", "blackhole", ...) */
  communities?: readonly string[]
  /** "65000:1:2" */
  largeCommunities?: readonly string[]
  med?: number
  /** sent to iBGP peers only (default 100 there) */
  localPref?: number
  /** extra copies of the local AS (0 to 255) */
  asPathPrepend?: number
  /** default "igp" */
  origin?: OriginName
}

/** Export attributes validated, parsed and made canonical for one peer (iBGP or eBGP). */
export interface ResolvedAttrs {
  origin: 0 | 1 | 2
  asPathPrepend: number
  med?: number
  /** set only for iBGP peers */
  localPref?: number
  /** sorted, unique */
  communities: number[]
  /** sorted, unique */
  largeCommunities: LargeCommunity[]
  /** equal keys <=> equal wire attributes (before the next hop) */
  key: string
}

/**
 * What RFC 8326 adds to a route whose path is going away on purpose (a speaker shutting down, a
 * cordoned node): the GRACEFUL_SHUTDOWN community and, sent to iBGP peers only, LOCAL_PREF 0.
 * Merged over the other attributes (mergeExportAttrs), so its LOCAL_PREF wins.
 */
export const GRACEFUL_SHUTDOWN_ATTRS: ExportAttrs = Object.freeze({ communities: Object.freeze(['graceful-shutdown']), localPref: 0 })

const ORIGINS: Record<OriginName, 0 | 1 | 2> = { igp: 0, egp: 1, incomplete: 2 }
export const DEFAULT_LOCAL_PREF = 100
export const MAX_AS_PATH_PREPEND = 255

function invalid(msg: string): PorterError {
  return new PorterError('PORTER_ERR_CONFIG_INVALID', msg)
}

function u32(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw invalid(`Cannot use ${name} "${v}": expected an integer from 0 to 4294967295`)
  return v
}

/**
 * Peer-level attributes merged with per-VIP ones: community lists are united (peer first),
 * scalars (med, localPref, asPathPrepend, origin) come from the VIP when it sets them.
 */
export function mergeExportAttrs(peer: ExportAttrs | undefined, vip: ExportAttrs | undefined): ExportAttrs {
  if (!peer) return vip ?? {}
  if (!vip) return peer
  const out: ExportAttrs = { ...peer, ...stripUndefined(vip) }
  if (peer.communities || vip.communities) out.communities = [...(peer.communities ?? []), ...(vip.communities ?? [])]
  if (peer.largeCommunities || vip.largeCommunities) out.largeCommunities = [...(peer.largeCommunities ?? []), ...(vip.largeCommunities ?? [])]
  return out
}

function stripUndefined(a: ExportAttrs): ExportAttrs {
  const o: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(a)) if (v !== undefined) o[k] = v
  return o as ExportAttrs
}

/** Validate and canonicalise. Throws PorterError PORTER_ERR_CONFIG_INVALID naming the bad value. */
export function resolveExportAttrs(a: ExportAttrs, ibgp: boolean): ResolvedAttrs {
  const originName = a.origin ?? 'igp'
  const origin = Object.hasOwn(ORIGINS, originName) ? ORIGINS[originName] : undefined
  if (origin === undefined) throw invalid(`Cannot use origin "${String(a.origin)}": expected "igp", "egp" or "incomplete"`)
  const prepend = a.asPathPrepend ?? 0
  if (!Number.isInteger(prepend) || prepend < 0 || prepend > MAX_AS_PATH_PREPEND) {
    throw invalid(`Cannot use asPathPrepend "${prepend}": expected an integer from 0 to ${MAX_AS_PATH_PREPEND}`)
  }
  const med = a.med === undefined ? undefined : u32('med', a.med)
  let localPref: number | undefined
  if (ibgp) localPref = a.localPref === undefined ? DEFAULT_LOCAL_PREF : u32('localPref', a.localPref)
  else if (a.localPref !== undefined) u32('localPref', a.localPref) // validated, not sent on eBGP
  const communities = [...new Set((a.communities ?? []).map(parseCommunity))].sort((x, y) => x - y)
  const lcs = (a.largeCommunities ?? []).map(parseLargeCommunity).sort(compareLargeCommunity)
  const largeCommunities = lcs.filter((c, i) => i === 0 || compareLargeCommunity(c, lcs[i - 1] as LargeCommunity) !== 0)
  const key = `o${origin};p${prepend};m${med ?? ''};l${localPref ?? ''};c${communities.join(',')};L${largeCommunities.map(formatLargeCommunity).join(',')}`
  const r: ResolvedAttrs = { origin, asPathPrepend: prepend, communities, largeCommunities, key }
  if (med !== undefined) r.med = med
  if (localPref !== undefined) r.localPref = localPref
  return r
}

/** AS_PATH: eBGP = local AS (1 + prepend) times; iBGP = local AS `prepend` times (usually empty). */
export function buildAsPath(localAs: number, ibgp: boolean, prepend: number): AsPathSegment[] {
  const n = (ibgp ? 0 : 1) + prepend
  const segs: AsPathSegment[] = []
  for (let left = n; left > 0; left -= 255) segs.push({ type: 2, asns: new Array<number>(Math.min(255, left)).fill(localAs) })
  return segs
}

export interface NextHopSpec {
  /** IPv4: the NEXT_HOP; IPv6: the MP_REACH global next hop */
  address: string
  /** IPv6 only: optional link-local second next hop */
  linkLocal?: string
}

/**
 * Complete wire attributes for one (family, next hop, resolved attrs) group:
 * - IPv4 unicast: `nextHop` set, no `mpReach`; the NLRI go in UpdateMessage.nlri.
 * - IPv6 unicast: `mpReach` = { afi 2, safi 1, nextHop, linkLocalNextHop?, nlri: [] }; the
 *   session puts the NLRI into a copy of `mpReach` (see `announceUpdate`).
 * AS numbers are real 4-octet values; AS_TRANS / AS4_PATH for 2-octet peers is the codec's job.
 * The returned object is frozen and shared by every NLRI of the group.
 */
export function buildPathAttributes(r: ResolvedAttrs, localAs: number, ibgp: boolean, family: FamilyKey, nh: NextHopSpec): Readonly<PathAttributes> {
  const attrs: PathAttributes = { origin: r.origin, asPath: buildAsPath(localAs, ibgp, r.asPathPrepend) }
  if (family === 'ipv4-unicast') {
    attrs.nextHop = nh.address
  } else {
    attrs.mpReach = { afi: AFI_IPV6, safi: SAFI_UNICAST, nextHop: nh.address, nlri: [] }
    if (nh.linkLocal) attrs.mpReach.linkLocalNextHop = nh.linkLocal
    Object.freeze(attrs.mpReach.nlri)
    Object.freeze(attrs.mpReach)
  }
  if (r.med !== undefined) attrs.med = r.med
  if (r.localPref !== undefined) attrs.localPref = r.localPref
  if (r.communities.length > 0) attrs.communities = r.communities
  if (r.largeCommunities.length > 0) attrs.largeCommunities = r.largeCommunities
  return Object.freeze(attrs)
}
