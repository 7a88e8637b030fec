// The few libc calls Node does not expose, through koffi (FFI). The functions are bound on first
// use. In the bundle, build/build.mjs makes the `koffi` import itself lazy, so `porter version`
// never writes or opens the addon; from source, importing this file loads koffi. Every call returns the C result and the errno koffi saved right after
// the call (koffi restores the thread's errno around its own work, so the value is the call's).
//
// In the single executable, build/build.mjs serves koffi's own binary from the embedded asset
// (internal/native/load.ts, addon "koffi"); from source, koffi finds it in node_modules.
import koffi, { type LibraryHandle } from 'koffi'
import { constants } from 'node:os'

/** What a libc call returned: `ret` as in C (-1 on error) and errno (0 when it succeeded). */
export interface CallResult {
  ret: number
  errno: number
}

export interface Libc {
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): CallResult
  /** fills `addr` (sockaddr_storage-sized) and returns the address length in `len` */
  getsockname(fd: number, addr: Uint8Array): CallResult & { len: number }
  socket(domain: number, type: number, protocol: number): CallResult
  sendto(fd: number, data: Uint8Array, flags: number, addr: Uint8Array): CallResult
  close(fd: number): CallResult
  /** setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, struct sock_fprog) with a classic BPF program */
  attachFilter(fd: number, program: readonly SockFilter[]): CallResult
}

/** One classic BPF instruction (struct sock_filter, linux/filter.h). */
export interface SockFilter {
  code: number
  jt: number
  jf: number
  k: number
}

// Linux constants (the values Node does not export)
export const AF_UNIX = 1
export const AF_INET = 2
export const AF_INET6 = 10
export const SOCK_STREAM = 1
export const SOCK_DGRAM = 2
export const SOCK_NONBLOCK = 0o4000
export const SOCK_CLOEXEC = 0o2000000
export const IPPROTO_TCP = 6
export const TCP_MD5SIG = 14
export const MSG_DONTWAIT = 0x40
export const MSG_NOSIGNAL = 0x4000
export const SOL_SOCKET = 1
export const SO_ATTACH_FILTER = 26

const errnoNames: Record<number, string> = Object.fromEntries(Object.entries(constants.errno).map(([k, v]) => [v, k]))

/** "ENOENT", or "errno N" for a number Node has no name for. */
export function errnoName(errno: number): string {
  return errnoNames[errno] ?? `errno ${errno}`
}

let bound: Libc | undefined

/**
 * dlopen(NULL): the symbols already mapped into this process (node links libc), whatever the
 * libc's file name is (glibc's libc.so.6, musl's libc.musl-*.so.1)
 */
function openLibc(): LibraryHandle {
  try {
    return koffi.load(null)
  } catch {
    return koffi.load('libc.so.6')
  }
}

function bind(): Libc {
  const lib = openLibc()
  const setsockopt = lib.func('int setsockopt(int fd, int level, int optname, const void *optval, uint32_t optlen)')
  const getsockname = lib.func('int getsockname(int fd, void *addr, void *addrlen)')
  const socket = lib.func('int socket(int domain, int type, int protocol)')
  const sendto = lib.func('intptr_t sendto(int fd, const void *buf, uintptr_t len, int flags, const void *addr, uint32_t addrlen)')
  const close = lib.func('int close(int fd)')
  const sockFilter = koffi.struct('porter_sock_filter', { code: 'uint16', jt: 'uint8', jf: 'uint8', k: 'uint32' })
  const sockFprog = koffi.struct('porter_sock_fprog', { len: 'uint16', filter: koffi.pointer(sockFilter) })
  const setsockoptFprog = lib.func('setsockopt', 'int', ['int', 'int', 'int', koffi.pointer(sockFprog), 'uint32_t'])
  const result = (ret: number | bigint): CallResult => {
    const n = Number(ret)
    return { ret: n, errno: n < 0 ? koffi.errno() : 0 }
  }
  return {
    setsockopt: (fd, level, name, value) => result(setsockopt(fd, level, name, value, value.byteLength)),
    getsockname: (fd, addr) => {
      const len = new Uint32Array([addr.byteLength])
      const r = result(getsockname(fd, addr, len))
      return { ...r, len: len[0]! }
    },
    socket: (domain, type, protocol) => result(socket(domain, type, protocol)),
    sendto: (fd, data, flags, addr) => result(sendto(fd, data, data.byteLength, flags, addr, addr.byteLength)),
    close: (fd) => result(close(fd)),
    attachFilter: (fd, program) =>
      result(setsockoptFprog(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: program.length, filter: program }, koffi.sizeof(sockFprog))),
  }
}

/** The libc binding (loads koffi's addon on the first call). */
export function libc(): Libc {
  bound ??= bind()
  return bound
}

let trimmer: ((pad: number) => number) | null | undefined

/**
 * glibc's `malloc_trim(pad)`: gives the free memory of every malloc arena back to the kernel (the
 * top of the main heap and the free pages inside each arena), returns 1 when it released any.
 * `undefined` where the libc has none (musl) or koffi cannot load; bound on the first call.
 */
export function mallocTrim(): ((pad: number) => number) | undefined {
  if (trimmer === undefined) {
    try {
      const f = openLibc().func('int malloc_trim(uintptr_t pad)')
      trimmer = (pad: number) => Number(f(pad))
    } catch {
      trimmer = null
    }
  }
  return trimmer ?? undefined
}
