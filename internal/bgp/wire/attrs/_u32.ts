// Helpers for attributes whose value is one 32-bit number.

import type { Writer } from '../_writer.ts'
import { encodeError } from '../errors.ts'

export function readU32(data: Uint8Array): number {
  return ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0
}

export function writeU32(w: Writer, v: number, name: string): void {
  if (!(v >= 0 && v <= 0xffffffff) || !Number.isInteger(v)) throw encodeError(`Cannot encode ${name} "${v}": not a 32-bit unsigned integer`)
  w.u32(v)
}
