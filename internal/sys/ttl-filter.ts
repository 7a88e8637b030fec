// Drop received datagrams whose IP TTL (IPv6 hop limit) is not exactly a value, in the kernel,
// before they reach the socket: a classic BPF socket filter (SO_ATTACH_FILTER). RFC 5881
// section 5 (BFD single hop, GTSM as in RFC 5082) discards control packets whose TTL is not 255;
// Node's dgram gives no access to the received TTL (no IP_RECVTTL ancillary data), so the
// check runs where it can: on the socket. A UDP socket's filter sees the packet from its
// transport header; the IP header is reached through the kernel's SKF_NET_OFF window.
//
//   0  ldb  [net + 0]         version/IHL byte
//   1  rsh  #4                -> IP version
//   2  jeq  #4, 3, 5
//   3  ldb  [net + 8]         IPv4 TTL (also an IPv4 peer on a dual-stack IPv6 socket)
//   4  ja   6
//   5  ldb  [net + 7]         IPv6 hop limit
//   6  jeq  #ttl, 7, 8
//   7  ret  #0xffffffff       keep the whole datagram
//   8  ret  #0                drop
import type dgram from 'node:dgram'
import { PorterError } from '../errors/index.ts'
import { libc, type SockFilter } from './_libc.ts'
import { SysCallError } from './errors.ts'

const SKF_NET_OFF = -0x100000
const net = (off: number): number => (SKF_NET_OFF + off) >>> 0
// BPF opcodes (linux/bpf_common.h)
const LDB_ABS = 0x30 // BPF_LD | BPF_B | BPF_ABS
const RSH_K = 0x74 // BPF_ALU | BPF_RSH | BPF_K
const JEQ_K = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
const JA = 0x05 // BPF_JMP | BPF_JA
const RET_K = 0x06 // BPF_RET | BPF_K

/** The program above for `ttl`. */
export function ttlFilterProgram(ttl: number): SockFilter[] {
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw new RangeError(`A TTL filter needs a TTL from 1 to 255, not ${ttl}`)
  return [
    { code: LDB_ABS, jt: 0, jf: 0, k: net(0) },
    { code: RSH_K, jt: 0, jf: 0, k: 4 },
    { code: JEQ_K, jt: 0, jf: 2, k: 4 },
    { code: LDB_ABS, jt: 0, jf: 0, k: net(8) },
    { code: JA, jt: 0, jf: 0, k: 1 },
    { code: LDB_ABS, jt: 0, jf: 0, k: net(7) },
    { code: JEQ_K, jt: 0, jf: 1, k: ttl },
    { code: RET_K, jt: 0, jf: 0, k: 0xffffffff },
    { code: RET_K, jt: 0, jf: 0, k: 0 },
  ]
}

/** The file descriptor of a bound dgram socket (its UDP handle's fd). */
export function datagramFd(s: dgram.Socket): number {
  for (const k of Object.getOwnPropertySymbols(s)) {
    const state = (s as unknown as Record<symbol, { handle?: { fd?: unknown } | null } | undefined>)[k]
    const fd = state?.handle?.fd
    if (typeof fd === 'number') {
      if (fd < 0) break
      return fd
    }
  }
  throw new PorterError('PORTER_ERR_INTERNAL', 'The UDP socket has no file descriptor (not bound yet, or already closed)')
}

/** Attach the filter: from now on only datagrams that arrived with exactly `ttl` reach `fd`. */
export function attachTtlFilter(fd: number, ttl = 255): void {
  const r = libc().attachFilter(fd, ttlFilterProgram(ttl))
  if (r.ret < 0) throw new SysCallError('PORTER_ERR_BFD_SOCKET', `Cannot attach the TTL ${ttl} filter to socket fd ${fd}`, 'setsockopt(SO_ATTACH_FILTER)', r.errno)
}
