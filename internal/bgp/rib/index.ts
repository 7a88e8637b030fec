// Pure per-peer Adj-RIB-Out: full desired advertisement set -> diff against what the peer has ->
// announcements grouped by identical wire attributes.
//
// How a session drives it:
//   const rib = new AdjRibOut({ localAs, peerAs, addPathTx: new Set(), nextHopMode, selfAddress, peerAttrs })
//   rib.set(advertisements)            (Advertisement or AdvertisementBatch: many prefixes, one object) whenever the desired set changes (full set; throws
//                                      PORTER_ERR_CONFIG_INVALID and keeps the old set on bad input)
//   on Established:  rib.setContext({ ...ctx, addPathTx: negotiated.codec.addPathTx,
//                                      families: new Set(negotiated.families), selfAddress: local socket address })
//   whenever Established and something may be pending (after set(), after Established):
//     const d = rib.pending()           d.withdraw: [{family, nlri}], d.announce: [{family, key, attrs, nlri}]
//                                       (nlri: OutNlri, a host route without a path id as its address text)
//     write announcements then withdrawals (make-before-break; IPv4 in the UPDATE fields, IPv6 in
//     MP_(UN)REACH_NLRI; the codec splits groups into messages), then rib.commit(d) (or commit the part written)
//   after the first full send: End-of-RIB per family (the codec's endOfRib)
//   route refresh from the peer: send rib.all(), then rib.commit(it)
//   session-down: rib.reset()           (everything is pending again for the next session)
//   status(): paths, sentPaths, addPath per family, ecmpUnavailable ("ECMP unavailable (no ADD-PATH)"), skipped
export {
  AdjRibOut, diffSize, isEmptyDiff, routeKey,
  type Advertisement, type AdvertisementBatch, type AnnounceGroup, type ExportContext, type NextHopMode, type RibDiff, type RibStatus, type WithdrawGroup,
} from './adj-rib-out.ts'
export {
  DEFAULT_LOCAL_PREF, GRACEFUL_SHUTDOWN_ATTRS, MAX_AS_PATH_PREPEND, buildAsPath, buildPathAttributes, mergeExportAttrs, resolveExportAttrs,
  type ExportAttrs, type NextHopSpec, type OriginName, type ResolvedAttrs,
} from './attrs.ts'
export {
  WELL_KNOWN_COMMUNITIES, compareLargeCommunity, formatCommunity, formatLargeCommunity, parseCommunity, parseLargeCommunity,
} from './community.ts'
export { assignPathIds, fnv1a32, pathIdFor } from './pathid.ts'
