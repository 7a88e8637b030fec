// The resources the fake API server serves and what kube-apiserver's registry strategies do
// with them: defaulting, validation, what a main-resource update may change (not status), what
// a status update may change (only status), generation bumps, and the strategic merge patch
// tags of their Go types.
import { isIP } from 'node:net'
import type { Json, JsonObject, PatchMeta } from './patch.ts'

export interface Cause { reason: string; message: string; field: string }

export interface AllocCtx {
  /** a free cluster IP (services) */
  clusterIP(): string
  /** a free node port 30000-32767 */
  nodePort(): number
}

export interface ResourceDef {
  group: string
  version: string
  kind: string
  listKind: string
  plural: string
  singular: string
  shortNames: string[]
  categories: string[]
  namespaced: boolean
  status: boolean
  /** fields a field selector may use */
  fields: string[]
  fieldValues(o: JsonObject): Record<string, string>
  patchMeta: PatchMeta
  /** name rule: 'dns1035' (services) or 'dns1123subdomain' */
  nameRule: 'dns1035' | 'dns1123subdomain'
  /** defaults applied on create and update (mutates) */
  defaults(o: JsonObject, old: JsonObject | undefined, alloc: AllocCtx): void
  validate(o: JsonObject, old: JsonObject | undefined): Cause[]
  /** does a change from old to o bump metadata.generation */
  generationChanged(o: JsonObject, old: JsonObject): boolean
}

export const apiVersionOf = (d: ResourceDef): string => (d.group ? `${d.group}/${d.version}` : d.version)

const obj = (v: Json | undefined): JsonObject => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {})
const arr = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : [])
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
const invalid = (field: string, value: unknown, detail: string): Cause => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` })
const required = (field: string): Cause => ({ reason: 'FieldValueRequired', field, message: 'Required value' })
const notSupported = (field: string, value: unknown, allowed: string[]): Cause => ({ reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}` })
const immutable = (field: string, value: unknown): Cause => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: field is immutable` })

const metaFields: Record<string, PatchMeta> = {
  finalizers: { primitiveMerge: true },
  ownerReferences: { mergeKey: 'uid' },
}

const PORT_PROTOCOLS = ['TCP', 'UDP', 'SCTP']

// ------------------------------------------------------------------ core/v1 Service

const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']

export const services: ResourceDef = {
  group: '', version: 'v1', kind: 'Service', listKind: 'ServiceList', plural: 'services', singular: 'service',
  shortNames: ['svc'], categories: ['all'], namespaced: true, status: true,
  fields: ['metadata.name', 'metadata.namespace', 'spec.clusterIP', 'spec.type'],
  fieldValues: (o) => ({
    'metadata.name': String(obj(o.metadata).name ?? ''), 'metadata.namespace': String(obj(o.metadata).namespace ?? ''),
    'spec.clusterIP': String(obj(o.spec).clusterIP ?? ''), 'spec.type': String(obj(o.spec).type ?? ''),
  }),
  patchMeta: {
    fields: {
      metadata: { fields: metaFields },
      spec: { fields: { ports: { mergeKey: 'port' } } },
      status: { fields: { conditions: { mergeKey: 'type' } } },
    },
  },
  nameRule: 'dns1035',
  defaults(o, old, alloc) {
    const spec = (o.spec = obj(o.spec))
    spec.type ??= 'ClusterIP'
    const external = spec.type === 'NodePort' || spec.type === 'LoadBalancer'
    if (spec.type !== 'ExternalName') {
      spec.sessionAffinity ??= 'None'
      spec.internalTrafficPolicy ??= 'Cluster'
      if (spec.clusterIP === undefined || spec.clusterIP === '') {
        const keep = old && obj(old.spec).clusterIP
        spec.clusterIP = typeof keep === 'string' && keep !== '' ? keep : alloc.clusterIP()
      }
      spec.clusterIPs ??= [spec.clusterIP]
      if (spec.clusterIP !== 'None') {
        spec.ipFamilies ??= [isIP(String(spec.clusterIP)) === 6 ? 'IPv6' : 'IPv4']
        spec.ipFamilyPolicy ??= 'SingleStack'
      }
    }
    if (external) {
      spec.externalTrafficPolicy ??= 'Cluster'
      if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true
    }
    const oldPorts = arr(obj(old?.spec).ports).map(obj)
    for (const p of arr(spec.ports)) {
      const port = obj(p)
      port.protocol ??= 'TCP'
      if (port.targetPort === undefined && spec.type !== 'ExternalName') port.targetPort = port.port ?? null
      if (external && port.nodePort === undefined && (spec.type !== 'LoadBalancer' || spec.allocateLoadBalancerNodePorts !== false)) {
        const prev = oldPorts.find((x) => x.port === port.port && x.protocol === port.protocol)?.nodePort
        port.nodePort = typeof prev === 'number' ? prev : alloc.nodePort()
      }
      if (!external) delete port.nodePort
    }
    if (spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local') {
      const prev = obj(old?.spec).healthCheckNodePort
      spec.healthCheckNodePort ??= typeof prev === 'number' ? prev : alloc.nodePort()
    } else delete spec.healthCheckNodePort
    if (!external) delete spec.externalTrafficPolicy
    o.status = obj(o.status)
    o.status.loadBalancer = obj(o.status.loadBalancer)
  },
  validate(o, old) {
    const c: Cause[] = []
    const spec = obj(o.spec)
    if (!SERVICE_TYPES.includes(String(spec.type))) c.push(notSupported('spec.type', spec.type, SERVICE_TYPES))
    const headless = spec.clusterIP === 'None'
    const ports = arr(spec.ports).map(obj)
    if (spec.type === 'ExternalName') {
      if (typeof spec.externalName !== 'string' || spec.externalName === '') c.push(required('spec.externalName'))
    } else if (ports.length === 0 && !headless) c.push(required('spec.ports'))
    if (headless && (spec.type === 'NodePort' || spec.type === 'LoadBalancer')) c.push(invalid('spec.clusterIP', 'None', 'may not be set to \'None\' for LoadBalancer or NodePort services'))
    if (spec.clusterIP !== 'None' && spec.clusterIP !== undefined && spec.type !== 'ExternalName' && isIP(String(spec.clusterIP)) === 0) c.push(invalid('spec.clusterIP', spec.clusterIP, 'must be a valid IP address or "None"'))
    const names = new Set<string>()
    ports.forEach((p, i) => {
      const f = `spec.ports[${i}]`
      if (typeof p.port !== 'number' || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) c.push(invalid(`${f}.port`, p.port, 'must be between 1 and 65535, inclusive'))
      if (!PORT_PROTOCOLS.includes(String(p.protocol))) c.push(notSupported(`${f}.protocol`, p.protocol, PORT_PROTOCOLS))
      if (ports.length > 1 && (typeof p.name !== 'string' || p.name === '')) c.push(required(`${f}.name`))
      if (typeof p.name === 'string' && p.name !== '') {
        if (names.has(p.name)) c.push({ reason: 'FieldValueDuplicate', field: `${f}.name`, message: `Duplicate value: ${JSON.stringify(p.name)}` })
        names.add(p.name)
      }
      if (p.nodePort !== undefined && (typeof p.nodePort !== 'number' || p.nodePort < 30000 || p.nodePort > 32767)) c.push(invalid(`${f}.nodePort`, p.nodePort, 'provided port is not in the valid range. The range of valid ports is 30000-32767'))
    })
    const etp = spec.externalTrafficPolicy
    if (etp !== undefined) {
      if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer') c.push(invalid('spec.externalTrafficPolicy', etp, 'may only be set for externally-accessible services'))
      else if (etp !== 'Cluster' && etp !== 'Local') c.push(notSupported('spec.externalTrafficPolicy', etp, ['Cluster', 'Local']))
    }
    if (spec.internalTrafficPolicy !== undefined && spec.type !== 'ExternalName' && spec.internalTrafficPolicy !== 'Cluster' && spec.internalTrafficPolicy !== 'Local') {
      c.push(notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, ['Cluster', 'Local']))
    }
    if (spec.loadBalancerClass !== undefined && spec.type !== 'LoadBalancer') c.push(invalid('spec.loadBalancerClass', spec.loadBalancerClass, 'may only be used when `type` is \'LoadBalancer\''))
    if (old) {
      const os = obj(old.spec)
      if (os.clusterIP !== undefined && os.clusterIP !== '' && spec.clusterIP !== os.clusterIP && spec.type !== 'ExternalName' && os.type !== 'ExternalName') c.push(immutable('spec.clusterIPs[0]', spec.clusterIP))
      if (os.loadBalancerClass !== undefined && os.type === 'LoadBalancer' && spec.type === 'LoadBalancer' && !same(os.loadBalancerClass, spec.loadBalancerClass)) c.push(immutable('spec.loadBalancerClass', spec.loadBalancerClass))
    }
    arr(obj(obj(o.status).loadBalancer).ingress).map(obj).forEach((ing, i) => {
      const f = `status.loadBalancer.ingress[${i}]`
      if (ing.ip !== undefined && isIP(String(ing.ip)) === 0) c.push(invalid(`${f}.ip`, ing.ip, 'must be a valid IP address'))
      if (ing.ip === undefined && ing.hostname === undefined) c.push(required(`${f}.ip`))
      if (ing.ipMode !== undefined && ing.ipMode !== 'VIP' && ing.ipMode !== 'Proxy') c.push(notSupported(`${f}.ipMode`, ing.ipMode, ['VIP', 'Proxy']))
    })
    return c
  },
  generationChanged: (o, old) => !same(o.spec, old.spec),
}

// ------------------------------------------------------------------ discovery.k8s.io/v1 EndpointSlice

const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN']

export const endpointSlices: ResourceDef = {
  group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', listKind: 'EndpointSliceList', plural: 'endpointslices', singular: 'endpointslice',
  shortNames: [], categories: [], namespaced: true, status: false,
  fields: ['metadata.name', 'metadata.namespace', 'addressType'],
  fieldValues: (o) => ({ 'metadata.name': String(obj(o.metadata).name ?? ''), 'metadata.namespace': String(obj(o.metadata).namespace ?? ''), addressType: String(o.addressType ?? '') }),
  // endpoints and ports are atomic lists (+listType=atomic)
  patchMeta: { fields: { metadata: { fields: metaFields } } },
  nameRule: 'dns1123subdomain',
  defaults(o) {
    for (const p of arr(o.ports)) { const port = obj(p); port.protocol ??= 'TCP' }
    // `endpoints` has no omitempty in the Go type: an empty slice is serialised as null
    if (o.endpoints === undefined || (Array.isArray(o.endpoints) && o.endpoints.length === 0)) o.endpoints = null
  },
  validate(o, old) {
    const c: Cause[] = []
    if (!ADDRESS_TYPES.includes(String(o.addressType))) c.push(o.addressType === undefined ? required('addressType') : notSupported('addressType', o.addressType, ADDRESS_TYPES))
    if (old && old.addressType !== o.addressType) c.push(immutable('addressType', o.addressType))
    const eps = arr(o.endpoints).map(obj)
    if (eps.length > 1000) c.push({ reason: 'FieldValueTooMany', field: 'endpoints', message: `Too many: ${eps.length}: must have at most 1000 items` })
    eps.forEach((ep, i) => {
      const f = `endpoints[${i}]`
      const addrs = arr(ep.addresses)
      if (addrs.length < 1 || addrs.length > 100) c.push(required(`${f}.addresses`))
      addrs.forEach((a, j) => {
        const fam = isIP(String(a))
        if (o.addressType === 'IPv4' && fam !== 4) c.push(invalid(`${f}.addresses[${j}]`, a, 'must be a valid IPv4 address'))
        if (o.addressType === 'IPv6' && fam !== 6) c.push(invalid(`${f}.addresses[${j}]`, a, 'must be a valid IPv6 address'))
      })
      const cond = ep.conditions
      if (cond !== undefined) for (const k of ['ready', 'serving', 'terminating']) {
        const v = obj(cond)[k]
        if (v !== undefined && v !== null && typeof v !== 'boolean') c.push(invalid(`${f}.conditions.${k}`, v, 'must be a boolean'))
      }
      if (ep.nodeName !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(String(ep.nodeName))) c.push(invalid(`${f}.nodeName`, ep.nodeName, 'a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\''))
    })
    arr(o.ports).map(obj).forEach((p, i) => {
      if (p.port !== undefined && p.port !== null && (typeof p.port !== 'number' || p.port < 1 || p.port > 65535)) c.push(invalid(`ports[${i}].port`, p.port, 'must be between 1 and 65535, inclusive'))
      if (!PORT_PROTOCOLS.includes(String(p.protocol))) c.push(notSupported(`ports[${i}].protocol`, p.protocol, PORT_PROTOCOLS))
    })
    return c
  },
  generationChanged: (o, old) => !same(o.endpoints, old.endpoints) || !same(o.ports, old.ports) || !same(o.addressType, old.addressType),
}

export const RESOURCES: readonly ResourceDef[] = [services, endpointSlices]
