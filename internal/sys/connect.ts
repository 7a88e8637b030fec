// Outgoing TCP connections whose first SYN already carries what the peer checks: a TCP MD5
// signature (RFC 2385) and an IP TTL / hop limit (eBGP TTL 1, multihop, GTSM's 255), plus the
// minimum TTL accepted from the peer (GTSM, RFC 5082). Node's net.connect() creates its file
// descriptor in the same step as the connect(2) call, so connectTcp() creates the socket itself,
// sets the options, then lets Node wrap the fd and connect it (see md5.ts).
import net from 'node:net'
import { PorterError } from '../errors/index.ts'
import { isIP } from '../ip/index.ts'
import { AF_INET, AF_INET6, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, libc } from './_libc.ts'
import { SysCallError } from './errors.ts'
import { setTcpMd5, type Md5Key, type SocketFamily } from './md5.ts'
import { setSocketTtl, type TtlOptions } from './ttl.ts'

export interface TcpConnectOptions extends Omit<net.TcpSocketConnectOpts, 'host' | 'family' | 'lookup' | 'hints' | 'autoSelectFamily'>, TtlOptions {
  /** the peer: an IPv4 or IPv6 address, not a name */
  host: string
  /** TCP MD5 key for the peer; undefined: none */
  key?: Md5Key
}

/**
 * net.connect() with the MD5 key and TTL options set before the first SYN. Without any of them
 * it is a plain net.connect(). Errors after this returns arrive as the socket's 'error' event.
 */
export function connectTcp(opts: TcpConnectOptions): net.Socket {
  const { key, ttl, minTtl, ...connect } = opts
  const kind = isIP(opts.host)
  if (kind === 0) throw new PorterError('PORTER_ERR_TCP_MD5', `Cannot connect to ${JSON.stringify(opts.host)}: not an IP address`)
  if (opts.localAddress !== undefined && isIP(opts.localAddress) !== kind) {
    throw new PorterError('PORTER_ERR_TCP_MD5', `Cannot connect to ${JSON.stringify(opts.host)} from ${JSON.stringify(opts.localAddress)}: the local address is not of the same family`)
  }
  if (key === undefined && ttl === undefined && minTtl === undefined) return net.connect(connect)
  const family: SocketFamily = kind === 4 ? 4 : 6
  const c = libc()
  const s = c.socket(family === 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)
  if (s.ret < 0) throw new SysCallError('PORTER_ERR_TCP_MD5', `Cannot create a TCP socket for peer ${JSON.stringify(opts.host)}`, 'socket', s.errno)
  const fd = s.ret
  let sock: net.Socket
  try {
    if (key !== undefined) setTcpMd5(fd, opts.host, key, family)
    setSocketTtl(fd, { ttl, minTtl }, family === 4 ? 4 : 6)
    sock = new net.Socket({ fd })
  } catch (e) {
    c.close(fd)
    throw e
  }
  return sock.connect(connect)
}
