// A fake of the agent's kernel adapter (internal/agent Kernel): addresses and routes in memory,
// firewall backend "none", injectable observe failures and notifications through `watchers`.
import { FirewallError, isPorterAddress, isPorterRoute, planWrites, type Kernel, type KernelWatchers, type ObserveQuery, type Observed, type Plan } from '../../internal/agent/index.ts'
import type { AddrEntry, RouteEntry } from '../../internal/netlink/index.ts'

/** a foreign (not Porter's) address on lo */
export const FOREIGN: AddrEntry = { family: 4, address: '198.51.100.1', prefixLen: 24, ifindex: 1, scope: 0, flags: 0, proto: 0, label: 'lo' }

export class FakeKernel implements Kernel {
  addresses: AddrEntry[] = [FOREIGN]
  routes: RouteEntry[] = []
  watchers: KernelWatchers | undefined
  observes = 0
  nWrites = 0
  /** fail this many observe() calls */
  failObserve = 0
  firewallError: Error | undefined
  closed = 0
  queries: ObserveQuery[] = []
  plans: Plan[] = []
  async resolveFirewall() {
    if (this.firewallError) throw this.firewallError
    return { backend: 'none' as const, reason: 'test' }
  }
  async ifindex(name: string) { return name === 'lo' ? 1 : undefined }
  async observe(q: ObserveQuery): Promise<Observed> {
    this.observes++
    this.queries.push(q)
    if (this.failObserve > 0) { this.failObserve--; throw new FirewallError('nft', 'simulated failure', { errno: 5 }) }
    const routes = q.routes === 'none' ? [] : this.routes.filter((r) => isPorterRoute(r) || (q.routes === 'local' && r.table === 255))
    return { addresses: this.addresses.map((a) => ({ ...a })), routes: routes.map((r) => ({ ...r })) }
  }
  async apply(plan: Plan) {
    this.plans.push(plan)
    this.nWrites += planWrites(plan)
    for (const c of plan.net) {
      if (c.kind === 'add-address') this.addresses.push({ family: c.spec.family, address: c.spec.address, prefixLen: c.spec.prefixLen, ifindex: c.spec.ifindex, scope: 0, flags: 0, proto: c.spec.proto ?? 0 })
      if (c.kind === 'del-address') this.addresses = this.addresses.filter((a) => !(a.address === c.spec.address && a.ifindex === c.spec.ifindex))
      if (c.kind === 'add-route') this.routes.push({ ...c.spec })
      if (c.kind === 'del-route') this.routes = this.routes.filter((r) => !(r.dst === c.spec.dst && r.table === c.spec.table))
    }
  }
  async cleanup() {
    const n = this.addresses.filter(isPorterAddress).length
    const r = this.routes.filter(isPorterRoute).length
    this.nWrites += n + r
    this.addresses = this.addresses.filter((a) => !isPorterAddress(a))
    this.routes = this.routes.filter((x) => !isPorterRoute(x))
    return { addresses: n, routes: r, nftables: false, iptables: [] }
  }
  watch(w: KernelWatchers) { this.watchers = w }
  writes() { return this.nWrites }
  close() { this.closed++ }
  /** Porter's addresses, sorted */
  mine(): string[] { return this.addresses.filter(isPorterAddress).map((a) => a.address).sort() }
  /** Porter's routes (destinations), sorted */
  mineRoutes(): string[] { return this.routes.filter(isPorterRoute).map((r) => r.dst).sort() }
}
