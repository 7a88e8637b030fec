// What two OPENs agree on (RFC 4271 4.2 hold time, RFC 4760 families, RFC 6793 4-octet AS,
// RFC 7911 ADD-PATH, RFC 8654 extended messages, RFC 4724 graceful restart), and the
// CodecContext that follows from it.
//
// Families: those both sides list in multiprotocol capabilities; a side that lists none is
// taken to speak IPv4 unicast only (RFC 4760 8). ADD-PATH per negotiated family: we send path
// ids when we said send/both and the peer said receive/both; we receive them the other way round.

import { asnOf } from './open.ts'
import { MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH } from './iana.ts'
import { familyKey } from './families.ts'
import type { AddPathMode, Capability, CodecContext, FamilyKey, OpenMessage } from './types.ts'

export interface GracefulRestartInfo {
  restarting: boolean
  notification: boolean
  restartTime: number
  /** families (of the negotiated ones) listed in the capability, with the F bit */
  families: { family: FamilyKey; forwardingPreserved: boolean }[]
}

export interface Negotiated {
  ctx: CodecContext
  /** families both sides enabled, in the local OPEN's order */
  families: FamilyKey[]
  /** min of the two hold times; 0 = no hold timer and no keepalives */
  holdTime: number
  /** holdTime / 3 rounded down (RFC 4271 10 suggestion), at least 1 second; 0 when holdTime is 0 */
  keepaliveTime: number
  as4: boolean
  localAs: number
  remoteAs: number
  ibgp: boolean
  remoteRouterId: string
  routeRefresh: boolean
  extendedMessage: boolean
  /** per negotiated family: whether we send / receive path identifiers */
  addPath: Partial<Record<FamilyKey, { tx: boolean; rx: boolean }>>
  /** the peer's graceful restart capability, if it sent one */
  remoteGracefulRestart?: GracefulRestartInfo
  /** our graceful restart capability, if we sent one */
  localGracefulRestart?: GracefulRestartInfo
}

/** the largest message to accept under `ctx` (pass it to FrameReader.next) */
export function receiveLimit(ctx: CodecContext): number {
  return ctx.maxReceiveLength ?? ctx.maxMessageLength
}

/** the codec context before any OPEN is exchanged */
export function defaultContext(): CodecContext {
  return { as4: false, addPathTx: new Set(), addPathRx: new Set(), maxMessageLength: MAX_MESSAGE_LENGTH }
}

function has(open: OpenMessage, kind: Capability['kind']): boolean {
  return open.capabilities.some((c) => c.kind === kind)
}

/** families of an OPEN's multiprotocol capabilities (unknown families left out) */
export function familiesOf(open: OpenMessage): FamilyKey[] {
  const out: FamilyKey[] = []
  let any = false
  for (const c of open.capabilities) {
    if (c.kind !== 'multiprotocol') continue
    any = true
    const k = familyKey(c.afi, c.safi)
    if (k && !out.includes(k)) out.push(k)
  }
  return any ? out : ['ipv4-unicast']
}

function addPathModes(open: OpenMessage): Map<FamilyKey, AddPathMode> {
  const m = new Map<FamilyKey, AddPathMode>()
  for (const c of open.capabilities) {
    if (c.kind !== 'add-path') continue
    for (const f of c.families) {
      const k = familyKey(f.afi, f.safi)
      if (k) m.set(k, f.mode)
    }
  }
  return m
}

function grInfo(open: OpenMessage, families: readonly FamilyKey[]): GracefulRestartInfo | undefined {
  let gr: Extract<Capability, { kind: 'graceful-restart' }> | undefined
  for (const c of open.capabilities) if (c.kind === 'graceful-restart') gr = c
  if (!gr) return undefined
  const fams: GracefulRestartInfo['families'] = []
  for (const f of gr.families) {
    const k = familyKey(f.afi, f.safi)
    if (k && families.includes(k)) fams.push({ family: k, forwardingPreserved: f.forwardingPreserved })
  }
  return { restarting: gr.restarting, notification: gr.notification, restartTime: gr.restartTime, families: fams }
}

const sends = (m: AddPathMode | undefined): boolean => m === 'send' || m === 'both'
const receives = (m: AddPathMode | undefined): boolean => m === 'receive' || m === 'both'

export function negotiate(local: OpenMessage, remote: OpenMessage): Negotiated {
  const remoteFams = familiesOf(remote)
  const families = familiesOf(local).filter((f) => remoteFams.includes(f))
  const as4 = has(local, 'as4') && has(remote, 'as4')
  const extendedMessage = has(local, 'extended-message') && has(remote, 'extended-message')
  const lap = addPathModes(local)
  const rap = addPathModes(remote)
  const addPathTx = new Set<FamilyKey>()
  const addPathRx = new Set<FamilyKey>()
  const addPath: Negotiated['addPath'] = {}
  for (const f of families) {
    const tx = sends(lap.get(f)) && receives(rap.get(f))
    const rx = receives(lap.get(f)) && sends(rap.get(f))
    if (tx) addPathTx.add(f)
    if (rx) addPathRx.add(f)
    if (tx || rx) addPath[f] = { tx, rx }
  }
  const localAs = asnOf(local)
  const remoteAs = asnOf(remote)
  const holdTime = Math.min(local.holdTime, remote.holdTime)
  const ctx: CodecContext = {
    as4,
    addPathTx,
    addPathRx,
    maxMessageLength: extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH,
    maxReceiveLength: has(local, 'extended-message') ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH,
    ibgp: localAs === remoteAs,
  }
  const out: Negotiated = {
    ctx,
    families,
    holdTime,
    keepaliveTime: holdTime === 0 ? 0 : Math.max(1, Math.floor(holdTime / 3)),
    as4,
    localAs,
    remoteAs,
    ibgp: localAs === remoteAs,
    remoteRouterId: remote.routerId,
    routeRefresh: has(local, 'route-refresh') && has(remote, 'route-refresh'),
    extendedMessage,
    addPath,
  }
  const rgr = grInfo(remote, families)
  if (rgr) out.remoteGracefulRestart = rgr
  const lgr = grInfo(local, families)
  if (lgr) out.localGracefulRestart = lgr
  return out
}
