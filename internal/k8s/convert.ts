// PURE converters from API objects (JSON from a watch, or client-node's deserialised classes
// from a list: the same field names) to the announcer's internal types. Anything malformed is
// read defensively: a missing field means its API default.
import type { LbService, EndpointSliceInfo, SliceEndpoint, TrafficPolicy } from '../announce/index.ts'

type Loose = Record<string, unknown>
const obj = (v: unknown): Loose => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Loose) : {})
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name'

/** core/v1 Service -> LbService; undefined without a name. */
export function toLbService(o: unknown): LbService | undefined {
  const m = obj(obj(o).metadata)
  const name = str(m.name)
  if (!name) return undefined
  const spec = obj(obj(o).spec)
  const etp: TrafficPolicy = spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster'
  const ingressIPs = arr(obj(obj(obj(o).status).loadBalancer).ingress)
    .map((i) => str(obj(i).ip))
    .filter((ip): ip is string => ip !== undefined && ip !== '')
  const svc: LbService = { namespace: str(m.namespace) ?? '', name, type: str(spec.type) ?? 'ClusterIP', externalTrafficPolicy: etp, ingressIPs }
  const cls = str(spec.loadBalancerClass)
  if (cls) svc.loadBalancerClass = cls
  return svc
}

/** discovery.k8s.io/v1 EndpointSlice -> EndpointSliceInfo; undefined without a name. */
export function toEndpointSlice(o: unknown): EndpointSliceInfo | undefined {
  const m = obj(obj(o).metadata)
  const name = str(m.name)
  if (!name) return undefined
  const endpoints: SliceEndpoint[] = arr(obj(o).endpoints).map((e) => {
    const ep = obj(e)
    // conditions.ready: "a nil value should be interpreted as true"
    const ready = obj(ep.conditions).ready !== false
    const out: SliceEndpoint = { addresses: arr(ep.addresses).filter((a): a is string => typeof a === 'string'), ready }
    const node = str(ep.nodeName)
    if (node) out.nodeName = node
    return out
  })
  const s: EndpointSliceInfo = { namespace: str(m.namespace) ?? '', name, addressType: str(obj(o).addressType) ?? 'IPv4', endpoints }
  const svc = str(obj(m.labels)[SERVICE_NAME_LABEL])
  if (svc) s.serviceName = svc
  return s
}
