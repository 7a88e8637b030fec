// PURE converters for Porter's CRDs (group network.kubesphere.io, version v1alpha2, OpenELB's
// field names): Eip -> an IP pool, BgpConf "default" -> the speaker's global settings, BgpPeer ->
// a BGP neighbour. Every problem carries its field path ("spec.conf.peerAs: ..."); fields Porter
// does not act on are listed (never silently dropped) so the controller can put them in a
// condition.
import { canonicalIp, isIP } from '../ip/index.ts'
import { parseRange, type NamespaceSelector, type Pool } from '../ipam/index.ts'
import { arr, named, obj, str, strMap } from './convert.ts'

export const CRD_GROUP = 'network.kubesphere.io'
export const CRD_VERSION = 'v1alpha2'
export const DEFAULT_EIP_ANNOTATION = 'eip.openelb.kubesphere.io/is-default-eip'
/** the only BgpConf Porter reads (as OpenELB) */
export const BGPCONF_NAME = 'default'
/**
 * Who peers with a BgpPeer: `controller` (default: the controller replicas, next hops as given,
 * spec.nodeSelector filters them) or `node` (per-node speakers: the agent of every node that
 * spec.nodeSelector selects, next hop self; OpenELB's speaker model)
 */
export const SPEAKER_ANNOTATION = 'porter.kubesphere.io/speaker'

export interface FieldError { path: string; message: string }

/** metav1.LabelSelector: the allocator's namespace selector type, used for node selectors too */
export type LabelSelector = NamespaceSelector

export interface EipInfo {
  name: string
  resourceVersion?: string
  /** undefined when the Eip is invalid or its protocol unsupported: it gives no IPs */
  pool?: Pool
  protocol: string
  errors: FieldError[]
  /** "spec.protocol: layer2 is not supported by Porter (BGP only)" */
  unsupported?: string
  /** field paths accepted but not acted on */
  ignored: string[]
  /** status.used as last written: IP -> "namespace/name" (comma-joined when shared) */
  used: Record<string, string>
}

export interface BgpGlobal {
  as?: number
  routerId?: string
  listenPort?: number
  listenAddresses?: string[]
  gracefulRestart?: { enabled: boolean; restartTime?: number }
}

export interface BgpConfInfo { name: string; global: BgpGlobal; errors: FieldError[]; ignored: string[] }

export interface BgpPeerInfo {
  name: string
  address?: string
  peerAs?: number
  port?: number
  passive?: boolean
  holdTime?: number
  addPath?: boolean
  families?: ('ipv4-unicast' | 'ipv6-unicast')[]
  /** conf.authPassword given inline (a Warning event recommends the Secret) */
  inlinePassword?: string
  secretRef?: { name: string; namespace: string; key: string }
  nodeSelector?: LabelSelector
  /** SPEAKER_ANNOTATION is `node`: the selected nodes' agents peer, not the controller */
  perNode?: boolean
  /** spec.ebgpMultihop.config: TTL of our packets to an eBGP peer (enabled without multihopTtl: 255, as GoBGP) */
  ebgpMultihop?: number
  /** spec.ttlSecurity.config.enabled: GTSM (RFC 5082) */
  ttlSecurity?: boolean
  errors: FieldError[]
  ignored: string[]
}

/** What the CRDs say about BGP, with MD5 keys read from their Secrets (never logged). */
export interface CrdBgp {
  conf?: BgpConfInfo
  peers: BgpPeerInfo[]
  /** peer name -> key */
  keys: Map<string, Uint8Array>
  /** peer name -> next-hop addresses it may get (BgpPeer.nodeSelector); absent: all */
  nextHopFilters: Map<string, ReadonlySet<string>>
}

/** who speaks: the controller, or one node's agent (its labels choose its BgpPeers; its router ID) */
export type Speaking = { role: 'controller' } | { role: 'node'; labels: Readonly<Record<string, string>>; routerId: string | undefined }

/** whether `who` peers with the BgpPeer `p` (SPEAKER_ANNOTATION; for nodes, spec.nodeSelector) */
export function peeredBy(p: BgpPeerInfo, who: Speaking): boolean {
  if (who.role === 'controller') return p.perNode !== true
  return p.perNode === true && (p.nodeSelector === undefined || matchesSelector(p.nodeSelector, who.labels))
}

/** Paths of every leaf under `o` not in `known` (dotted, array items as [i]). */
function leaves(o: unknown, prefix: string, known: ReadonlySet<string>, out: string[]): void {
  if (known.has(prefix)) return
  if (typeof o === 'object' && o !== null && !Array.isArray(o)) {
    const entries = Object.entries(o)
    if (entries.length === 0 && prefix) out.push(prefix)
    for (const [k, v] of entries) leaves(v, prefix ? `${prefix}.${k}` : k, known, out)
  } else if (Array.isArray(o)) {
    if (known.has(`${prefix}[]`)) return
    o.forEach((v, i) => leaves(v, `${prefix}[${i}]`, known, out))
  } else if (prefix) out.push(prefix)
}

function ignoredOf(spec: unknown, root: string, known: string[]): string[] {
  const out: string[] = []
  leaves(spec, root, new Set(known.map((k) => `${root}.${k}`)), out)
  return out
}

function selectorOf(v: unknown, path: string, errors: FieldError[]): LabelSelector | undefined {
  if (v === undefined || v === null) return undefined
  const o = obj(v)
  const sel: LabelSelector = {}
  if (o.matchLabels !== undefined) sel.matchLabels = strMap(o.matchLabels)
  const exprs = arr(o.matchExpressions)
  if (exprs.length) {
    sel.matchExpressions = []
    exprs.forEach((e, i) => {
      const x = obj(e)
      const op = x.operator
      const key = str(x.key)
      if (!key || (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist')) {
        errors.push({ path: `${path}.matchExpressions[${i}]`, message: 'needs a key and an operator In, NotIn, Exists or DoesNotExist' })
        return
      }
      sel.matchExpressions!.push({ key, operator: op, values: arr(x.values).filter((s): s is string => typeof s === 'string') })
    })
  }
  return sel
}

/** Does `labels` match `sel` (Kubernetes label selector semantics; an empty selector matches all)? */
export function matchesSelector(sel: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key)
    const val = labels[e.key]
    switch (e.operator) {
      case 'In': if (!has || !e.values?.includes(val!)) return false; break
      case 'NotIn': if (has && e.values?.includes(val!)) return false; break
      case 'Exists': if (!has) return false; break
      case 'DoesNotExist': if (has) return false; break
    }
  }
  return true
}

export function toEipInfo(o: unknown): EipInfo | undefined {
  const n = named(o)
  if (!n) return undefined
  const { m, name } = n
  const spec = obj(obj(o).spec)
  const errors: FieldError[] = []
  const protocol = str(spec.protocol) ?? 'bgp'
  const info: EipInfo = {
    name, protocol, errors,
    ignored: ignoredOf(spec, 'spec', ['address', 'protocol', 'disable', 'priority', 'namespaces', 'namespaceSelector']),
    used: strMap(obj(obj(o).status).used),
  }
  const rv = str(m.resourceVersion)
  if (rv) info.resourceVersion = rv
  if (protocol !== 'bgp') info.unsupported = `spec.protocol: ${JSON.stringify(protocol)} is not supported by Porter (only "bgp"); this Eip gives no IPs`
  const address = str(spec.address)
  const range = address === undefined ? 'is required' : parseRange(address)
  if (typeof range === 'string') errors.push({ path: 'spec.address', message: range })
  const namespaceSelector = selectorOf(spec.namespaceSelector, 'spec.namespaceSelector', errors)
  const priority = spec.priority === undefined ? 0 : Number(spec.priority)
  if (!Number.isInteger(priority)) errors.push({ path: 'spec.priority', message: `${JSON.stringify(spec.priority)} is not an integer` })
  if (errors.length === 0 && info.unsupported === undefined && typeof range !== 'string') {
    info.pool = {
      name,
      range,
      disabled: spec.disable === true,
      priority,
      namespaces: arr(spec.namespaces).filter((s): s is string => typeof s === 'string'),
      ...(namespaceSelector ? { namespaceSelector } : {}),
      isDefault: strMap(m.annotations)[DEFAULT_EIP_ANNOTATION] === 'true',
    }
  }
  return info
}

const asn = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 4294967295 ? v : undefined)

export function toBgpConfInfo(o: unknown): BgpConfInfo | undefined {
  const n = named(o)
  if (!n) return undefined
  const { m, name } = n
  const spec = obj(obj(o).spec)
  const errors: FieldError[] = []
  const global: BgpGlobal = {}
  if (spec.as !== undefined) {
    const a = asn(spec.as)
    if (a === undefined) errors.push({ path: 'spec.as', message: `${JSON.stringify(spec.as)} is not an AS number (1-4294967295)` })
    else global.as = a
  }
  if (spec.routerId !== undefined) {
    const r = str(spec.routerId)
    if (r === undefined || isIP(r) !== 4) errors.push({ path: 'spec.routerId', message: `${JSON.stringify(spec.routerId)} is not an IPv4 address` })
    else global.routerId = r
  }
  if (spec.listenPort !== undefined) {
    const p = spec.listenPort
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) errors.push({ path: 'spec.listenPort', message: `${JSON.stringify(p)} is not a port (0-65535)` })
    else global.listenPort = p
  }
  if (spec.listenAddresses !== undefined) {
    const list = arr(spec.listenAddresses)
    list.forEach((a, i) => { if (typeof a !== 'string' || isIP(a) === 0) errors.push({ path: `spec.listenAddresses[${i}]`, message: `${JSON.stringify(a)} is not an IP address` }) })
    global.listenAddresses = list.filter((a): a is string => typeof a === 'string' && isIP(a) !== 0)
  }
  if (spec.gracefulRestart !== undefined) {
    const gr = obj(spec.gracefulRestart)
    const rt = gr.restartTime
    global.gracefulRestart = { enabled: gr.enabled !== false }
    if (rt !== undefined) {
      if (typeof rt !== 'number' || !Number.isInteger(rt) || rt < 1 || rt > 4095) errors.push({ path: 'spec.gracefulRestart.restartTime', message: `${JSON.stringify(rt)} is not a restart time (1-4095 seconds)` })
      else global.gracefulRestart.restartTime = rt
    }
  }
  return { name, global, errors, ignored: ignoredOf(spec, 'spec', ['as', 'routerId', 'listenPort', 'listenAddresses', 'gracefulRestart.enabled', 'gracefulRestart.restartTime']) }
}

const FAMILY: Record<string, 'ipv4-unicast' | 'ipv6-unicast'> = { AFI_IP: 'ipv4-unicast', AFI_IP6: 'ipv6-unicast' }

export function toBgpPeerInfo(o: unknown): BgpPeerInfo | undefined {
  const n = named(o)
  if (!n) return undefined
  const { m, name } = n
  const spec = obj(obj(o).spec)
  const conf = obj(spec.conf)
  const errors: FieldError[] = []
  const info: BgpPeerInfo = { name, errors, ignored: [] }
  const addr = canonicalIp(str(conf.neighborAddress) ?? '')
  if (addr === undefined) errors.push({ path: 'spec.conf.neighborAddress', message: conf.neighborAddress === undefined ? 'is required' : `${JSON.stringify(conf.neighborAddress)} is not an IP address` })
  else info.address = addr
  const peerAs = asn(conf.peerAs)
  if (peerAs === undefined) errors.push({ path: 'spec.conf.peerAs', message: conf.peerAs === undefined ? 'is required' : `${JSON.stringify(conf.peerAs)} is not an AS number (1-4294967295)` })
  else info.peerAs = peerAs
  const pw = str(conf.authPassword)
  if (pw) info.inlinePassword = pw
  const ref = obj(conf.authPasswordSecretRef)
  if (conf.authPasswordSecretRef !== undefined) {
    const rn = str(ref.name)
    const rns = str(ref.namespace)
    if (!rn || !rns) errors.push({ path: 'spec.conf.authPasswordSecretRef', message: 'needs name and namespace (key defaults to "password")' })
    else info.secretRef = { name: rn, namespace: rns, key: str(ref.key) ?? 'password' }
  }
  if (pw && info.secretRef) errors.push({ path: 'spec.conf.authPassword', message: 'set either authPassword or authPasswordSecretRef, not both' })
  const tr = obj(spec.transport)
  if (tr.passiveMode !== undefined) info.passive = tr.passiveMode === true
  if (tr.remotePort !== undefined) {
    const p = tr.remotePort
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) errors.push({ path: 'spec.transport.remotePort', message: `${JSON.stringify(p)} is not a port (1-65535)` })
    else info.port = p
  }
  const hold = obj(obj(spec.timers).config).holdTime
  if (hold !== undefined) {
    if (typeof hold !== 'number' || !Number.isInteger(hold) || (hold !== 0 && (hold < 3 || hold > 65535))) errors.push({ path: 'spec.timers.config.holdTime', message: `${JSON.stringify(hold)} is not a hold time (0, or 3-65535 seconds)` })
    else info.holdTime = hold
  }
  const afis = arr(spec.afiSafis)
  if (afis.length) {
    const fams = new Set<'ipv4-unicast' | 'ipv6-unicast'>()
    let addPath = false
    afis.forEach((a, i) => {
      const fam = obj(obj(obj(a).config).family)
      const f = FAMILY[str(fam.afi) ?? '']
      if (!f || (fam.safi !== undefined && fam.safi !== 'SAFI_UNICAST')) errors.push({ path: `spec.afiSafis[${i}].config.family`, message: `${JSON.stringify(fam)} is not a supported family (afi AFI_IP or AFI_IP6, safi SAFI_UNICAST)` })
      else if (obj(obj(a).config).enabled !== false) fams.add(f)
      const sendMax = obj(obj(obj(a).addPaths).config).sendMax
      if (typeof sendMax === 'number' && sendMax > 1) addPath = true
    })
    if (fams.size) info.families = [...fams].sort()
    info.addPath = addPath
  }
  const nsel = selectorOf(spec.nodeSelector, 'spec.nodeSelector', errors)
  if (nsel) info.nodeSelector = nsel
  const speaker = strMap(m.annotations)[SPEAKER_ANNOTATION]
  if (speaker === 'node') info.perNode = true
  else if (speaker !== undefined && speaker !== 'controller') errors.push({ path: `metadata.annotations["${SPEAKER_ANNOTATION}"]`, message: `${JSON.stringify(speaker)} is not a speaker: "controller" (default: the controller replicas peer) or "node" (the agents of the nodes spec.nodeSelector selects peer, next hop self)` })
  const mh = obj(obj(spec.ebgpMultihop).config)
  if (mh.enabled === true) {
    const ttl = mh.multihopTtl ?? 255
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > 255) errors.push({ path: 'spec.ebgpMultihop.config.multihopTtl', message: `${JSON.stringify(ttl)} is not a TTL (1-255)` })
    else info.ebgpMultihop = ttl
  }
  if (obj(obj(spec.ttlSecurity).config).enabled === true) {
    info.ttlSecurity = true
    if (info.ebgpMultihop !== undefined) errors.push({ path: 'spec.ttlSecurity.config.enabled', message: 'GTSM (TTL 255, accepting 254 or more) needs the router one hop away: it excludes ebgpMultihop' })
  }
  info.ignored = ignoredOf(spec, 'spec', [
    'conf.neighborAddress', 'conf.peerAs', 'conf.authPassword', 'conf.authPasswordSecretRef', 'transport.passiveMode', 'transport.remotePort',
    'timers.config.holdTime', 'afiSafis', 'nodeSelector', 'ebgpMultihop.config.enabled', 'ebgpMultihop.config.multihopTtl', 'ttlSecurity.config.enabled',
  ])
  return info
}
