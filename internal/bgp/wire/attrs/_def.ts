// The shape of one row of the path attribute table (BIRD's bgp_attr_table, one entry per
// attribute with decode/encode hooks). Each attrs/<attr>.ts exports one AttrDef.

import type { Writer } from '../_writer.ts'
import { BgpWireError, type WireAction } from '../errors.ts'
import { ErrCode, UpdateSubcode } from '../notification.ts'
import type { CodecContext, PathAttributes } from '../types.ts'

export interface DecodeEnv {
  ctx: CodecContext
  /** attribute flags as received */
  flags: number
  /** the whole attribute (flags, type, length, value): the data of a NOTIFICATION about it */
  raw: Uint8Array
}

export interface AttrDef {
  type: number
  name: string
  /** Optional and Transitive bits the attribute must carry (RFC 7606 3.c) */
  flags: number
  /** what to do when those bits conflict (RFC 7606 3.c: treat-as-withdraw unless the attribute says otherwise) */
  flagsAction: WireAction
  /** decode `data` (the value) into `attrs`; throw a BgpWireError carrying the action when malformed */
  decode(data: Uint8Array, attrs: PathAttributes, env: DecodeEnv): void
  /** whether `attrs` holds this attribute (false for attributes kept in attrs.unknown) */
  has(attrs: PathAttributes): boolean
  /** write the value bytes (not the header) */
  encode(attrs: PathAttributes, w: Writer, ctx: CodecContext): void
}

/** A malformed-attribute error: subcode, action and the attribute as data */
export function attrError(
  def: Pick<AttrDef, 'type' | 'name'>,
  env: DecodeEnv,
  reason: string,
  subcode: number,
  action: WireAction,
): BgpWireError {
  return new BgpWireError(`Malformed ${def.name} attribute: ${reason}`, {
    bgpCode: ErrCode.UPDATE_MESSAGE,
    subcode,
    data: new Uint8Array(env.raw),
    action,
    attrType: def.type,
  })
}

export function lengthError(
  def: Pick<AttrDef, 'type' | 'name'>,
  env: DecodeEnv,
  got: number,
  expected: string,
  action: WireAction,
): BgpWireError {
  return attrError(def, env, `length is ${got}, expected ${expected}`, UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, action)
}

export const WELL_KNOWN = 0x40
export const OPTIONAL_TRANSITIVE = 0xc0
export const OPTIONAL_NON_TRANSITIVE = 0x80
