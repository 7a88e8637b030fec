// Internal types of what the announcer reads from Kubernetes. No Kubernetes API types here:
// internal/k8s converts API objects into these.

export type TrafficPolicy = 'Cluster' | 'Local'

/** A Service as far as announcing its VIPs goes. */
export interface LbService {
  namespace: string
  name: string
  /** spec.type: 'LoadBalancer', 'ClusterIP', 'NodePort', 'ExternalName' */
  type: string
  /** spec.externalTrafficPolicy (Cluster when unset) */
  externalTrafficPolicy: TrafficPolicy
  /** status.loadBalancer.ingress[].ip in order (hostname-only entries are left out) */
  ingressIPs: string[]
  /** spec.loadBalancerClass */
  loadBalancerClass?: string
}

export interface SliceEndpoint {
  addresses: string[]
  /** conditions.ready; an unset condition counts as ready (the API says so) */
  ready: boolean
  nodeName?: string
}

/** An EndpointSlice: its Service (label kubernetes.io/service-name) and endpoints. */
export interface EndpointSliceInfo {
  namespace: string
  name: string
  /** the owning Service's name (same namespace); undefined for slices without the label */
  serviceName?: string
  /** 'IPv4', 'IPv6' or 'FQDN' */
  addressType: string
  endpoints: SliceEndpoint[]
}

/** "namespace/name" */
export const serviceKey = (s: { namespace: string; name: string }): string => `${s.namespace}/${s.name}`
