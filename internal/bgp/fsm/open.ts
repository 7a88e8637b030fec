// The FSM's side of the OPEN exchange (RFC 4271 6.2, RFC 5492, RFC 6286, RFC 6793): its
// configuration, the checks of the peer's OPEN, and the session view of what the codec's
// negotiate() agreed on. Building the OPEN and negotiating are the codec's (wire/open.ts,
// wire/negotiate.ts). Pure.
import { PorterError } from '../../errors/index.ts'
import { parseIpv4 } from '../../ip/index.ts'
import {
  BGP_VERSION, OpenSubcode, asnOf, makeCapabilities, negotiate, openMessage, unsupportedCapabilityNotification,
  type Capability, type OpenMessage,
} from '../wire/index.ts'
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts'
import type { FsmConfig, Negotiated, RequiredCapability } from './types.ts'

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
  if (parseIpv4(input.routerId) <= 0) throw invalid(`Cannot use router id "${input.routerId}": expected a non-zero dotted quad such as "192.0.2.1"`)
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
    capabilities: Object.freeze([...(input.capabilities ?? makeCapabilities({ asn: input.localAs, addPath: 'send' }))]),
    requiredCapabilities: Object.freeze([...(input.requiredCapabilities ?? [])]),
    backoff,
  })
}

/** The OPEN we send: our capabilities as configured (see `makeCapabilities`). */
export function buildOpen(config: FsmConfig): OpenMessage {
  return openMessage({ asn: config.localAs, holdTime: config.holdTime, routerId: config.routerId, capabilities: config.capabilities.map((c) => ({ ...c })) })
}

/** The session's view of what our OPEN and the peer's agree on (the codec's `negotiate`). Does not validate (see `validateOpen`). */
export function negotiateSession(config: FsmConfig, peer: OpenMessage): Negotiated {
  const agreed = negotiate(buildOpen(config), peer)
  const n: Negotiated = {
    peerAs: agreed.remoteAs,
    peerRouterId: agreed.remoteRouterId,
    holdTime: agreed.holdTime,
    keepaliveTime: agreed.keepaliveTime,
    families: agreed.families,
    codec: agreed.ctx,
    routeRefresh: peer.capabilities.some((c) => c.kind === 'route-refresh'),
    peerCapabilities: peer.capabilities,
  }
  const gr = peer.capabilities.find((c): c is Extract<Capability, { kind: 'graceful-restart' }> => c.kind === 'graceful-restart')
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

/** The capability we require, as the NOTIFICATION data of Unsupported Capability lists it (our own value where we have one). */
function requiredCapability(r: RequiredCapability, local: readonly Capability[]): Capability {
  const mine = local.find((c) => matchesRequired(c, r))
  if (r.code === 1) {
    return { code: 1, kind: 'multiprotocol', afi: r.afi ?? (mine?.kind === 'multiprotocol' ? mine.afi : 0), safi: r.safi ?? (mine?.kind === 'multiprotocol' ? mine.safi : 0) }
  }
  if (r.code === 65) return { code: 65, kind: 'as4', asn: mine?.kind === 'as4' ? mine.asn : 0 }
  if (r.code === 69 && mine?.kind === 'add-path') {
    const families = mine.families.filter((f) => (r.afi === undefined || f.afi === r.afi) && (r.safi === undefined || f.safi === r.safi))
    return { code: 69, kind: 'add-path', families }
  }
  if (mine?.kind === 'unknown') return mine
  return { code: r.code, kind: 'unknown', data: new Uint8Array(0) }
}

const fail = (subcode: number, reason: string, data: Uint8Array = new Uint8Array(0)): OpenVerdict => ({ ok: false, subcode, data, reason })

/**
 * Check a received OPEN against our configuration (RFC 4271 6.2 order). On failure returns the
 * OPEN Message Error subcode and data for the NOTIFICATION.
 */
export function validateOpen(config: FsmConfig, open: OpenMessage): OpenVerdict {
  if (open.version !== BGP_VERSION) {
    return fail(OpenSubcode.UNSUPPORTED_VERSION_NUMBER, `peer speaks BGP version ${open.version}, we support ${BGP_VERSION}`,
      Uint8Array.from([0, BGP_VERSION]))
  }
  const peerAs = asnOf(open)
  if (peerAs !== config.remoteAs) {
    return fail(OpenSubcode.BAD_PEER_AS, `peer announced AS ${peerAs}, configured remote AS is ${config.remoteAs}`)
  }
  if (open.holdTime === 1 || open.holdTime === 2) {
    return fail(OpenSubcode.UNACCEPTABLE_HOLD_TIME, `peer proposed hold time ${open.holdTime}s (must be 0 or at least 3)`)
  }
  const pid = parseIpv4(open.routerId)
  if (pid <= 0) {
    return fail(OpenSubcode.BAD_BGP_IDENTIFIER, `peer BGP identifier "${open.routerId}" is not valid`)
  }
  if (peerAs === config.localAs && pid === parseIpv4(config.routerId)) {
    return fail(OpenSubcode.BAD_BGP_IDENTIFIER, `iBGP peer uses our own BGP identifier "${open.routerId}"`)
  }
  if (open.otherParams && open.otherParams.length > 0) {
    const types = open.otherParams.map((p) => p.type).join(', ')
    return fail(OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, `peer sent unsupported optional parameter type ${types}`)
  }
  const missing = config.requiredCapabilities.filter((r) => !open.capabilities.some((c) => matchesRequired(c, r)))
  if (missing.length > 0) {
    const notification = unsupportedCapabilityNotification(missing.map((r) => requiredCapability(r, config.capabilities)))
    const names = missing.map((r) => r.afi !== undefined ? `${r.code} (afi ${r.afi} safi ${r.safi ?? '*'})` : `${r.code}`).join(', ')
    return fail(notification.subcode, `peer lacks required capability ${names}`, notification.data)
  }
  return { ok: true, negotiated: negotiateSession(config, open) }
}
