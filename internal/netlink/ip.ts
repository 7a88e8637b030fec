// PURE IP address helpers: text <-> network-order bytes, canonical text (RFC 5952 for IPv6).
import { isIP } from 'node:net'

/** Bytes of an IPv4 / IPv6 address in network order; throws on anything else. */
export function ipToBytes(ip: string): Buffer {
  const fam = isIP(ip)
  if (fam === 4) {
    const p = ip.split('.')
    return Buffer.from([Number(p[0]), Number(p[1]), Number(p[2]), Number(p[3])])
  }
  if (fam !== 6) throw new TypeError(`"${ip}" is not an IP address`)
  let s = ip
  const pct = s.indexOf('%')
  if (pct >= 0) s = s.slice(0, pct)
  const out = Buffer.alloc(16)
  // an embedded IPv4 tail ("::ffff:192.0.2.1") becomes two groups
  const lastColon = s.lastIndexOf(':')
  if (s.indexOf('.', lastColon) >= 0) {
    const v4 = ipToBytes(s.slice(lastColon + 1))
    s = `${s.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`
  }
  const dbl = s.indexOf('::')
  const head = dbl >= 0 ? s.slice(0, dbl) : s
  const tail = dbl >= 0 ? s.slice(dbl + 2) : ''
  const hs = head === '' ? [] : head.split(':')
  const ts = tail === '' ? [] : tail.split(':')
  hs.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  ts.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), 16 - (ts.length - i) * 2))
  return out
}

/** Canonical text of an address (RFC 5952 for IPv6: lower case, longest zero run compressed). */
export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`
  if (b.length !== 16) throw new TypeError(`An IP address has 4 or 16 bytes, not ${b.length}`)
  const g: number[] = []
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!)
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen) { bestStart = i; bestLen = j - i }
    i = j
  }
  const hex = g.map((x) => x.toString(16))
  if (bestLen < 2) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`
}

/** Canonical form of an address string, or undefined if it is not one. */
export function canonicalIp(ip: string): string | undefined {
  if (isIP(ip) === 0) return undefined
  return bytesToIp(ipToBytes(ip))
}
