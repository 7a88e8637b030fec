// BgpWireError: a malformed message, with the NOTIFICATION it maps to and the RFC 7606
// error-handling action (GoBGP MessageError, corebgp UpdateError, holo AttrError).
//
//   bgpCode / subcode / data   what a NOTIFICATION for this error carries (RFC 4271 6.x)
//   action                     'session-reset'      send toNotification() and close
//                              'afisafi-disable'    RFC 4760 section 7: drop the routes of `family`
//                              'treat-as-withdraw'  RFC 7606: the UPDATE's NLRI are withdrawals
//                              'attribute-discard'  RFC 7606: the attribute was dropped
//
// `code` is PorterError's stable code ('PORTER_ERR_BGP_WIRE'); the BGP error code is `bgpCode`.

import { PorterError } from '../../errors/index.ts'
import type { NotificationMessage } from './types.ts'

export type WireAction = 'attribute-discard' | 'treat-as-withdraw' | 'afisafi-disable' | 'session-reset'

/** RFC 7606 section 2 strength order: a stronger action wins when several errors occur */
export const ACTION_STRENGTH: Readonly<Record<WireAction, number>> = {
  'attribute-discard': 1,
  'treat-as-withdraw': 2,
  'afisafi-disable': 3,
  'session-reset': 4,
}

export interface BgpWireErrorInit {
  bgpCode: number
  subcode: number
  data?: Uint8Array
  action?: WireAction
  /** path attribute type code the error is about, when there is one */
  attrType?: number
  /** AFI/SAFI the error is about (afisafi-disable) */
  afi?: number
  safi?: number
}

export class BgpWireError extends PorterError {
  readonly bgpCode: number
  readonly subcode: number
  readonly data: Uint8Array
  readonly action: WireAction
  readonly attrType: number | undefined
  readonly afi: number | undefined
  readonly safi: number | undefined

  constructor(message: string, init: BgpWireErrorInit) {
    super('PORTER_ERR_BGP_WIRE', message)
    this.name = 'BgpWireError'
    this.bgpCode = init.bgpCode
    this.subcode = init.subcode
    this.data = init.data ?? new Uint8Array(0)
    this.action = init.action ?? 'session-reset'
    this.attrType = init.attrType
    this.afi = init.afi
    this.safi = init.safi
  }

  /** The NOTIFICATION to send when this error ends the session */
  toNotification(): NotificationMessage {
    return { type: 'notification', code: this.bgpCode, subcode: this.subcode, data: new Uint8Array(this.data) }
  }
}

export function isBgpWireError(e: unknown): e is BgpWireError {
  return e instanceof BgpWireError
}

/** A value that cannot be encoded (a bug in the caller: bad address, too-long message ...) */
export function encodeError(message: string): PorterError {
  return new PorterError('PORTER_ERR_BGP_WIRE', message)
}
