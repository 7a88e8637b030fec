import { PorterError } from '../errors/index.ts'
import { errnoName } from './_libc.ts'

/** A system call made through internal/sys failed. `errno` is the kernel's error number (positive). */
export class SysCallError extends PorterError {
  readonly errno: number
  /** the failing call, e.g. "setsockopt(TCP_MD5SIG)" */
  readonly syscall: string
  constructor(code: 'PORTER_ERR_TCP_MD5' | 'PORTER_ERR_SD_NOTIFY' | 'PORTER_ERR_BGP_SESSION' | 'PORTER_ERR_BFD_SOCKET', what: string, syscall: string, errno: number, hint?: string) {
    super(code, `${what}: ${syscall} failed with ${errnoName(errno)} (errno ${errno})${hint ? `: ${hint}` : ''}`)
    this.name = 'SysCallError'
    this.errno = errno
    this.syscall = syscall
  }
}
