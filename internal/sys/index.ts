// OS-level helpers Node lacks, over libc through koffi: TCP MD5 signatures and systemd's notify.
export { connectTcpMd5, md5sigStruct, setTcpMd5, socketFamily, socketFd, TCP_MD5SIG_MAXKEYLEN, type Md5ConnectOptions, type Md5Key, type SocketFamily } from './md5.ts'
export { notifySockaddr, sdNotify, watchdogInterval } from './notify.ts'
export { SysCallError } from './errors.ts'
