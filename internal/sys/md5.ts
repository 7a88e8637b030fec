// TCP MD5 signatures (RFC 2385) on Linux: setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, struct tcp_md5sig).
//
// The kernel keeps one key per peer address on a socket; a listening socket's keys are inherited
// by the connections it accepts. Once a key for a peer is set, segments from that peer without a
// valid signature are dropped (SYNs included), and segments to it are signed.
//
// ACTIVE side: the key must be on the socket BEFORE connect(2), or the first SYN goes out unsigned
// and the peer drops it. Node's net.connect() creates its socket file descriptor only on the next
// tick, in the same step as the connect(2) call (the handle exists at once, the fd does not: its
// `_handle.fd` is -1 until then), so there is no moment to set the option in between. Hence
// connectTcp() (connect.ts): it creates the socket itself, sets the key, then lets Node wrap the fd and
// connect it. PASSIVE side: after server.listen(), setTcpMd5(socketFd(server), peer, key) for each
// peer with a key (connections accepted later inherit it).
//
// struct tcp_md5sig (linux/tcp.h), 216 bytes, host byte order except the address itself:
//    0  struct sockaddr_storage tcpm_addr  (128: sockaddr_in or sockaddr_in6, port 0)
//  128  u8  tcpm_flags      (0: no prefix, no ifindex)
//  129  u8  tcpm_prefixlen  (0: ignored without TCP_MD5SIG_FLAG_PREFIX)
//  130  u16 tcpm_keylen     (0 = delete the key for this address)
//  132  u32 tcpm_ifindex    (0: ignored without TCP_MD5SIG_FLAG_IFINDEX)
//  136  u8  tcpm_key[80]
import net from 'node:net'
import { PorterError } from '../errors/index.ts'
import {
  AF_INET, AF_INET6, IPPROTO_TCP, TCP_MD5SIG, libc,
} from './_libc.ts'
import { SysCallError } from './errors.ts'

export const TCP_MD5SIG_MAXKEYLEN = 80
export const TCP_MD5SIG_SIZE = 216
const SOCKADDR_STORAGE_SIZE = 128

import { ipToBytes, type Family } from '../ip/index.ts'
import { ERRNO } from '../base/index.ts'
/** the IP version of a socket (the one Family type) */
export type SocketFamily = Family
/** A key as bytes, or a password string (used as its UTF-8 bytes, as BIRD, FRR and GoBGP do). */
export type Md5Key = Uint8Array | string

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function md5Error(message: string): PorterError {
  return new PorterError('PORTER_ERR_TCP_MD5', message)
}

function keyBytes(key: Md5Key): Uint8Array {
  return typeof key === 'string' ? new TextEncoder().encode(key) : key
}

/**
 * The struct tcp_md5sig for `peer` on a socket of `family` (4: AF_INET, 6: AF_INET6, where an
 * IPv4 peer becomes ::ffff:a.b.c.d). `key` undefined builds the "delete" form (keylen 0).
 * A zone ("fe80::1%eth0") is dropped: the key then applies to that address on every interface.
 */
export function md5sigStruct(peer: string, key: Md5Key | undefined, family: SocketFamily): Uint8Array {
  const parsed = ipToBytes(peer.replace(/%.*$/, ''))
  if (parsed === undefined) throw md5Error(`Cannot set a TCP MD5 key for peer ${JSON.stringify(peer)}: not an IP address`)
  let bytes = [...parsed]
  let kind = parsed.length === 4 ? 4 : 6
  if (kind === 6 && family === 4) {
    // ::ffff:a.b.c.d on an IPv4 socket is the IPv4 peer it maps
    const mapped = bytes.slice(0, 12).every((b, i) => b === (i < 10 ? 0 : 0xff))
    if (!mapped) throw md5Error(`Cannot set a TCP MD5 key for IPv6 peer ${JSON.stringify(peer)} on an IPv4 socket: use an IPv6 socket`)
    bytes = bytes.slice(12)
    kind = 4
  } else if (kind === 4 && family === 6) {
    bytes = [...new Array<number>(10).fill(0), 0xff, 0xff, ...bytes]
    kind = 6
  }
  const k = key === undefined ? new Uint8Array(0) : keyBytes(key)
  if (key !== undefined && k.length === 0) throw md5Error(`The TCP MD5 key for peer ${JSON.stringify(peer)} is empty: give a key, or undefined to remove it`)
  if (k.length > TCP_MD5SIG_MAXKEYLEN) {
    throw md5Error(`The TCP MD5 key for peer ${JSON.stringify(peer)} is ${k.length} bytes long: the kernel takes at most ${TCP_MD5SIG_MAXKEYLEN}`)
  }
  const buf = new Uint8Array(TCP_MD5SIG_SIZE)
  const dv = new DataView(buf.buffer)
  if (kind === 4) {
    dv.setUint16(0, AF_INET, HOST_LE) // sin_family; sin_port (2) stays 0
    buf.set(bytes, 4) // sin_addr
  } else {
    dv.setUint16(0, AF_INET6, HOST_LE) // sin6_family; sin6_port (2), sin6_flowinfo (4) stay 0
    buf.set(bytes, 8) // sin6_addr; sin6_scope_id (24) stays 0
  }
  dv.setUint16(SOCKADDR_STORAGE_SIZE + 2, k.length, HOST_LE) // tcpm_keylen
  buf.set(k, SOCKADDR_STORAGE_SIZE + 8) // tcpm_key
  return buf
}

/** The address family of a socket (getsockname). */
export function socketFamily(fd: number): SocketFamily {
  const addr = new Uint8Array(SOCKADDR_STORAGE_SIZE)
  const r = libc().getsockname(fd, addr)
  if (r.ret < 0) throw new SysCallError('PORTER_ERR_TCP_MD5', `Cannot read the address family of socket fd ${fd}`, 'getsockname', r.errno)
  const fam = new DataView(addr.buffer).getUint16(0, HOST_LE)
  if (fam === AF_INET) return 4
  if (fam === AF_INET6) return 6
  throw md5Error(`Socket fd ${fd} is not an IPv4 or IPv6 socket (address family ${fam})`)
}

const HINTS: Record<number, string> = {
  92: 'the kernel has no TCP MD5 support (CONFIG_TCP_MD5SIG)', // ENOPROTOOPT
  9: 'not an open file descriptor', // EBADF
  88: 'not a socket', // ENOTSOCK
}

/**
 * Set (key given) or remove (key undefined) the TCP MD5 key for `peer` on socket `fd`. The
 * socket's family is read with getsockname unless given; an IPv4 peer on an IPv6 (dual-stack)
 * socket is keyed as its v4-mapped address. Removing a key that is not set is not an error.
 */
export function setTcpMd5(fd: number, peer: string, key: Md5Key | undefined, family: SocketFamily = socketFamily(fd)): void {
  const sig = md5sigStruct(peer, key, family)
  const r = libc().setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, sig)
  if (r.ret === 0) return
  if (key === undefined && r.errno === ERRNO.ENOENT) return
  throw new SysCallError(
    'PORTER_ERR_TCP_MD5',
    `Cannot ${key === undefined ? 'remove' : 'set'} the TCP MD5 key for peer ${JSON.stringify(peer)} on socket fd ${fd}`,
    'setsockopt(TCP_MD5SIG)',
    r.errno,
    HINTS[r.errno],
  )
}

/**
 * The file descriptor behind a Node socket or server (`_handle.fd`). A server has one once it
 * listens; a socket from net.connect() only from the tick after the call (too late for MD5: use
 * connectTcp), and neither has one after it is closed.
 */
export function socketFd(s: net.Socket | net.Server): number {
  const handle = (s as unknown as { _handle?: { fd?: unknown } | null })._handle
  const what = s instanceof net.Server ? 'server' : 'socket'
  if (!handle) throw new PorterError('PORTER_ERR_INTERNAL', `The ${what} has no handle (not listening or connecting yet, or already closed)`)
  const fd = handle.fd
  if (typeof fd !== 'number' || fd < 0) {
    throw new PorterError(
      'PORTER_ERR_INTERNAL',
      `The ${what} has no file descriptor yet${what === 'socket' ? ' (net.connect() creates it on the next tick, together with the SYN: use connectTcp() to sign the SYN)' : ''}`,
    )
  }
  return fd
}
