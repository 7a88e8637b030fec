// AGGREGATOR value codec: AS (2 or 4 octets) then the aggregating speaker's IPv4 address.

import type { Writer } from '../_writer.ts'
import { formatIpv4Bytes, parseIpv4 } from '../../../ip/index.ts'
import { encodeError } from '../errors.ts'
import { AS_TRANS } from '../iana.ts'

export function decodeAggregator(data: Uint8Array, asnSize: 2 | 4): { asn: number; address: string } {
  const asn =
    asnSize === 2
      ? (data[0]! << 8) | data[1]!
      : ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0
  return { asn, address: formatIpv4Bytes(data, asnSize) }
}

export function writeAggregator(w: Writer, v: { asn: number; address: string }, asnSize: 2 | 4, name: string): void {
  const ip = parseIpv4(v.address)
  if (ip < 0) throw encodeError(`Cannot encode ${name}: "${v.address}" is not an IPv4 address`)
  if (!(v.asn >= 0 && v.asn <= 0xffffffff) || !Number.isInteger(v.asn)) throw encodeError(`Cannot encode ${name}: AS "${v.asn}"`)
  if (asnSize === 2) w.u16(v.asn > 0xffff ? AS_TRANS : v.asn)
  else w.u32(v.asn)
  w.u32(ip)
}
