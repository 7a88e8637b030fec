// The IP TTL (IPv6 hop limit) of a socket's packets, and the minimum TTL it accepts (GTSM,
// RFC 5082: segments below it are dropped by the kernel, SYNs included on a listener).
// IPv4 peers on an IPv6 (dual-stack) socket travel as IPv4, so they take the IPv4-level options.
import { libc } from './_libc.ts'
import { SysCallError } from './errors.ts'

const IPPROTO_IP = 0
const IP_TTL = 2
const IP_MINTTL = 21
const IPPROTO_IPV6 = 41
const IPV6_UNICAST_HOPS = 16
const IPV6_MINHOPCOUNT = 73

export interface TtlOptions {
  /** TTL / hop limit of sent packets (1-255); undefined: the system default */
  ttl?: number
  /** lowest TTL / hop limit accepted from the peer (1-255); undefined: any */
  minTtl?: number
}

function int(n: number): Uint8Array {
  return new Uint8Array(new Int32Array([n]).buffer)
}

/**
 * Set `o` on socket `fd` for traffic of IP version `peerFamily` (4 also for an IPv4 peer on an
 * IPv6 socket). Undefined fields are left as they are.
 */
export function setSocketTtl(fd: number, o: TtlOptions, peerFamily: 4 | 6): void {
  const set = (level: number, name: number, value: number, what: string) => {
    if (!Number.isInteger(value) || value < 1 || value > 255) throw new RangeError(`${what} must be 1-255, not ${value}`)
    const r = libc().setsockopt(fd, level, name, int(value))
    if (r.ret < 0) throw new SysCallError('PORTER_ERR_BGP_SESSION', `Cannot set ${what} ${value} on socket fd ${fd}`, `setsockopt(${what})`, r.errno)
  }
  if (peerFamily === 4) {
    if (o.ttl !== undefined) set(IPPROTO_IP, IP_TTL, o.ttl, 'IP_TTL')
    if (o.minTtl !== undefined) set(IPPROTO_IP, IP_MINTTL, o.minTtl, 'IP_MINTTL')
  } else {
    if (o.ttl !== undefined) set(IPPROTO_IPV6, IPV6_UNICAST_HOPS, o.ttl, 'IPV6_UNICAST_HOPS')
    if (o.minTtl !== undefined) set(IPPROTO_IPV6, IPV6_MINHOPCOUNT, o.minTtl, 'IPV6_MINHOPCOUNT')
  }
}
