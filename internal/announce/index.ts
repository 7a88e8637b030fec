// PURE announcement decisions: (Service, its EndpointSlices, this node) -> announce or a reason.
export { shouldAnnounce, desiredVips, decide, groupSlices, vipsOf, type Reason, type Decision, type AnnounceOptions } from './announce.ts'
export { serviceKey, type LbService, type EndpointSliceInfo, type SliceEndpoint, type TrafficPolicy } from './types.ts'
