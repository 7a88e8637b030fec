import { PorterError } from '../errors/index.ts'

/**
 * An nftables or iptables transaction (or the state read before it) failed. `errno` is set when
 * the failure has one (ENOENT: the tool is not installed); `tool` is the program that failed and
 * `stderr` its diagnostics, so the message can quote the kernel's complaint.
 */
export class FirewallError extends PorterError {
  readonly errno: number
  readonly tool: string
  readonly stderr: string
  constructor(tool: string, message: string, opts: { errno?: number; stderr?: string; cause?: unknown } = {}) {
    super('PORTER_ERR_FIREWALL', message, opts.cause !== undefined ? { cause: opts.cause } : undefined)
    this.name = 'FirewallError'
    this.tool = tool
    this.errno = opts.errno ?? 0
    this.stderr = opts.stderr ?? ''
  }
}
