// Internal types of what the announcer and the controller read from Kubernetes. No Kubernetes
// API types here: internal/k8s converts API objects into these.

export type TrafficPolicy = 'Cluster' | 'Local'
export type IpFamily = 'IPv4' | 'IPv6'

export interface ServicePort { protocol: string; port: number }

/** A Service as far as Porter goes (allocation, status, next hops). */
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
  /** metadata.annotations (the OpenELB opt-in, pool and IP requests) */
  annotations?: Readonly<Record<string, string>>
  /** spec.ports (protocol defaults to TCP) */
  ports?: ServicePort[]
  /** spec.ipFamilies in order (empty: the cluster's default, IPv4 assumed) */
  ipFamilies?: IpFamily[]
  /** spec.ipFamilyPolicy (SingleStack when unset) */
  ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack'
  /** spec.loadBalancerIP (deprecated upstream, still honoured) */
  loadBalancerIP?: string
  /** spec.selector, serialised in key order (two Local Services share an IP only with the same one) */
  selector?: string
  uid?: string
  resourceVersion?: string
  finalizers?: string[]
  /** metadata.deletionTimestamp is set */
  deleting?: boolean
}

export interface SliceEndpoint {
  addresses: string[]
  /** conditions.ready; an unset condition counts as ready (the API says so) */
  ready: boolean
  /** conditions.serving (unset: same as ready) */
  serving?: boolean
  /** conditions.terminating (unset: false) */
  terminating?: boolean
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

/** A Node as far as next hops go. */
export interface NodeInfo {
  name: string
  /** condition Ready is True */
  ready: boolean
  /** labelled node.kubernetes.io/exclude-from-external-load-balancers */
  excluded: boolean
  /** spec.unschedulable (cordoned) */
  unschedulable?: boolean
  /** status.addresses of type InternalIP, canonical, by family (the first of each) */
  internalIPs: Partial<Record<IpFamily, string>>
  labels: Readonly<Record<string, string>>
}

/** "namespace/name" */
export const serviceKey = (s: { namespace: string; name: string }): string => `${s.namespace}/${s.name}`
