// PURE decisions from Kubernetes state: which Services are Porter's (ownership), which nodes are
// a Service's next hops (nexthops), and which VIPs this node serves (announce, the agent's view).
export { shouldAnnounce, desiredVips, decide, groupSlices, vipsOf, drainingVipsOf, type Reason, type Decision, type AnnounceOptions } from './announce.ts'
export { porterOwnership, DEFAULT_LOAD_BALANCER_CLASS, OPT_IN_ANNOTATION, type OwnershipReason, type OwnershipOptions } from './ownership.ts'
export { nextHopNodes, nextHopAddresses, usableEndpoints, terminatingNodes, type NextHopNodes, type NextHopReason } from './nexthops.ts'
export { serviceKey, type LbService, type EndpointSliceInfo, type SliceEndpoint, type TrafficPolicy, type IpFamily, type NodeInfo, type ServicePort } from './types.ts'
export { waitPhases, cordonPhases, drainAdvertisements, terminatingPhases, terminatingAdvertisements, type CordonPhases, type TerminatingPhases } from './drain.ts'
