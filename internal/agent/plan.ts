// PURE planner: desired VIPs + observed kernel state -> the changes that make the kernel match.
// Only objects marked as Porter's are ever changed or removed (see README.md, "Ownership"):
//   - addresses with IFA_PROTO 0x50 ("porter"); IPv4 ones also carry the label "<ifname>:porter"
//     (kernels before 6.3 drop IFA_PROTO, the label still marks them)
//   - routes with protocol 0x50 (local-route mode)
//   - the nft table `inet porter` and rules commented "porter:accept:ipv4|6" in the host chain
//   - the iptables chains PORTER-INPUT / PORTER-FORWARD and the jumps to them
// A desired VIP that is already local through an address or route Porter does not own is left
// alone and reported in `foreign`.
import type { AddrEntry, AddrSpec, RouteEntry, RouteSpec } from '../netlink/index.ts'
import { planNft, planNftCleanup, type ChainRef, type NftObserved, type NftTransaction } from '../nft/index.ts'
import { planIptables, planIptablesCleanup, type IptObserved, type IptScripts } from '../iptables/index.ts'
import type { Family, Vip } from './vips.ts'

/** IFA_PROTO of Porter's addresses and rtm_protocol of its routes ("porter" in rt_protos). */
export const PORTER_PROTO = 0x50
export const LABEL_SUFFIX = ':porter'
const IFNAMSIZ = 16
const RT_TABLE_LOCAL = 255
const RTN_LOCAL = 2
const RT_SCOPE_HOST = 254
const RT_SCOPE_UNIVERSE = 0
const IFA_F_NODAD = 0x02
const IFA_F_NOPREFIXROUTE = 0x200

export type VipMode = 'address' | 'local-route'
export type Backend = 'nftables' | 'iptables' | 'none'

/** The IPv4 label of Porter's addresses on an interface ("lo:porter"), if it fits in IFNAMSIZ. */
export function porterLabel(ifname: string): string | undefined {
  const l = `${ifname}${LABEL_SUFFIX}`
  return Buffer.byteLength(l) < IFNAMSIZ ? l : undefined
}

export function isPorterAddress(a: AddrEntry): boolean {
  return a.proto === PORTER_PROTO || (a.family === 4 && a.label !== undefined && a.label.endsWith(LABEL_SUFFIX))
}

export function isPorterRoute(r: RouteEntry): boolean {
  return r.protocol === PORTER_PROTO
}

const hostLen = (f: Family): number => (f === 4 ? 32 : 128)

export interface Desired {
  vips: readonly Vip[]
  ifname: string
  ifindex: number
  mode: VipMode
  firewall: Backend
  /** nftables: the host chain that gets the accept rules */
  nftAccept?: ChainRef
}

export interface Observed {
  /** addresses in the namespace (foreign ones included; the planner never touches them) */
  addresses: readonly AddrEntry[]
  /** routes: at least Porter's; in local-route mode also the local table, for collisions */
  routes: readonly RouteEntry[]
  nft?: NftObserved
  iptables?: IptObserved
}

export type NetChange =
  | { kind: 'add-address'; spec: AddrSpec }
  | { kind: 'del-address'; spec: AddrSpec }
  | { kind: 'add-route'; spec: RouteSpec }
  | { kind: 'del-route'; spec: RouteSpec }

export interface Plan {
  /** netlink changes: removals first, then additions */
  net: NetChange[]
  nft?: NftTransaction
  iptables?: IptScripts
  /** reasons the desired state cannot be reached; a plan with problems must not be applied */
  problems: string[]
  /** desired VIPs already local through objects Porter does not own (left alone) */
  foreign: string[]
}

/** Number of kernel writes a plan makes: netlink requests plus firewall transactions. */
export function planWrites(p: Plan): number {
  return p.net.length + (p.nft ? 1 : 0) + Object.keys(p.iptables ?? {}).length
}

export const isNoop = (p: Plan): boolean => planWrites(p) === 0

function addrSpec(a: AddrEntry): AddrSpec {
  return { family: a.family, address: a.address, prefixLen: a.prefixLen, ifindex: a.ifindex }
}

function routeSpec(r: RouteEntry): RouteSpec {
  const s: RouteSpec = { family: r.family, dst: r.dst, dstLen: r.dstLen, table: r.table, protocol: r.protocol, type: r.type, scope: r.scope }
  if (r.oif !== undefined) s.oif = r.oif
  return s
}

function planNet(d: Desired, o: Observed, foreign: string[]): NetChange[] {
  const want = new Map(d.vips.map((v) => [v.address, v]))
  const dels: NetChange[] = []
  const adds: NetChange[] = []
  const keptAddr = new Set<string>()
  const keptRoute = new Set<string>()
  for (const a of o.addresses) {
    if (!isPorterAddress(a)) continue
    const v = d.mode === 'address' ? want.get(a.address) : undefined
    if (v && a.ifindex === d.ifindex && a.prefixLen === hostLen(a.family) && !keptAddr.has(a.address)) keptAddr.add(a.address)
    else dels.push({ kind: 'del-address', spec: addrSpec(a) })
  }
  for (const r of o.routes) {
    if (!isPorterRoute(r)) continue
    const v = d.mode === 'local-route' ? want.get(r.dst) : undefined
    if (v && r.dstLen === hostLen(r.family) && r.table === RT_TABLE_LOCAL && r.type === RTN_LOCAL && r.oif === d.ifindex && !keptRoute.has(r.dst)) keptRoute.add(r.dst)
    else dels.push({ kind: 'del-route', spec: routeSpec(r) })
  }
  const foreignAddr = new Set(o.addresses.filter((a) => !isPorterAddress(a) && a.ifindex === d.ifindex).map((a) => a.address))
  const foreignRoute = new Set(o.routes.filter((r) => !isPorterRoute(r) && r.table === RT_TABLE_LOCAL && r.dstLen === hostLen(r.family)).map((r) => r.dst))
  for (const v of d.vips) {
    if (d.mode === 'address') {
      if (keptAddr.has(v.address)) continue
      if (foreignAddr.has(v.address)) { foreign.push(v.address); continue }
      const spec: AddrSpec = { family: v.family, address: v.address, prefixLen: hostLen(v.family), ifindex: d.ifindex, proto: PORTER_PROTO, scope: RT_SCOPE_UNIVERSE }
      if (v.family === 4) {
        const label = porterLabel(d.ifname)
        if (label !== undefined) spec.label = label
      } else spec.flags = IFA_F_NODAD | IFA_F_NOPREFIXROUTE
      adds.push({ kind: 'add-address', spec })
    } else {
      if (keptRoute.has(v.address)) continue
      if (foreignRoute.has(v.address)) { foreign.push(v.address); continue }
      adds.push({ kind: 'add-route', spec: { family: v.family, dst: v.address, dstLen: hostLen(v.family), table: RT_TABLE_LOCAL, protocol: PORTER_PROTO, type: RTN_LOCAL, scope: RT_SCOPE_HOST, oif: d.ifindex } })
    }
  }
  return [...dels, ...adds]
}

export function planChanges(d: Desired, o: Observed): Plan {
  const problems: string[] = []
  const foreign: string[] = []
  const plan: Plan = { net: planNet(d, o, foreign), problems, foreign }
  const v4 = d.vips.filter((v) => v.family === 4).map((v) => v.address)
  const v6 = d.vips.filter((v) => v.family === 6).map((v) => v.address)
  if (d.firewall === 'nftables') {
    if (!o.nft) problems.push('The nftables state was not observed')
    else {
      const r = planNft(d.nftAccept ? { v4, v6, accept: d.nftAccept } : { v4, v6 }, o.nft)
      problems.push(...r.problems)
      if (r.tx.ops.length) plan.nft = r.tx
    }
  } else if (d.firewall === 'iptables') {
    if (!o.iptables) problems.push('The iptables state was not observed')
    else {
      const s = planIptables({ 4: v4, 6: v6 }, o.iptables)
      if (Object.keys(s).length) plan.iptables = s
    }
  }
  return plan
}

/** Remove everything Porter created that was observed, nothing else. */
export function planCleanup(o: Observed): Plan {
  const net: NetChange[] = []
  for (const a of o.addresses) if (isPorterAddress(a)) net.push({ kind: 'del-address', spec: addrSpec(a) })
  for (const r of o.routes) if (isPorterRoute(r)) net.push({ kind: 'del-route', spec: routeSpec(r) })
  const plan: Plan = { net, problems: [], foreign: [] }
  if (o.nft) {
    const tx = planNftCleanup(o.nft)
    if (tx.ops.length) plan.nft = tx
  }
  if (o.iptables) {
    const s = planIptablesCleanup(o.iptables)
    if (Object.keys(s).length) plan.iptables = s
  }
  return plan
}
