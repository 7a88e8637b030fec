// KEEPALIVE (RFC 4271 4.4): the 19-byte header alone. Any body is a Bad Message Length
// (checked in framing.ts).

import type { KeepaliveMessage } from './types.ts'

export const KEEPALIVE: Readonly<KeepaliveMessage> = Object.freeze({ type: 'keepalive' })

/** the 19 bytes of a KEEPALIVE */
export function keepaliveBytes(): Uint8Array {
  const b = new Uint8Array(19).fill(0xff, 0, 16)
  b[17] = 19
  b[18] = 4
  return b
}
