// Firewall backend choice. `auto`: if the host's iptables filter table (of the flavour
// `iptables -V` reports) drops or filters INPUT / FORWARD traffic, Porter must accept its VIPs
// there, so it uses iptables; otherwise nftables when `nft` runs; else iptables when installed;
// else none (with a warning). An explicitly chosen backend that is not installed is an error.
import { FirewallError, NftRunner, defaultExec, type ExecFn } from '../nft/index.ts'
import { IptablesRunner, detectFlavour, filterIsActive, type Flavour } from '../iptables/index.ts'
import type { Backend } from './plan.ts'

export type FirewallSetting = 'auto' | 'nftables' | 'iptables' | 'none'

export interface ResolvedFirewall {
  backend: Backend
  flavour?: Flavour
  /** why this backend was chosen (logged) */
  reason: string
}

export interface ResolveOptions {
  exec?: ExecFn
  nft?: string
  /** force an iptables flavour instead of asking `iptables -V` */
  flavour?: Flavour
}

export async function resolveFirewall(setting: FirewallSetting, opts: ResolveOptions = {}): Promise<ResolvedFirewall> {
  const exec = opts.exec ?? defaultExec
  if (setting === 'none') return { backend: 'none', reason: 'agent.firewall is "none"' }
  if (setting === 'nftables') {
    await new NftRunner({ exec, ...(opts.nft ? { nft: opts.nft } : {}) }).version()
    return { backend: 'nftables', reason: 'agent.firewall is "nftables"' }
  }
  const flavour = opts.flavour ?? await detectFlavour(exec)
  if (setting === 'iptables') {
    if (!flavour) throw new FirewallError('iptables', 'Cannot use the iptables backend: "iptables -V" failed (install iptables, or set agent.firewall to "nftables" or "none")', { errno: 2 })
    return { backend: 'iptables', flavour, reason: `agent.firewall is "iptables" (iptables-${flavour})` }
  }
  if (flavour) {
    const ipt = new IptablesRunner({ flavour, exec })
    const obs = await ipt.observe().catch(() => undefined)
    if (obs && (filterIsActive(obs[4]) || filterIsActive(obs[6]))) {
      return { backend: 'iptables', flavour, reason: `the host's iptables-${flavour} filter table filters INPUT or FORWARD` }
    }
  }
  const nftOk = await new NftRunner({ exec, ...(opts.nft ? { nft: opts.nft } : {}) }).version().then(() => true, () => false)
  if (nftOk) return { backend: 'nftables', reason: 'nft is installed and no iptables filter rules are in the way' }
  if (flavour) return { backend: 'iptables', flavour, reason: `nft is not installed; iptables-${flavour} is` }
  return { backend: 'none', reason: 'neither nft nor iptables is installed: VIP traffic is not explicitly accepted' }
}
