// Agent mode: program this node's VIPs into the kernel (addresses or local routes over
// rtnetlink, firewall accept rules in nftables or iptables) and keep them there.
export { createAgent, type Agent, type AgentOptions, type AgentStatus, type AgentLogger, type ReconcileResult, type Trigger } from './agent.ts'
export { vipsForNode, normalizeVips, parseVip, type Vip, type VipInput, type Family } from './vips.ts'
export { planChanges, planCleanup, planWrites, isNoop, porterLabel, isPorterAddress, isPorterRoute, PORTER_PROTO, type Plan, type Desired, type Observed, type NetChange, type VipMode, type Backend } from './plan.ts'
export { createKernel, type Kernel, type KernelOptions, type KernelWatchers, type CleanupReport, type ObserveQuery } from './kernel.ts'
export { resolveFirewall, type FirewallSetting, type ResolvedFirewall } from './firewall.ts'
export { NetlinkError } from '../netlink/index.ts'
export { FirewallError } from '../nft/index.ts'
