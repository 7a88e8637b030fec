// PURE IP allocator over internal types (no Kubernetes imports): pools (Eips) -> IPs for
// LoadBalancer Services, rebuilt from Service status on start (see allocator.ts for the rules).
export { Allocator } from './allocator.ts'
export { parseRange } from './range.ts'
export type {
  AllocateResult, AssignResult, Failure, Family, IpRange, NamespaceSelector, OutOfPool, Pool, PoolStatus, Port, Reason, ServiceRequest, TrafficPolicy,
} from './types.ts'
