// Connection collision detection (RFC 4271 section 6.8, RFC 6286 section 2.3). Pure.
import { parseIpv4 } from '../../ip/index.ts'
import type { StateName } from './types.ts'

export interface CollisionConnection {
  state: StateName
  /** who opened the TCP connection */
  initiator: 'local' | 'remote'
}

export interface CollisionIds {
  localId: string
  remoteId: string
  localAs: number
  remoteAs: number
}

export interface CollisionOptions {
  /** RFC 4271 CollisionDetectEstablishedState: also resolve against an Established connection. Default false */
  collisionDetectEstablished?: boolean
  /** we know the peer's identifier out of band, so OpenSent connections take part too. Default false */
  includeOpenSent?: boolean
}

/**
 * Given the two connections to one peer, which must be closed: 'a', 'b', or null when they do
 * not collide (yet). The session layer delivers `OpenCollisionDump` to the loser's FSM.
 *
 * - Only connections in OpenConfirm (or OpenSent with `includeOpenSent`) and Established take part.
 * - An Established connection wins over a new one unless `collisionDetectEstablished`.
 * - Otherwise the BGP identifiers are compared as unsigned 32-bit numbers: when ours is lower we
 *   close the connection we initiated, else the one the peer initiated. Equal identifiers (eBGP,
 *   RFC 6286): the connection initiated by the speaker with the larger AS is kept.
 */
export function resolveCollision(a: CollisionConnection, b: CollisionConnection, ids: CollisionIds, opts: CollisionOptions = {}): 'a' | 'b' | null {
  const takesPart = (c: CollisionConnection): boolean =>
    c.state === 'OpenConfirm' || c.state === 'Established' || (c.state === 'OpenSent' && opts.includeOpenSent === true)
  if (!takesPart(a) || !takesPart(b)) return null
  if (a.initiator === b.initiator) return null
  if (!opts.collisionDetectEstablished) {
    if (a.state === 'Established' && b.state !== 'Established') return 'b'
    if (b.state === 'Established' && a.state !== 'Established') return 'a'
  }
  // an identifier that is not a dotted quad counts as 0
  const local = Math.max(parseIpv4(ids.localId), 0)
  const remote = Math.max(parseIpv4(ids.remoteId), 0)
  let closeInitiator: 'local' | 'remote'
  if (local !== remote) closeInitiator = local < remote ? 'local' : 'remote'
  else closeInitiator = ids.localAs < ids.remoteAs ? 'local' : 'remote'
  return a.initiator === closeInitiator ? 'a' : 'b'
}
