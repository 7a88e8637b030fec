// The agent's I/O adapter: reads and writes the kernel through rtnetlink (internal/netlink) and
// the firewall runners (internal/nft, internal/iptables), and turns kernel notifications into
// callbacks. The reconcile loop (agent.ts) only sees this interface, so tests can replace it.
import { Rtnl, monitor as netlinkMonitor, addAddress, delAddress, addRoute, delRoute, NetlinkError, type NetlinkEvent, type RtnlOptions, type WriteRequest, type RouteEntry } from '../netlink/index.ts'
import { NftReader, NftRunner, defaultExec, monitorNft, type ChainRef, type ExecFn, type NftChange, type NftObserved } from '../nft/index.ts'
import { IptablesRunner, detectFlavour, type Flavour, type IptObserved } from '../iptables/index.ts'
import { planCleanup, PORTER_PROTO, type Backend, type Observed, type Plan, type NetChange } from './plan.ts'
import { resolveFirewall, type FirewallSetting, type ResolvedFirewall } from './firewall.ts'
import { ERRNO } from '../base/index.ts'


export interface ObserveQuery {
  firewall: ResolvedFirewall
  nftAccept?: ChainRef
  /**
   * which routes to list: "porter" (protocol 0x50 only), "local" (also foreign routes of the local
   * table: local-route mode needs them for collisions), "none" (the caller knows from route
   * notifications that Porter has no routes)
   */
  routes: 'porter' | 'local' | 'none'
}

export interface KernelWatchers {
  netlink(ev: NetlinkEvent): void
  nft(change: NftChange | 'overflow'): void
}

export interface CleanupReport {
  addresses: number
  routes: number
  nftables: boolean
  iptables: Flavour[]
}

export interface Kernel {
  resolveFirewall(setting: FirewallSetting): Promise<ResolvedFirewall>
  ifindex(name: string): Promise<number | undefined>
  observe(q: ObserveQuery): Promise<Observed>
  /** Firewall first (so traffic is accepted before the address appears), then netlink. */
  apply(plan: Plan, fw: ResolvedFirewall): Promise<void>
  /** Remove everything Porter created (every backend that is installed), nothing else. */
  cleanup(nftAccept?: ChainRef): Promise<CleanupReport>
  watch(w: KernelWatchers): void
  /** kernel writes so far: netlink requests + firewall transactions */
  writes(): number
  close(): void
}

export interface KernelOptions {
  exec?: ExecFn
  /** the nft program (default "nft") */
  nft?: string
  /** force the iptables flavour instead of asking `iptables -V` */
  iptablesFlavour?: Flavour
  rtnl?: RtnlOptions
}

function netRequest(c: NetChange): WriteRequest {
  switch (c.kind) {
    case 'add-address': return addAddress(c.spec)
    case 'del-address': return delAddress(c.spec)
    case 'add-route': return addRoute(c.spec)
    case 'del-route': return delRoute(c.spec)
  }
}

/** errno values that mean "already in the state we wanted" for a change */
function benign(c: NetChange, errno: number): boolean {
  if (c.kind === 'add-address' || c.kind === 'add-route') return errno === ERRNO.EEXIST
  return errno === ERRNO.EADDRNOTAVAIL || errno === ERRNO.ENOENT || errno === ERRNO.ESRCH
}

export function createKernel(opts: KernelOptions = {}): Kernel {
  const exec = opts.exec ?? defaultExec
  // one socket for dumps (bulk reads), one for writes (thousands of small ACKs)
  let rtnl: Rtnl | undefined
  let wtnl: Rtnl | undefined
  const sock = (): Rtnl => (rtnl ??= new Rtnl({ ...opts.rtnl, bulkReads: true }))
  const wsock = (): Rtnl => (wtnl ??= new Rtnl(opts.rtnl))
  const nft = new NftRunner({ exec, ...(opts.nft ? { nft: opts.nft } : {}) })
  // reads go over nf_tables netlink (fast); `nft -j list` is the fallback
  let reader: NftReader | undefined
  const nftObserve = (accept?: ChainRef): Promise<NftObserved> => {
    if (!reader) {
      try { reader = new NftReader() } catch { return nft.observe(accept) }
    }
    return reader.observe(accept)
  }
  const ipt = new Map<Flavour, IptablesRunner>()
  const iptables = (f: Flavour): IptablesRunner => {
    let r = ipt.get(f)
    if (!r) { r = new IptablesRunner({ flavour: f, exec }); ipt.set(f, r) }
    return r
  }
  const closers: (() => void)[] = []
  let fwWrites = 0
  let netWrites = 0

  /** After a failure the sockets may be in any state (ENOBUFS, closed): start afresh, re-dump. */
  function resetSockets(): void {
    rtnl?.close()
    rtnl = undefined
    wtnl?.close()
    wtnl = undefined
    reader?.close()
    reader = undefined
  }

  async function guarded<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (e) {
      resetSockets()
      throw e
    }
  }

  async function routes(which: ObserveQuery['routes']): Promise<RouteEntry[]> {
    if (which === 'none') return []
    const localRoutes = which === 'local'
    const s = sock()
    const all = [...await s.routes(4, localRoutes ? undefined : PORTER_PROTO), ...await s.routes(6, localRoutes ? undefined : PORTER_PROTO)]
    return localRoutes ? all.filter((r) => r.protocol === PORTER_PROTO || r.table === 255) : all
  }

  async function writeNet(changes: readonly NetChange[]): Promise<void> {
    if (changes.length === 0) return
    netWrites += changes.length
    const results = await wsock().write(changes.map(netRequest))
    const failed = changes.map((c, i) => ({ c, errno: results[i]! })).filter((x) => x.errno !== 0 && !benign(x.c, x.errno))
    if (failed.length) {
      const first = failed[0]!
      const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : ''
      throw new NetlinkError(`${netRequest(first.c).op}${more}`, first.errno)
    }
  }

  async function observe(q: ObserveQuery): Promise<Observed> {
    const fw = q.firewall.backend === 'nftables'
      ? nftObserve(q.nftAccept)
      : q.firewall.backend === 'iptables' ? iptables(q.firewall.flavour!).observe() : Promise.resolve(undefined)
    // the firewall read overlaps the rtnetlink dumps
    const fwResult = fw.then((v) => ({ v }), (e: unknown) => ({ e }))
    const addresses = await sock().addresses()
    const rts = await routes(q.routes)
    const f = await fwResult
    if ('e' in f) throw f.e
    const obs: Observed = { addresses, routes: rts }
    if (q.firewall.backend === 'nftables') obs.nft = f.v as NftObserved
    else if (q.firewall.backend === 'iptables') obs.iptables = f.v as IptObserved
    return obs
  }

  async function apply(plan: Plan, fw: ResolvedFirewall): Promise<void> {
    if (plan.nft) { fwWrites++; await nft.apply(plan.nft) }
    if (plan.iptables && fw.backend === 'iptables') {
      fwWrites += Object.keys(plan.iptables).length
      await iptables(fw.flavour!).apply(plan.iptables)
    }
    await writeNet(plan.net)
  }

  async function cleanup(nftAccept?: ChainRef): Promise<CleanupReport> {
    const report: CleanupReport = { addresses: 0, routes: 0, nftables: false, iptables: [] }
    const s = sock()
    const base: Observed = { addresses: await s.addresses(), routes: [...await s.routes(4, PORTER_PROTO), ...await s.routes(6, PORTER_PROTO)] }
    // firewall: every backend that is installed
    if (await nft.version().then(() => true, () => false)) {
      const p = planCleanup({ addresses: [], routes: [], nft: await nftObserve(nftAccept) })
      if (p.nft) { fwWrites++; await nft.apply(p.nft); report.nftables = true }
    }
    const flavours = new Set<Flavour>()
    const detected = opts.iptablesFlavour ?? await detectFlavour(exec)
    if (detected) flavours.add(detected)
    for (const f of ['nft', 'legacy'] as Flavour[]) flavours.add(f)
    for (const f of flavours) {
      const r = iptables(f)
      const obs = await r.observe().catch(() => undefined) // that flavour is not installed
      if (!obs) continue
      const p = planCleanup({ addresses: [], routes: [], iptables: obs })
      if (p.iptables) { fwWrites += Object.keys(p.iptables).length; await r.apply(p.iptables); report.iptables.push(f) }
    }
    const p = planCleanup(base)
    await writeNet(p.net)
    report.addresses = p.net.filter((c) => c.kind === 'del-address').length
    report.routes = p.net.filter((c) => c.kind === 'del-route').length
    return report
  }

  function watch(w: KernelWatchers): void {
    // after lost notifications the subscription is reopened on a fresh socket (whatever state the
    // old one is in); the agent re-reads the kernel on the overflow event itself
    let closed = false
    let m: { close(): void } | undefined
    let n: { close(): void } | undefined
    const openNetlink = (): void => {
      m = netlinkMonitor((ev) => {
        if (ev.kind === 'overflow') setImmediate(() => { if (!closed) { m?.close(); openNetlink() } })
        w.netlink(ev)
      }, { links: true })
    }
    const openNft = (): void => {
      try {
        n = monitorNft((ev) => {
          if (ev.kind === 'overflow') setImmediate(() => { if (!closed) { n?.close(); openNft() } })
          w.nft(ev.kind === 'overflow' ? 'overflow' : ev.change)
        })
      } catch {
        n = undefined // no nf_tables netlink: the periodic check still finds drift
      }
    }
    openNetlink()
    openNft()
    closers.push(() => { closed = true; m?.close(); n?.close() })
  }

  return {
    resolveFirewall: (setting) => resolveFirewall(setting, { exec, ...(opts.nft ? { nft: opts.nft } : {}), ...(opts.iptablesFlavour ? { flavour: opts.iptablesFlavour } : {}) }),
    ifindex: (name) => guarded(() => sock().ifindex(name)),
    observe: (q) => guarded(() => observe(q)),
    apply: (plan, fw) => guarded(() => apply(plan, fw)),
    cleanup: (nftAccept) => guarded(() => cleanup(nftAccept)),
    watch,
    writes: () => netWrites + fwWrites,
    close() {
      for (const c of closers.splice(0)) c()
      resetSockets()
    },
  }
}

export type { Backend }
