import { constants } from 'node:os'
import { PorterError } from '../errors/index.ts'

const errnoNames: Record<number, string> = Object.fromEntries(Object.entries(constants.errno).map(([k, v]) => [v, k]))

/** Symbolic name of an errno value ("EEXIST"), or "errno N". */
export function errnoName(errno: number): string {
  return errnoNames[errno] ?? `errno ${errno}`
}

/** A netlink request failed. `errno` is the kernel's error number (positive), 0 when not from the kernel. */
export class NetlinkError extends PorterError {
  readonly errno: number
  /** what was attempted, e.g. "add address 192.0.2.1/32 on lo" */
  readonly op: string
  constructor(op: string, errno: number, detail?: string, options?: { cause?: unknown }) {
    super('PORTER_ERR_NETLINK', `Cannot ${op}: ${detail ?? errnoName(errno)}${errno ? ` (errno ${errno})` : ''}`, options)
    this.name = 'NetlinkError'
    this.errno = errno
    this.op = op
  }
}
