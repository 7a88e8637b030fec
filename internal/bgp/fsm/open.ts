// OPEN building, validation (RFC 4271 6.2, RFC 5492, RFC 6286, RFC 6793) and capability
// negotiation. Pure.
import { PorterError } from '../../errors/index.ts'
import {
  AFI_IPV4, AFI_IPV6, SAFI_UNICAST,
  type AddPathMode, type Capability, type FamilyKey, type OpenMessage,
} from '../wire/types.ts'
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts'
import { AS_TRANS, BGP_VERSION, OpenSubcode } from './codes.ts'
import type { FsmConfig, Negotiated, RequiredCapability } from './types.ts'

/** Dotted quad -> unsigned 32-bit number, or undefined when it is not one. */
export function routerIdToU32(id: string): number | undefined {
  const parts = id.split('.')
  if (parts.length !== 4) return undefined
  let v = 0
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined
    const n = Number(p)
    if (n > 255) return undefined
    v = v * 256 + n
  }
  return v
}

export interface FsmConfigInput {
  localAs: number
  remoteAs: number
  routerId: string
  holdTime?: number
  connectRetryTime?: number
  largeHoldTime?: number
  passive?: boolean
  autoRestart?: boolean
  capabilities?: readonly Capability[]
  requiredCapabilities?: readonly RequiredCapability[]
  backoff?: Partial<BackoffPolicy>
}

function isAsn(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 0xffffffff
}

function invalid(msg: string): PorterError {
  return new PorterError('PORTER_ERR_CONFIG_INVALID', msg)
}

/** Fill defaults and check the values; throws PorterError PORTER_ERR_CONFIG_INVALID. */
export function fsmConfig(input: FsmConfigInput): FsmConfig {
  if (!isAsn(input.localAs)) throw invalid(`Cannot use local AS "${input.localAs}": expected an integer from 1 to 4294967295`)
  if (!isAsn(input.remoteAs)) throw invalid(`Cannot use remote AS "${input.remoteAs}": expected an integer from 1 to 4294967295`)
  const rid = routerIdToU32(input.routerId)
  if (rid === undefined || rid === 0) throw invalid(`Cannot use router id "${input.routerId}": expected a non-zero dotted quad such as "192.0.2.1"`)
  const holdTime = input.holdTime ?? 90
  if (!Number.isInteger(holdTime) || holdTime < 0 || holdTime > 65535 || holdTime === 1 || holdTime === 2) {
    throw invalid(`Cannot use hold time "${holdTime}": expected 0 or an integer from 3 to 65535 seconds`)
  }
  const connectRetryTime = input.connectRetryTime ?? 120
  if (!(connectRetryTime > 0)) throw invalid(`Cannot use connect retry time "${connectRetryTime}": expected a positive number of seconds`)
  const largeHoldTime = input.largeHoldTime ?? 240
  if (!(largeHoldTime > 0)) throw invalid(`Cannot use large hold time "${largeHoldTime}": expected a positive number of seconds`)
  const backoff: BackoffPolicy = Object.freeze({ ...DEFAULT_BACKOFF, ...input.backoff })
  if (!(backoff.initialSeconds > 0) || !(backoff.maxSeconds >= backoff.initialSeconds) || !(backoff.multiplier >= 1) || !(backoff.stableSeconds >= 0)) {
    throw invalid(`Cannot use back-off policy ${JSON.stringify(backoff)}: expected 0 < initialSeconds <= maxSeconds, multiplier >= 1, stableSeconds >= 0`)
  }
  return Object.freeze({
    localAs: input.localAs,
    remoteAs: input.remoteAs,
    routerId: input.routerId,
    holdTime,
    connectRetryTime,
    largeHoldTime,
    passive: input.passive ?? false,
    autoRestart: input.autoRestart ?? true,
    capabilities: Object.freeze([...(input.capabilities ?? defaultCapabilities({ localAs: input.localAs }))]),
    requiredCapabilities: Object.freeze([...(input.requiredCapabilities ?? [])]),
    backoff,
  })
}

const FAMILY_AFI: Record<FamilyKey, number> = { 'ipv4-unicast': AFI_IPV4, 'ipv6-unicast': AFI_IPV6 }

export function familyKey(afi: number, safi: number): FamilyKey | undefined {
  if (safi !== SAFI_UNICAST) return undefined
  if (afi === AFI_IPV4) return 'ipv4-unicast'
  if (afi === AFI_IPV6) return 'ipv6-unicast'
  return undefined
}

/**
 * The capabilities Porter normally sends: multiprotocol per family, route refresh, 4-octet AS,
 * ADD-PATH per family (default: send), and extended messages when asked.
 */
export function defaultCapabilities(opts: {
  localAs: number
  families?: readonly FamilyKey[]
  addPath?: AddPathMode | 'off'
  extendedMessage?: boolean
}): Capability[] {
  const families = opts.families ?? ['ipv4-unicast', 'ipv6-unicast']
  const caps: Capability[] = families.map((f) => ({ code: 1, kind: 'multiprotocol', afi: FAMILY_AFI[f], safi: SAFI_UNICAST }))
  caps.push({ code: 2, kind: 'route-refresh' })
  caps.push({ code: 65, kind: 'as4', asn: opts.localAs })
  const ap = opts.addPath ?? 'send'
  if (ap !== 'off' && families.length > 0) {
    caps.push({ code: 69, kind: 'add-path', families: families.map((f) => ({ afi: FAMILY_AFI[f], safi: SAFI_UNICAST, mode: ap })) })
  }
  if (opts.extendedMessage) caps.push({ code: 6, kind: 'extended-message' })
  return caps
}

/** The OPEN we send. "My AS" is AS_TRANS when the local AS needs 4 octets. */
export function buildOpen(config: FsmConfig): OpenMessage {
  return {
    type: 'open',
    version: BGP_VERSION,
    myAs: config.localAs > 0xffff ? AS_TRANS : config.localAs,
    holdTime: config.holdTime,
    routerId: config.routerId,
    capabilities: config.capabilities.map((c) => ({ ...c })),
  }
}

function mpFamilies(caps: readonly Capability[]): FamilyKey[] {
  const out: FamilyKey[] = []
  let any = false
  for (const c of caps) {
    if (c.kind !== 'multiprotocol') continue
    any = true
    const f = familyKey(c.afi, c.safi)
    if (f && !out.includes(f)) out.push(f)
  }
  // RFC 4760: a speaker that sends no multiprotocol capability does IPv4 unicast only
  return any ? out : ['ipv4-unicast']
}

function addPathModes(caps: readonly Capability[]): Map<FamilyKey, AddPathMode> {
  const m = new Map<FamilyKey, AddPathMode>()
  for (const c of caps) {
    if (c.kind !== 'add-path') continue
    for (const f of c.families) {
      const k = familyKey(f.afi, f.safi)
      if (k) m.set(k, f.mode)
    }
  }
  return m
}

const sends = (m: AddPathMode | undefined): boolean => m === 'send' || m === 'both'
const receives = (m: AddPathMode | undefined): boolean => m === 'receive' || m === 'both'

/** The peer's effective AS: its 4-octet AS capability when present, else "My AS". */
export function peerAsOf(open: OpenMessage): number {
  for (const c of open.capabilities) if (c.kind === 'as4') return c.asn
  return open.myAs
}

/** What our capabilities and the peer's OPEN agree on. Does not validate (see `validateOpen`). */
export function negotiate(config: FsmConfig, peer: OpenMessage): Negotiated {
  const local = config.capabilities
  const holdTime = Math.min(config.holdTime, peer.holdTime)
  const keepaliveTime = holdTime === 0 ? 0 : Math.max(1, Math.floor(holdTime / 3))
  const peerFams = mpFamilies(peer.capabilities)
  const families = mpFamilies(local).filter((f) => peerFams.includes(f))
  const localAp = addPathModes(local)
  const peerAp = addPathModes(peer.capabilities)
  const addPathTx = new Set<FamilyKey>()
  const addPathRx = new Set<FamilyKey>()
  for (const f of families) {
    if (sends(localAp.get(f)) && receives(peerAp.get(f))) addPathTx.add(f)
    if (receives(localAp.get(f)) && sends(peerAp.get(f))) addPathRx.add(f)
  }
  const has = (caps: readonly Capability[], kind: Capability['kind']): boolean => caps.some((c) => c.kind === kind)
  const as4 = has(local, 'as4') && has(peer.capabilities, 'as4')
  const extended = has(local, 'extended-message') && has(peer.capabilities, 'extended-message')
  const gr = peer.capabilities.find((c): c is Extract<Capability, { kind: 'graceful-restart' }> => c.kind === 'graceful-restart')
  const peerAs = peerAsOf(peer)
  const n: Negotiated = {
    peerAs,
    peerRouterId: peer.routerId,
    holdTime,
    keepaliveTime,
    families,
    codec: {
      as4,
      addPathTx,
      addPathRx,
      // RFC 8654: we send extended messages only when both sides advertised them, and accept
      // them as soon as we advertised them
      maxMessageLength: extended ? 65535 : 4096,
      maxReceiveLength: has(local, 'extended-message') ? 65535 : 4096,
      ibgp: peerAs === config.localAs,
    },
    routeRefresh: has(peer.capabilities, 'route-refresh'),
    peerCapabilities: peer.capabilities,
  }
  if (gr) n.peerGracefulRestart = gr
  return n
}

export type OpenVerdict =
  | { ok: true; negotiated: Negotiated }
  | { ok: false; subcode: number; data: Uint8Array; reason: string }

function matchesRequired(c: Capability, r: RequiredCapability): boolean {
  if (c.code !== r.code) return false
  if (c.kind === 'multiprotocol') return (r.afi === undefined || c.afi === r.afi) && (r.safi === undefined || c.safi === r.safi)
  if (c.kind === 'add-path') {
    return c.families.some((f) => (r.afi === undefined || f.afi === r.afi) && (r.safi === undefined || f.safi === r.safi))
  }
  return true
}

/** Capability TLV (code, length, value) for the NOTIFICATION data of Unsupported Capability. */
export function encodeCapabilityTlv(r: RequiredCapability, local: readonly Capability[]): Uint8Array {
  const mine = local.find((c) => matchesRequired(c, r))
  let value: number[] = []
  if (r.code === 1) {
    const afi = r.afi ?? (mine?.kind === 'multiprotocol' ? mine.afi : 0)
    const safi = r.safi ?? (mine?.kind === 'multiprotocol' ? mine.safi : 0)
    value = [afi >> 8, afi & 0xff, 0, safi & 0xff]
  } else if (r.code === 65) {
    const asn = mine?.kind === 'as4' ? mine.asn : 0
    value = [(asn >>> 24) & 0xff, (asn >>> 16) & 0xff, (asn >>> 8) & 0xff, asn & 0xff]
  } else if (r.code === 69 && mine?.kind === 'add-path') {
    for (const f of mine.families) {
      if ((r.afi !== undefined && f.afi !== r.afi) || (r.safi !== undefined && f.safi !== r.safi)) continue
      value.push(f.afi >> 8, f.afi & 0xff, f.safi & 0xff, f.mode === 'receive' ? 1 : f.mode === 'send' ? 2 : 3)
    }
  } else if (mine?.kind === 'unknown') {
    value = [...mine.data]
  }
  return Uint8Array.from([r.code & 0xff, value.length & 0xff, ...value])
}

const fail = (subcode: number, reason: string, data: Uint8Array = new Uint8Array(0)): OpenVerdict => ({ ok: false, subcode, data, reason })

/**
 * Check a received OPEN against our configuration (RFC 4271 6.2 order). On failure returns the
 * OPEN Message Error subcode and data for the NOTIFICATION.
 */
export function validateOpen(config: FsmConfig, open: OpenMessage): OpenVerdict {
  if (open.version !== BGP_VERSION) {
    return fail(OpenSubcode.UnsupportedVersionNumber, `peer speaks BGP version ${open.version}, we support ${BGP_VERSION}`,
      Uint8Array.from([0, BGP_VERSION]))
  }
  const peerAs = peerAsOf(open)
  if (peerAs !== config.remoteAs) {
    return fail(OpenSubcode.BadPeerAs, `peer announced AS ${peerAs}, configured remote AS is ${config.remoteAs}`)
  }
  if (open.holdTime === 1 || open.holdTime === 2) {
    return fail(OpenSubcode.UnacceptableHoldTime, `peer proposed hold time ${open.holdTime}s (must be 0 or at least 3)`)
  }
  const pid = routerIdToU32(open.routerId)
  if (pid === undefined || pid === 0) {
    return fail(OpenSubcode.BadBgpIdentifier, `peer BGP identifier "${open.routerId}" is not valid`)
  }
  if (peerAs === config.localAs && pid === routerIdToU32(config.routerId)) {
    return fail(OpenSubcode.BadBgpIdentifier, `iBGP peer uses our own BGP identifier "${open.routerId}"`)
  }
  if (open.otherParams && open.otherParams.length > 0) {
    const types = open.otherParams.map((p) => p.type).join(', ')
    return fail(OpenSubcode.UnsupportedOptionalParameter, `peer sent unsupported optional parameter type ${types}`)
  }
  const missing = config.requiredCapabilities.filter((r) => !open.capabilities.some((c) => matchesRequired(c, r)))
  if (missing.length > 0) {
    const tlvs = missing.map((r) => encodeCapabilityTlv(r, config.capabilities))
    const data = new Uint8Array(tlvs.reduce((n, t) => n + t.length, 0))
    let o = 0
    for (const t of tlvs) { data.set(t, o); o += t.length }
    const names = missing.map((r) => r.afi !== undefined ? `${r.code} (afi ${r.afi} safi ${r.safi ?? '*'})` : `${r.code}`).join(', ')
    return fail(OpenSubcode.UnsupportedCapability, `peer lacks required capability ${names}`, data)
  }
  return { ok: true, negotiated: negotiate(config, open) }
}
