// Pure per-peer Adj-RIB-Out: full desired advertisement set -> diff against what the peer has ->
// announcements grouped by identical wire attributes.
export {
  AdjRibOut, diffSize, isEmptyDiff, routeKey,
  type Advertisement, type AnnounceGroup, type ExportContext, type NextHopMode, type RibDiff, type RibStatus, type WithdrawGroup,
} from './adj-rib-out.ts'
export {
  DEFAULT_LOCAL_PREF, MAX_AS_PATH_PREPEND, buildAsPath, buildPathAttributes, mergeExportAttrs, resolveExportAttrs,
  type ExportAttrs, type NextHopSpec, type OriginName, type ResolvedAttrs,
} from './attrs.ts'
export {
  WELL_KNOWN_COMMUNITIES, compareLargeCommunity, formatCommunity, formatLargeCommunity, parseCommunity, parseLargeCommunity,
} from './community.ts'
export { formatV6, parseAddress, parsePrefix, type ParsedAddress, type ParsedPrefix, type PrefixParse } from './addr.ts'
export { assignPathIds, fnv1a32, pathIdFor } from './pathid.ts'
export { announceUpdate, endOfRib, withdrawUpdate } from './updates.ts'
