// Internal types of the IP allocator. No Kubernetes API types here: internal/k8s converts Eips
// and Services into these.

export type Family = 'IPv4' | 'IPv6'

/** A pool's addresses: first..last inclusive, one family (see parseRange). */
export interface IpRange {
  family: Family
  first: bigint
  last: bigint
  /** last - first + 1 */
  size: bigint
  /** canonical text of first */
  firstIP: string
  /** canonical text of last */
  lastIP: string
  /** `ip` (any text form) is an address of this family within first..last */
  contains(ip: string): boolean
}

/** The label selector of Kubernetes (metav1.LabelSelector): all requirements must hold, so `{}` selects every namespace. */
export interface NamespaceSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[]
}

/** An address pool (an OpenELB Eip). Names are unique. */
export interface Pool {
  name: string
  range: IpRange
  /** keeps existing assignments, gives no new IPs */
  disabled: boolean
  /** lower wins among the pools bound to a namespace (and among default pools); ties go by name */
  priority: number
  /** bound to these namespaces (empty: not bound by list) */
  namespaces: string[]
  /** bound to the namespaces it selects (unset: not bound by selector) */
  namespaceSelector?: NamespaceSelector
  /** annotation eip.openelb.kubesphere.io/is-default-eip: "true": serves every namespace, after the pools bound to it */
  isDefault: boolean
}

export interface Port {
  /** "TCP", "UDP", "SCTP" (compared case-insensitively) */
  protocol: string
  port: number
}

export type TrafficPolicy = 'Cluster' | 'Local'

/** What a LoadBalancer Service asks of the allocator. */
export interface ServiceRequest {
  /** "namespace/name" */
  key: string
  namespace: string
  /** labels of the namespace, for pools' namespaceSelector */
  namespaceLabels: Record<string, string>
  /** requested pool by name (annotation eip.openelb.kubesphere.io/v1alpha2); '' counts as unset */
  pool?: string
  /** requested IPs, at most one per family (annotation eip.openelb.kubesphere.io/v1alpha1 or spec.loadBalancerIP) */
  ips?: string[]
  /** one IP per family, in this order (the caller derives it from spec.ipFamilies and ipFamilyPolicy) */
  families: Family[]
  /** PreferDualStack: a family no pool can serve now is left out instead of failing the request */
  preferDualStack?: boolean
  ports: Port[]
  /** spec.externalTrafficPolicy */
  trafficPolicy: TrafficPolicy
  /**
   * Services may share an IP only when their ports do not conflict (same protocol and port) and
   * both are Cluster, or both are Local with the same sharingKey (e.g. the pod selector
   * serialized). A Local service without a sharingKey shares with no one.
   */
  sharingKey?: string
}

export type Reason =
  /** no pool is bound to the namespace and there is no default pool */
  | 'NoPoolForNamespace'
  /** the requested pool does not exist */
  | 'PoolNotFound'
  /** every pool that could serve the request is disabled */
  | 'PoolDisabled'
  /** every pool that could serve the request is full */
  | 'PoolExhausted'
  /** the requested IP is not in the requested pool, or in no pool at all */
  | 'IPNotInPool'
  /** the IP is held by a service this one may not share with (traffic policies) */
  | 'IPInUse'
  /** the IP is held by a service that uses one of the same ports */
  | 'PortConflict'
  /** no pool of the service's candidates has this family */
  | 'NoPoolForFamily'
  /** not an IP address */
  | 'InvalidIP'
  /** a requested IP of a family the service does not ask for, or two of one family */
  | 'WrongFamily'
  /** no family, an unknown one or the same one twice */
  | 'InvalidRequest'

export interface Failure {
  ok: false
  reason: Reason
  /** sentence case, quotes values, says what to do */
  message: string
}

export type AssignResult = { ok: true } | Failure

export type AllocateResult =
  | {
      ok: true
      /** canonical, in the order of the request's families (a PreferDualStack family no pool serves is left out) */
      ips: string[]
      /** the pool of each IP ('' for an IP outside every pool, kept after its pool shrank or went) */
      pools: string[]
      /** the IPs differ from what the service held before */
      changed: boolean
    }
  | Failure

export interface OutOfPool {
  key: string
  ip: string
}

/** What an Eip status shows. */
export interface PoolStatus {
  size: bigint
  /** held IP -> "namespace/name" of its holders, comma-joined when shared; in address order */
  used: Record<string, string>
  /** number of held IPs */
  usage: number
  firstIP: string
  lastIP: string
  family: Family
}
