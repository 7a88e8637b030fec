// PURE: which Services are Porter's. The one rule, used by the controller (allocation, next
// hops) and the agent (programming VIPs), so the two always agree:
//   - spec.type LoadBalancer, and
//   - spec.loadBalancerClass equal to Porter's class (kubernetes.loadBalancerClass, default
//     "porter.kubesphere.io/bgp"), or no class and the OpenELB opt-in annotation
//     lb.kubesphere.io/v1alpha1 set to "openelb" or "porter".
import type { LbService } from './types.ts'

export const DEFAULT_LOAD_BALANCER_CLASS = 'porter.kubesphere.io/bgp'
export const OPT_IN_ANNOTATION = 'lb.kubesphere.io/v1alpha1'
export const OPT_IN_VALUES: readonly string[] = ['openelb', 'porter']

export type OwnershipReason =
  /** spec.type is not LoadBalancer */
  | 'notLoadBalancer'
  /** spec.loadBalancerClass names another implementation */
  | 'otherLoadBalancerClass'
  /** no class and no lb.kubesphere.io/v1alpha1 annotation: not opted in */
  | 'notOptedIn'

export interface OwnershipOptions {
  /** the loadBalancerClass Porter serves (default DEFAULT_LOAD_BALANCER_CLASS) */
  loadBalancerClass?: string
}

/** null when the Service is Porter's, else why not. */
export function porterOwnership(svc: Pick<LbService, 'type' | 'loadBalancerClass' | 'annotations'>, opts: OwnershipOptions = {}): OwnershipReason | null {
  if (svc.type !== 'LoadBalancer') return 'notLoadBalancer'
  if (svc.loadBalancerClass !== undefined) return svc.loadBalancerClass === (opts.loadBalancerClass ?? DEFAULT_LOAD_BALANCER_CLASS) ? null : 'otherLoadBalancerClass'
  const v = svc.annotations?.[OPT_IN_ANNOTATION]
  return v !== undefined && OPT_IN_VALUES.includes(v.trim().toLowerCase()) ? null : 'notOptedIn'
}
