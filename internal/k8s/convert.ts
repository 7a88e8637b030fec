// PURE converters from API objects (JSON from a watch, or client-node's deserialised classes
// from a list: the same field names) to the internal types of internal/announce. Anything
// malformed is read defensively: a missing field means its API default.
import type { LbService, EndpointSliceInfo, SliceEndpoint, TrafficPolicy, NodeInfo, IpFamily, ServicePort } from '../announce/index.ts'
import { canonicalIp } from '../ip/index.ts'

type Loose = Record<string, unknown>
export const obj = (v: unknown): Loose => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Loose) : {})
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
/** a string map (labels, annotations); non-string values are left out */
export const strMap = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === 'string') out[k] = x
  return out
}

/** metadata and name of an API object; undefined without a name (the object is skipped) */
export function named(o: unknown): { m: Loose; name: string } | undefined {
  const m = obj(obj(o).metadata)
  const name = str(m.name)
  return name ? { m, name } : undefined
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name'
export const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers'

const family = (v: unknown): IpFamily | undefined => (v === 'IPv4' || v === 'IPv6' ? v : undefined)

/** core/v1 Service -> LbService; undefined without a name. */
export function toLbService(o: unknown): LbService | undefined {
  const n = named(o)
  if (!n) return undefined
  const { m, name } = n
  const spec = obj(obj(o).spec)
  const etp: TrafficPolicy = spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster'
  const ingressIPs = arr(obj(obj(obj(o).status).loadBalancer).ingress)
    .map((i) => str(obj(i).ip))
    .filter((ip): ip is string => ip !== undefined && ip !== '')
  const svc: LbService = { namespace: str(m.namespace) ?? '', name, type: str(spec.type) ?? 'ClusterIP', externalTrafficPolicy: etp, ingressIPs }
  const cls = str(spec.loadBalancerClass)
  if (cls) svc.loadBalancerClass = cls
  const annotations = strMap(m.annotations)
  if (Object.keys(annotations).length) svc.annotations = annotations
  const ports: ServicePort[] = arr(spec.ports).map((p) => ({ protocol: str(obj(p).protocol) ?? 'TCP', port: Number(obj(p).port) })).filter((p) => Number.isInteger(p.port))
  if (ports.length) svc.ports = ports
  const fams = arr(spec.ipFamilies).map(family).filter((f): f is IpFamily => f !== undefined)
  if (fams.length) svc.ipFamilies = fams
  const pol = str(spec.ipFamilyPolicy)
  if (pol === 'SingleStack' || pol === 'PreferDualStack' || pol === 'RequireDualStack') svc.ipFamilyPolicy = pol
  const lbip = str(spec.loadBalancerIP)
  if (lbip) svc.loadBalancerIP = lbip
  const sel = strMap(spec.selector)
  if (Object.keys(sel).length) svc.selector = Object.keys(sel).sort().map((k) => `${k}=${sel[k]}`).join(',')
  const uid = str(m.uid)
  if (uid) svc.uid = uid
  const rv = str(m.resourceVersion)
  if (rv) svc.resourceVersion = rv
  const fin = arr(m.finalizers).filter((f): f is string => typeof f === 'string')
  if (fin.length) svc.finalizers = fin
  if (m.deletionTimestamp !== undefined && m.deletionTimestamp !== null) svc.deleting = true
  return svc
}

/** discovery.k8s.io/v1 EndpointSlice -> EndpointSliceInfo; undefined without a name. */
export function toEndpointSlice(o: unknown): EndpointSliceInfo | undefined {
  const n = named(o)
  if (!n) return undefined
  const { m, name } = n
  const endpoints: SliceEndpoint[] = arr(obj(o).endpoints).map((e) => {
    const ep = obj(e)
    const c = obj(ep.conditions)
    // conditions.ready: "a nil value should be interpreted as true"
    const ready = c.ready !== false
    const out: SliceEndpoint = { addresses: arr(ep.addresses).filter((a): a is string => typeof a === 'string'), ready }
    if (typeof c.serving === 'boolean') out.serving = c.serving
    if (c.terminating === true) out.terminating = true
    const node = str(ep.nodeName)
    if (node) out.nodeName = node
    return out
  })
  const s: EndpointSliceInfo = { namespace: str(m.namespace) ?? '', name, addressType: str(obj(o).addressType) ?? 'IPv4', endpoints }
  const svc = str(obj(m.labels)[SERVICE_NAME_LABEL])
  if (svc) s.serviceName = svc
  return s
}

/** core/v1 Node -> NodeInfo; undefined without a name. */
export function toNodeInfo(o: unknown): NodeInfo | undefined {
  const n = named(o)
  if (!n) return undefined
  const { m, name } = n
  const st = obj(obj(o).status)
  const ready = arr(st.conditions).some((c) => obj(c).type === 'Ready' && obj(c).status === 'True')
  const labels = strMap(m.labels)
  const internalIPs: Partial<Record<IpFamily, string>> = {}
  for (const a of arr(st.addresses)) {
    if (obj(a).type !== 'InternalIP') continue
    const ip = canonicalIp(str(obj(a).address) ?? '')
    if (ip === undefined) continue
    const f: IpFamily = ip.includes(':') ? 'IPv6' : 'IPv4'
    internalIPs[f] ??= ip
  }
  const unschedulable = obj(obj(o).spec).unschedulable === true
  return { name, ready, excluded: EXCLUDE_LB_LABEL in labels, internalIPs, labels, ...(unschedulable ? { unschedulable } : {}) }
}
