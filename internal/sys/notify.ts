// systemd's notification protocol (sd_notify(3)), for units with Type=notify: one datagram of
// newline-separated VAR=value lines ("READY=1", "STATUS=...", "STOPPING=1", "WATCHDOG=1") sent
// on an AF_UNIX SOCK_DGRAM socket to $NOTIFY_SOCKET: a file system path, or an abstract socket
// name when it starts with "@". systemd learns the sender's pid from the kernel (SCM_CREDENTIALS),
// so the message must come from Porter's own process (NotifyAccess=main), which it does.
import { PorterError } from '../errors/index.ts'
import { AF_UNIX, MSG_DONTWAIT, MSG_NOSIGNAL, SOCK_CLOEXEC, SOCK_DGRAM, libc } from './_libc.ts'
import { SysCallError } from './errors.ts'

const SUN_PATH_MAX = 108 // sizeof(sockaddr_un.sun_path)
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * struct sockaddr_un for $NOTIFY_SOCKET, cut to its used length: family, then the path with its
 * NUL, or for "@name" a NUL and the name (abstract names are not NUL-terminated).
 */
export function notifySockaddr(socket: string): Uint8Array {
  const abstract = socket.startsWith('@')
  if (!abstract && !socket.startsWith('/')) {
    throw new PorterError('PORTER_ERR_SD_NOTIFY', `Cannot notify systemd at NOTIFY_SOCKET=${JSON.stringify(socket)}: only an absolute path or an "@" abstract name is supported`)
  }
  const name = new TextEncoder().encode(abstract ? socket.slice(1) : socket)
  const pathLen = abstract ? 1 + name.length : name.length + 1
  if (pathLen > SUN_PATH_MAX) {
    throw new PorterError('PORTER_ERR_SD_NOTIFY', `Cannot notify systemd at NOTIFY_SOCKET=${JSON.stringify(socket)}: longer than ${SUN_PATH_MAX - 1} bytes`)
  }
  const buf = new Uint8Array(2 + pathLen) // zero-filled: the NUL before an abstract name, after a path
  new DataView(buf.buffer).setUint16(0, AF_UNIX, HOST_LE)
  buf.set(name, abstract ? 3 : 2)
  return buf
}

/**
 * Send `state` ("READY=1", "STATUS=...\nREADY=1", ...) to systemd. Returns false, doing nothing,
 * when $NOTIFY_SOCKET is not set (not run by systemd, or no Type=notify); true once sent. Throws a
 * PorterError (PORTER_ERR_SD_NOTIFY, with errno) when the variable is set but the datagram cannot
 * be sent. Never blocks: a full receive queue is an error (EAGAIN), not a wait.
 */
export function sdNotify(state: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const socket = env.NOTIFY_SOCKET
  if (socket === undefined || socket === '') return false
  const addr = notifySockaddr(socket)
  const what = `Cannot notify systemd at NOTIFY_SOCKET=${JSON.stringify(socket)}`
  const c = libc()
  const s = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)
  if (s.ret < 0) throw new SysCallError('PORTER_ERR_SD_NOTIFY', what, 'socket', s.errno)
  try {
    const data = new TextEncoder().encode(state)
    const r = c.sendto(s.ret, data, MSG_DONTWAIT | MSG_NOSIGNAL, addr)
    if (r.ret < 0) throw new SysCallError('PORTER_ERR_SD_NOTIFY', what, 'sendto', r.errno)
    if (r.ret !== data.length) throw new PorterError('PORTER_ERR_SD_NOTIFY', `${what}: sent ${r.ret} of ${data.length} bytes`)
  } finally {
    c.close(s.ret)
  }
  return true
}

/**
 * How often to send WATCHDOG=1, in milliseconds: half of $WATCHDOG_USEC (as sd_watchdog_enabled
 * advises), when the watchdog is on for this process ($WATCHDOG_PID unset or equal to `pid`).
 * undefined when there is no watchdog or the variables are not valid.
 */
export function watchdogInterval(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number | undefined {
  const usecText = env.WATCHDOG_USEC
  if (usecText === undefined || !/^\d+$/.test(usecText)) return undefined
  const usec = Number(usecText)
  if (!Number.isSafeInteger(usec) || usec <= 0) return undefined
  const pidText = env.WATCHDOG_PID
  if (pidText !== undefined && pidText !== '' && (!/^\d+$/.test(pidText) || Number(pidText) !== pid)) return undefined
  return usec / 2 / 1000
}
