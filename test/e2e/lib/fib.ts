// Kernel FIB of a namespace, normalised to { prefix, nextHops[] } whatever the installer used:
// a single gateway, a `nexthops` multipath list (BIRD), or a nexthop-object id (FRR's `nhid`,
// resolved through `ip -j nexthop show`, including groups).

import { exec } from './netns.ts'

export interface FibNextHop { gateway?: string; dev?: string; weight?: number }
export interface FibRoute {
  prefix: string
  protocol?: string
  table?: string
  nextHops: FibNextHop[]
  /** next-hop gateways only, sorted, for easy assertions */
  gateways: string[]
  /** the raw `ip -j route` object */
  raw: Record<string, unknown>
}

interface IpRoute {
  dst: string
  gateway?: string
  dev?: string
  protocol?: string
  table?: string
  nhid?: number
  nexthops?: { gateway?: string; dev?: string; weight?: number }[]
  type?: string
  [k: string]: unknown
}

interface IpNexthop {
  id: number
  gateway?: string
  dev?: string
  group?: { id: number; weight?: number }[]
  blackhole?: boolean
}

export interface FibQuery {
  family: 4 | 6
  /** only routes installed by this protocol (e.g. "bird", "bgp") */
  protocol?: string
  table?: string
}

function normalisePrefix(dst: string, family: 4 | 6): string {
  if (dst === 'default') return family === 4 ? '0.0.0.0/0' : '::/0'
  if (dst.includes('/')) return dst
  return family === 4 ? `${dst}/32` : `${dst}/128`
}

/** Read the kernel FIB of `ns` for one family. */
export async function kernelRoutes(ns: string, q: FibQuery): Promise<FibRoute[]> {
  const fam = q.family === 4 ? '-4' : '-6'
  const args = ['ip', '-j', fam, 'route', 'show', ...(q.table ? ['table', q.table] : []), ...(q.protocol ? ['proto', q.protocol] : [])]
  const routes = JSON.parse((await exec(ns, args)).stdout || '[]') as IpRoute[]
  let nhs: Map<number, IpNexthop> | undefined
  const out: FibRoute[] = []
  for (const r of routes) {
    if (r.type && r.type !== 'unicast') continue
    if (q.family === 6 && r.dst.startsWith('fe80:')) continue
    let nextHops: FibNextHop[]
    if (r.nexthops) {
      nextHops = r.nexthops.map(n => clean({ gateway: n.gateway, dev: n.dev, weight: n.weight }))
    } else if (r.nhid !== undefined) {
      nhs ??= await nexthopObjects(ns)
      nextHops = resolveNhid(nhs, r.nhid)
    } else {
      nextHops = [clean({ gateway: r.gateway, dev: r.dev })]
    }
    out.push(clean({
      prefix: normalisePrefix(r.dst, q.family),
      protocol: r.protocol,
      table: r.table,
      nextHops,
      gateways: nextHops.map(n => n.gateway).filter((g): g is string => !!g).sort(),
      raw: r,
    }))
  }
  return out
}

/** One route by exact prefix, or undefined. */
export async function kernelRoute(ns: string, prefix: string, q?: Omit<FibQuery, 'family'>): Promise<FibRoute | undefined> {
  const family = prefix.includes(':') ? 6 : 4
  return (await kernelRoutes(ns, { family, ...q })).find(r => r.prefix === prefix)
}

async function nexthopObjects(ns: string): Promise<Map<number, IpNexthop>> {
  const r = await exec(ns, ['ip', '-j', 'nexthop', 'show'], { allowFail: true })
  const list = r.code === 0 && r.stdout.trim() ? JSON.parse(r.stdout) as IpNexthop[] : []
  return new Map(list.map(n => [n.id, n]))
}

function resolveNhid(nhs: Map<number, IpNexthop>, id: number): FibNextHop[] {
  const nh = nhs.get(id)
  if (!nh) return []
  if (nh.group) {
    return nh.group.flatMap(g => resolveNhid(nhs, g.id).map(x => clean({ ...x, weight: g.weight ?? x.weight })))
  }
  return [clean({ gateway: nh.gateway, dev: nh.dev })]
}

function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k]
  return o
}
