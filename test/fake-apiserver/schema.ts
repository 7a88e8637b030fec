// Field schemas of the served kinds (the subset of the Go types' JSON fields that matters for
// validation), the OpenAPI v3 documents kubectl reads from them (/openapi/v3, one document per
// group-version: operations carry x-kubernetes-group-version-kind and the fieldValidation
// parameter, schemas carry x-kubernetes-patch-merge-key / -strategy), and server-side field
// validation (fieldValidation=Strict|Warn|Ignore: unknown fields are errors or warnings).
import { createHash } from 'node:crypto'
import type { Json, JsonObject } from './patch.ts'
import { apiVersionOf, type ResourceDef } from './resources.ts'

/** 's' string, 'i' integer, 'b' boolean, 'map' string->string, 'any' free-form, 'io' int-or-string, object, [item] list */
export type Field = 's' | 'i' | 'b' | 'map' | 'any' | 'io' | { [k: string]: Field } | [Field]

const objectMeta: Field = {
  name: 's', generateName: 's', namespace: 's', selfLink: 's', uid: 's', resourceVersion: 's', generation: 'i',
  creationTimestamp: 's', deletionTimestamp: 's', deletionGracePeriodSeconds: 'i', labels: 'map', annotations: 'map',
  ownerReferences: [{ apiVersion: 's', kind: 's', name: 's', uid: 's', controller: 'b', blockOwnerDeletion: 'b' }],
  finalizers: ['s'], managedFields: ['any'],
}

export const SCHEMAS: Record<string, Field> = {
  Service: {
    apiVersion: 's', kind: 's', metadata: objectMeta,
    spec: {
      ports: [{ name: 's', protocol: 's', appProtocol: 's', port: 'i', targetPort: 'io', nodePort: 'i' }],
      selector: 'map', clusterIP: 's', clusterIPs: ['s'], type: 's', externalIPs: ['s'], sessionAffinity: 's',
      loadBalancerIP: 's', loadBalancerSourceRanges: ['s'], externalName: 's', externalTrafficPolicy: 's',
      healthCheckNodePort: 'i', publishNotReadyAddresses: 'b', sessionAffinityConfig: { clientIP: { timeoutSeconds: 'i' } },
      ipFamilies: ['s'], ipFamilyPolicy: 's', allocateLoadBalancerNodePorts: 'b', loadBalancerClass: 's',
      internalTrafficPolicy: 's', trafficDistribution: 's',
    },
    status: {
      loadBalancer: { ingress: [{ ip: 's', hostname: 's', ipMode: 's', ports: [{ port: 'i', protocol: 's', error: 's' }] }] },
      conditions: [{ type: 's', status: 's', observedGeneration: 'i', lastTransitionTime: 's', reason: 's', message: 's' }],
    },
  },
  EndpointSlice: {
    apiVersion: 's', kind: 's', metadata: objectMeta, addressType: 's',
    endpoints: [{
      addresses: ['s'], conditions: { ready: 'b', serving: 'b', terminating: 'b' }, hostname: 's',
      targetRef: { kind: 's', namespace: 's', name: 's', uid: 's', apiVersion: 's', resourceVersion: 's', fieldPath: 's' },
      deprecatedTopology: 'map', nodeName: 's', zone: 's', hints: { forZones: [{ name: 's' }], forNodes: [{ name: 's' }] },
    }],
    ports: [{ name: 's', protocol: 's', port: 'i', appProtocol: 's' }],
  },
}

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Paths of fields the schema does not declare, as kube-apiserver names them ("spec.foo", "spec.ports[0].bar"). */
export function unknownFields(o: Json, f: Field, path = ''): string[] {
  if (o === null) return []
  if (Array.isArray(f)) return Array.isArray(o) ? o.flatMap((x, i) => unknownFields(x, f[0], `${path}[${i}]`)) : []
  if (typeof f === 'string') return []
  if (!isObj(o)) return []
  const out: string[] = []
  for (const [k, v] of Object.entries(o)) {
    const p = path ? `${path}.${k}` : k
    const sub = f[k]
    if (sub === undefined) out.push(p)
    else out.push(...unknownFields(v, sub, p))
  }
  return out
}

// ---------------------------------------------------------------- OpenAPI v3

/** x-kubernetes-* patch extensions from the strategic merge patch tags */
function patchExt(def: ResourceDef, path: string[]): JsonObject {
  let m = def.patchMeta
  for (const seg of path) m = m.fields?.[seg] ?? {}
  if (m.mergeKey) return { 'x-kubernetes-patch-merge-key': m.mergeKey, 'x-kubernetes-patch-strategy': 'merge' }
  if (m.primitiveMerge) return { 'x-kubernetes-patch-strategy': 'merge' }
  return {}
}

function toOpenApi(def: ResourceDef, f: Field, path: string[]): JsonObject {
  if (f === 's') return { type: 'string' }
  if (f === 'i') return { type: 'integer', format: 'int32' }
  if (f === 'b') return { type: 'boolean' }
  if (f === 'io') return { 'x-kubernetes-int-or-string': true }
  if (f === 'map') return { type: 'object', additionalProperties: { type: 'string', default: '' } }
  if (f === 'any') return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }
  if (Array.isArray(f)) return { type: 'array', items: toOpenApi(def, f[0], path), ...patchExt(def, path) }
  const properties: JsonObject = {}
  for (const [k, v] of Object.entries(f)) properties[k] = toOpenApi(def, v, [...path, k])
  return { type: 'object', properties }
}

export const schemaName = (d: ResourceDef) => `io.k8s.api.${d.group ? d.group.split('.')[0] : 'core'}.${d.version}.${d.kind}`

export function openApiGroupVersion(defs: readonly ResourceDef[]): JsonObject {
  const paths: JsonObject = {}
  const schemas: JsonObject = {}
  for (const d of defs) {
    const gvk = { group: d.group, version: d.version, kind: d.kind }
    const prefix = d.group ? `/apis/${d.group}/${d.version}` : `/api/${d.version}`
    const ref = { $ref: `#/components/schemas/${schemaName(d)}` }
    const body = (types: string[]) => ({ content: Object.fromEntries(types.map((t) => [t, { schema: ref }])), required: true })
    const q = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } })
    const writeParams = [q('dryRun'), q('fieldManager'), q('fieldValidation'), q('pretty')]
    const ok = { responses: { 200: { description: 'OK', content: { 'application/json': { schema: ref } } } } }
    const op = (action: string, extra: JsonObject = {}) => ({ operationId: `${action}${d.kind}`, tags: [d.group || 'core_v1'], 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, ...ok, ...extra })
    const item = {
      get: op('get', { parameters: [q('pretty')] }),
      put: op('put', { parameters: writeParams, requestBody: body(['*/*']) }),
      patch: op('patch', {
        parameters: [...writeParams, q('force')],
        requestBody: body(['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']),
      }),
      delete: op('delete', { parameters: [q('dryRun'), q('gracePeriodSeconds'), q('propagationPolicy')] }),
    }
    paths[`${prefix}/namespaces/{namespace}/${d.plural}/{name}`] = item
    paths[`${prefix}/namespaces/{namespace}/${d.plural}`] = {
      get: op('list', { parameters: ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'resourceVersionMatch', 'watch', 'allowWatchBookmarks', 'timeoutSeconds', 'sendInitialEvents'].map(q) }),
      post: op('post', { parameters: writeParams, requestBody: body(['*/*']) }),
    }
    if (d.status) paths[`${prefix}/namespaces/{namespace}/${d.plural}/{name}/status`] = item
    schemas[schemaName(d)] = { ...toOpenApi(d, SCHEMAS[d.kind]!, []), 'x-kubernetes-group-version-kind': [gvk] }
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas } }
}

/** /openapi/v3: one entry per group-version, with a content hash in the URL as kube-apiserver does */
export function openApiIndex(byGv: Map<string, readonly ResourceDef[]>): JsonObject {
  const paths: JsonObject = {}
  for (const [gv, defs] of byGv) {
    const hash = createHash('sha512').update(JSON.stringify(openApiGroupVersion(defs))).digest('hex').toUpperCase().slice(0, 128)
    paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${hash}` }
  }
  return { paths }
}

export const gvPath = (d: ResourceDef) => (d.group ? `apis/${d.group}/${d.version}` : `api/${d.version}`)
export { apiVersionOf }
