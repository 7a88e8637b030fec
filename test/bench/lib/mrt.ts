// A minimal MRT writer (RFC 6396): TABLE_DUMP_V2 with one PEER_INDEX_TABLE and one
// RIB_IPV4_UNICAST record per /32, the format `gobgp mrt inject global FILE` reads — GoBGP's
// fastest way to preload a large table (a gRPC AddPathStream fed by the CLI).
// Each RIB entry carries ORIGIN IGP, an empty AS_PATH (4-octet encoding, RFC 6396 4.3.4) and
// NEXT_HOP, i.e. what a locally originated route has; gobgpd prepends its AS toward an eBGP peer.
//
// gobgp 3.10's CLI loses the last few hundred records of a large file (its stream ends before
// gobgpd has taken them: with 100k records 190-620 were missing, always the tail), so `pad`
// repeats the first records after the last: identical paths again, a no-op for gobgpd's RIB,
// that absorb the loss. The caller still checks that the RIB holds every prefix.
import { writeFileSync } from 'node:fs'

const TABLE_DUMP_V2 = 13
const PEER_INDEX_TABLE = 1
const RIB_IPV4_UNICAST = 2

function ip4(a: string): number[] {
  const p = a.split('.').map(Number)
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`"${a}" is not an IPv4 address`)
  return p
}

class Buf {
  b: Buffer
  n = 0
  constructor(size: number) { this.b = Buffer.alloc(size) }
  u8(v: number) { this.b[this.n++] = v }
  u16(v: number) { this.b.writeUInt16BE(v, this.n); this.n += 2 }
  u32(v: number) { this.b.writeUInt32BE(v >>> 0, this.n); this.n += 4 }
  bytes(v: readonly number[]) { for (const x of v) this.b[this.n++] = x }
}

export interface MrtRibOptions {
  /** router id and address of the (fictitious) peer the routes were "learned" from */
  peerId: string
  peerAs: number
  nextHop: string
  /** "198.18.0.1" etc.; all /32 */
  hosts: readonly string[]
  /** timestamp written in the records (seconds) */
  time?: number
  /** repeat the first `pad` records at the end (see above); default 0 */
  pad?: number
}

/** Write the MRT file; returns its size in bytes. */
export function writeMrtRib(file: string, o: MrtRibOptions): number {
  const ts = o.time ?? Math.floor(Date.now() / 1000)
  const id = ip4(o.peerId)
  const nh = ip4(o.nextHop)
  // ORIGIN IGP, AS_PATH empty, NEXT_HOP
  const attrs = [0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, ...nh]
  const ribBody = 4 + 1 + 4 + 2 + 2 + 4 + 2 + attrs.length
  const pad = Math.min(o.pad ?? 0, o.hosts.length)
  const w = new Buf(12 + 64 + (o.hosts.length + pad) * (12 + ribBody))
  // PEER_INDEX_TABLE: collector id, empty view name, one peer (type 0x02: IPv4 address, 4-octet AS)
  w.u32(ts); w.u16(TABLE_DUMP_V2); w.u16(PEER_INDEX_TABLE); w.u32(4 + 2 + 2 + 1 + 4 + 4 + 4)
  w.bytes(id); w.u16(0); w.u16(1)
  w.u8(0x02); w.bytes(id); w.bytes(id); w.u32(o.peerAs)
  const records = pad ? [...o.hosts, ...o.hosts.slice(0, pad)] : o.hosts
  records.forEach((h, seq) => {
    w.u32(ts); w.u16(TABLE_DUMP_V2); w.u16(RIB_IPV4_UNICAST); w.u32(ribBody)
    w.u32(seq); w.u8(32); w.bytes(ip4(h))
    w.u16(1) // entry count
    w.u16(0); w.u32(ts); w.u16(attrs.length); w.bytes(attrs)
  })
  writeFileSync(file, w.b.subarray(0, w.n))
  return w.n
}
