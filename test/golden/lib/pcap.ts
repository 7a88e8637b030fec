// Minimal pcap reader (classic libpcap format, Ethernet / Linux cooked), IPv4/IPv6 + TCP parsing,
// TCP reassembly by sequence number, and BGP message framing of each reassembled byte stream.
// Pure: takes bytes, returns data. Used by the golden-vector capture script.

export interface TcpSegment {
  ts: number // seconds, float
  src: string
  dst: string
  sport: number
  dport: number
  seq: number
  flags: number // TCP flags byte
  payload: Uint8Array
}

const TCP_SYN = 0x02

/** Parse a pcap file into TCP segments (non-TCP frames are skipped). */
export function readPcap(buf: Uint8Array): TcpSegment[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const magic = dv.getUint32(0, false)
  let le: boolean
  let nano: boolean
  if (magic === 0xa1b2c3d4) { le = false; nano = false } else if (magic === 0xd4c3b2a1) { le = true; nano = false } else if (magic === 0xa1b23c4d) { le = false; nano = true } else if (magic === 0x4d3cb2a1) { le = true; nano = true } else throw new Error(`Not a pcap file (magic 0x${magic.toString(16)})`)
  const linkType = dv.getUint32(20, le)
  const out: TcpSegment[] = []
  let off = 24
  while (off + 16 <= buf.length) {
    const sec = dv.getUint32(off, le)
    const frac = dv.getUint32(off + 4, le)
    const incl = dv.getUint32(off + 8, le)
    off += 16
    const frame = buf.subarray(off, off + incl)
    off += incl
    const ts = sec + frac / (nano ? 1e9 : 1e6)
    let l3: Uint8Array
    let etherType: number
    if (linkType === 1) { // Ethernet
      etherType = (frame[12]! << 8) | frame[13]!
      let p = 14
      if (etherType === 0x8100) { etherType = (frame[16]! << 8) | frame[17]!; p = 18 }
      l3 = frame.subarray(p)
    } else if (linkType === 113) { // Linux cooked v1
      etherType = (frame[14]! << 8) | frame[15]!
      l3 = frame.subarray(16)
    } else if (linkType === 276) { // Linux cooked v2
      etherType = (frame[0]! << 8) | frame[1]!
      l3 = frame.subarray(20)
    } else throw new Error(`Unsupported pcap link type ${linkType}`)
    const seg = parseIp(etherType, l3, ts)
    if (seg) out.push(seg)
  }
  return out
}

function parseIp(etherType: number, p: Uint8Array, ts: number): TcpSegment | undefined {
  let src: string, dst: string, proto: number, l4: Uint8Array
  if (etherType === 0x0800) {
    const ihl = (p[0]! & 0x0f) * 4
    const total = (p[2]! << 8) | p[3]!
    proto = p[9]!
    src = [...p.subarray(12, 16)].join('.')
    dst = [...p.subarray(16, 20)].join('.')
    l4 = p.subarray(ihl, total || p.length)
  } else if (etherType === 0x86dd) {
    const plen = (p[4]! << 8) | p[5]!
    proto = p[6]! // no extension headers expected on BGP sessions
    src = v6(p.subarray(8, 24))
    dst = v6(p.subarray(24, 40))
    l4 = p.subarray(40, 40 + plen)
  } else return undefined
  if (proto !== 6) return undefined
  const sport = (l4[0]! << 8) | l4[1]!
  const dport = (l4[2]! << 8) | l4[3]!
  const seq = ((l4[4]! << 24) | (l4[5]! << 16) | (l4[6]! << 8) | l4[7]!) >>> 0
  const dataOff = (l4[12]! >> 4) * 4
  const flags = l4[13]!
  return { ts, src, dst, sport, dport, seq, flags, payload: l4.subarray(dataOff) }
}

/** RFC 5952 text form of a 16-byte IPv6 address. */
export function v6(b: Uint8Array): string {
  const w: number[] = []
  for (let i = 0; i < 16; i += 2) w.push((b[i]! << 8) | b[i + 1]!)
  let bestStart = -1, bestLen = 0
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && w[j] === 0) j++
    if (j - i > bestLen) { bestStart = i; bestLen = j - i }
    i = j
  }
  if (bestLen < 2) return w.map(x => x.toString(16)).join(':')
  const head = w.slice(0, bestStart).map(x => x.toString(16)).join(':')
  const tail = w.slice(bestStart + bestLen).map(x => x.toString(16)).join(':')
  return `${head}::${tail}`
}

export interface TcpStream {
  /** "src:sport>dst:dport" */
  key: string
  src: string
  dst: string
  sport: number
  dport: number
  /** index of the connection (4-tuple + SYN) this stream belongs to */
  connection: number
  firstTs: number
  data: Uint8Array
  /** true when a hole in the sequence space cut the stream short */
  gap: boolean
}

/**
 * Reassemble each direction of each TCP connection. A SYN starts a new connection for its
 * 4-tuple; payload is placed by (seq - ISN - 1); retransmissions and overlaps are merged.
 */
export function reassemble(segments: TcpSegment[]): TcpStream[] {
  interface Dir { s: TcpStream; isn: number | undefined; chunks: Map<number, Uint8Array> }
  const dirs = new Map<string, Dir>()
  const done: Dir[] = []
  const connOf = new Map<string, number>()
  let nextConn = 0
  const connKey = (a: string, ap: number, b: string, bp: number): string =>
    [`${a}:${ap}`, `${b}:${bp}`].sort().join('|')
  for (const seg of segments) {
    const key = `${seg.src}:${seg.sport}>${seg.dst}:${seg.dport}`
    const ck = connKey(seg.src, seg.sport, seg.dst, seg.dport)
    let d = dirs.get(key)
    if (seg.flags & TCP_SYN) {
      if (!(seg.flags & 0x10)) connOf.set(ck, nextConn++) // SYN without ACK: new connection
      if (d) { done.push(d); dirs.delete(key) }
      d = undefined
    }
    if (!connOf.has(ck)) connOf.set(ck, nextConn++)
    if (!d) {
      d = {
        s: { key, src: seg.src, dst: seg.dst, sport: seg.sport, dport: seg.dport, connection: connOf.get(ck)!, firstTs: seg.ts, data: new Uint8Array(0), gap: false },
        isn: seg.flags & TCP_SYN ? seg.seq : undefined,
        chunks: new Map(),
      }
      dirs.set(key, d)
    }
    if (seg.payload.length === 0) continue
    if (d.isn === undefined) d.isn = (seg.seq - 1) >>> 0 // capture started mid-stream
    const rel = (seg.seq - d.isn - 1) >>> 0
    const prev = d.chunks.get(rel)
    if (!prev || prev.length < seg.payload.length) d.chunks.set(rel, seg.payload.slice())
  }
  done.push(...dirs.values())
  return done.map(d => {
    const offs = [...d.chunks.keys()].sort((a, b) => a - b)
    const parts: Uint8Array[] = []
    let pos = 0
    for (const o of offs) {
      const c = d.chunks.get(o)!
      if (o > pos) { d.s.gap = true; break }
      if (o + c.length <= pos) continue
      parts.push(c.subarray(pos - o))
      pos = o + c.length
    }
    d.s.data = concat(parts)
    return d.s
  }).sort((a, b) => a.firstTs - b.firstTs)
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}

/** Split a byte stream into BGP messages (marker + length framing). Stops at a partial message. */
export function splitBgp(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  let o = 0
  while (o + 19 <= data.length) {
    for (let i = 0; i < 16; i++) if (data[o + i] !== 0xff) throw new Error(`Bad BGP marker at stream offset ${o}`)
    const len = (data[o + 16]! << 8) | data[o + 17]!
    if (len < 19) throw new Error(`Bad BGP length ${len} at stream offset ${o}`)
    if (o + len > data.length) break
    out.push(data.subarray(o, o + len))
    o += len
  }
  return out
}

export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
export const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))
