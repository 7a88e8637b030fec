// OS-level helpers Node lacks, over libc through koffi: TCP MD5 signatures, TTL options, outgoing
// connections with both set before the SYN, systemd's notify and glibc's malloc_trim.
export { md5sigStruct, setTcpMd5, socketFamily, socketFd, TCP_MD5SIG_MAXKEYLEN, type Md5Key, type SocketFamily } from './md5.ts'
export { connectTcp, type TcpConnectOptions } from './connect.ts'
export { setSocketTtl, type TtlOptions } from './ttl.ts'
export { attachTtlFilter, datagramFd, ttlFilterProgram } from './ttl-filter.ts'
export { notifySockaddr, sdNotify, watchdogInterval } from './notify.ts'
export { SysCallError } from './errors.ts'
export { mallocTrim } from './_libc.ts'
