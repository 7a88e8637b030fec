// gobgpd inside a lab namespace: as the router under test, or as a route speaker (the smoke test
// and the capture script use it to originate routes with `gobgp global rib add`).
// Each instance has its own TOML config and its own gRPC port on the namespace's loopback.

import type { ChildProcess } from 'node:child_process'
import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Lab, waitFor, type ExecResult } from './netns.ts'
import {
  type BgpRoute, type Family, type PeerSpec, type PeerStatus, type RouterSpec, type SessionState, familyOf,
} from './router.ts'

export interface GobgpSpec extends RouterSpec {
  /** gRPC API port on 127.0.0.1 inside the namespace (default 50051) */
  apiPort?: number
  /** BGP listen port (default 179; -1 = do not listen) */
  listenPort?: number
  /** listen addresses (default all) */
  listenAddresses?: string[]
}

const q = (s: string): string => JSON.stringify(s)

export function renderGobgpConfig(spec: GobgpSpec): string {
  const L: string[] = []
  L.push('[global.config]')
  L.push(`  as = ${spec.as}`)
  L.push(`  router-id = ${q(spec.routerId)}`)
  L.push(`  port = ${spec.listenPort ?? 179}`)
  if (spec.listenAddresses) L.push(`  local-address-list = [${spec.listenAddresses.map(q).join(', ')}]`)
  L.push(...(spec.extra ?? []))
  for (const p of spec.peers) L.push(...renderGobgpPeer(p))
  return L.join('\n') + '\n'
}

function renderGobgpPeer(p: PeerSpec): string[] {
  const L: string[] = []
  L.push('', '[[neighbors]]')
  L.push('  [neighbors.config]')
  L.push(`    neighbor-address = ${q(p.address)}`)
  L.push(`    peer-as = ${p.as}`)
  if (p.password) L.push(`    auth-password = ${q(p.password)}`)
  L.push('  [neighbors.timers.config]')
  L.push('    connect-retry = 1')
  L.push(`    hold-time = ${p.holdTime ?? 90}`)
  L.push(`    keepalive-interval = ${Math.max(1, Math.floor((p.holdTime ?? 90) / 3))}`)
  L.push('  [neighbors.transport.config]')
  L.push(`    passive-mode = ${p.passive ?? true}`)
  if (p.localAddress) L.push(`    local-address = ${q(p.localAddress)}`)
  if (p.gracefulRestart) {
    L.push('  [neighbors.graceful-restart.config]')
    L.push('    enabled = true')
    L.push('    restart-time = 120')
  }
  L.push(...(p.extra ?? []).map(x => `  ${x}`))
  for (const fam of p.families ?? [familyOf(p.address)]) {
    L.push('  [[neighbors.afi-safis]]')
    L.push('    [neighbors.afi-safis.config]')
    L.push(`      afi-safi-name = "${fam}-unicast"`)
    if (p.gracefulRestart) {
      L.push('    [neighbors.afi-safis.mp-graceful-restart.config]')
      L.push('      enabled = true')
    }
    const rx = p.addPathRx ?? true
    if (rx || p.addPathTx) {
      L.push('    [neighbors.afi-safis.add-paths.config]')
      L.push(`      receive = ${rx}`)
      if (p.addPathTx) L.push('      send-max = 8')
    }
  }
  return L
}

/** Attributes for `gobgp global rib add`. */
export interface GobgpPath {
  nextHop: string
  /** ADD-PATH identifier (`identifier N`) */
  pathId?: number
  origin?: 'igp' | 'egp' | 'incomplete'
  asPath?: number[]
  med?: number
  localPref?: number
  communities?: string[] // "65000:1"
  largeCommunities?: string[] // "65000:1:2"
  aggregator?: string // "AS:IP"
  /* gobgp 3.10's CLI has no extended communities or ATOMIC_AGGREGATE for unicast routes */
}

function pathArgs(p: GobgpPath): string[] {
  const a: string[] = []
  if (p.pathId !== undefined) a.push('identifier', String(p.pathId))
  if (p.origin) a.push('origin', p.origin)
  if (p.asPath?.length) a.push('aspath', p.asPath.join(','))
  a.push('nexthop', p.nextHop)
  if (p.med !== undefined) a.push('med', String(p.med))
  if (p.localPref !== undefined) a.push('local-pref', String(p.localPref))
  if (p.communities?.length) a.push('community', p.communities.join(','))
  if (p.largeCommunities?.length) a.push('large-community', p.largeCommunities.join(','))
  if (p.aggregator) a.push('aggregator', p.aggregator)
  return a
}

/** gobgpd running in a lab namespace. */
export class Gobgp {
  readonly dir: string
  readonly configFile: string
  readonly apiPort: number
  private child: ChildProcess | undefined

  constructor(readonly lab: Lab, readonly spec: GobgpSpec, name = 'gobgp') {
    this.dir = join(lab.dir, `${name}-${spec.ns}`)
    mkdirSync(this.dir, { recursive: true })
    this.configFile = join(this.dir, 'gobgpd.toml')
    this.apiPort = spec.apiPort ?? 50051
    this.writeConfig()
  }

  writeConfig(spec: GobgpSpec = this.spec): void {
    writeFileSync(this.configFile, renderGobgpConfig(spec))
  }

  get pid(): number | undefined { return this.child?.pid }

  async start(extraArgs: string[] = []): Promise<this> {
    this.child = this.lab.spawn(this.spec.ns, [
      'gobgpd', '-f', this.configFile, '-t', 'toml', '--api-hosts', `127.0.0.1:${this.apiPort}`,
      '--pprof-disable', '-p', ...extraArgs,
    ], { logFile: join(this.dir, 'gobgpd.log') })
    const child = this.child
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`gobgpd exited with ${child.exitCode}; see ${this.dir}/gobgpd.log`)
      return (await this.cli(['global'], true)).code === 0
    }, { timeoutMs: 10_000, intervalMs: 100, what: 'gobgpd gRPC API' })
    return this
  }

  async stop(): Promise<void> {
    if (this.child) await this.lab.kill(this.child, 'SIGTERM')
    this.child = undefined
  }

  async crash(): Promise<void> {
    if (this.child) await this.lab.kill(this.child, 'SIGKILL')
    this.child = undefined
  }

  async restart(extraArgs: string[] = []): Promise<void> {
    await this.stop()
    await this.start(extraArgs)
  }

  /** `gobgp -p PORT ...` inside the namespace. */
  async cli(args: string[], allowFail = false): Promise<ExecResult> {
    const r = await this.lab.exec(this.spec.ns, ['gobgp', '-u', '127.0.0.1', '-p', String(this.apiPort), ...args],
      { allowFail: true, timeoutMs: 15_000 })
    if (!allowFail && r.code !== 0) throw new Error(`gobgp ${args.join(' ')} failed: ${r.stderr}${r.stdout}`)
    return r
  }

  async addRoute(prefix: string, path: GobgpPath): Promise<void> {
    await this.cli(['global', 'rib', '-a', familyOf(prefix), 'add', prefix, ...pathArgs(path)])
  }

  async delRoute(prefix: string, pathId?: number): Promise<void> {
    await this.cli(['global', 'rib', '-a', familyOf(prefix), 'del', prefix,
      ...(pathId !== undefined ? ['identifier', String(pathId)] : [])])
  }

  async neighbors(): Promise<PeerStatus[]> {
    const r = await this.cli(['neighbor', '-j'])
    const list = JSON.parse(r.stdout || '[]') as GobgpNeighbor[]
    return list.map(n => ({
      name: n.conf?.neighbor_address ?? n.state?.neighbor_address ?? '?',
      address: n.conf?.neighbor_address ?? n.state?.neighbor_address,
      state: gobgpState(n.state?.session_state),
    }))
  }

  async waitEstablished(addresses?: string[], timeoutMs = 30_000): Promise<void> {
    const want = addresses ?? this.spec.peers.map(p => p.address)
    await waitFor(async () => {
      const ns = await this.neighbors()
      return want.every(a => ns.find(n => n.address === a)?.state === 'established')
    }, { timeoutMs, what: `GoBGP sessions ${want.join(', ')} Established` })
  }

  /** `gobgp global rib -a FAMILY -j` (Loc-RIB, every path) parsed. */
  async routes(family: Family): Promise<BgpRoute[]> {
    const r = await this.cli(['global', 'rib', '-a', family, '-j'])
    return parseGobgpRib(r.stdout)
  }

  /** Adj-RIB-In of one neighbour. */
  async adjIn(neighbor: string, family: Family): Promise<BgpRoute[]> {
    const r = await this.cli(['neighbor', neighbor, 'adj-in', '-a', family, '-j'], true)
    return r.code === 0 ? parseGobgpRib(r.stdout) : []
  }

  /** Route-refresh (soft reset in) towards a neighbour. */
  async softResetIn(neighbor: string, family?: Family): Promise<void> {
    await this.cli(['neighbor', neighbor, 'softresetin', ...(family ? ['-a', family] : [])])
  }

  async shutdownNeighbor(neighbor: string, message?: string): Promise<void> {
    await this.cli(['neighbor', neighbor, 'shutdown', ...(message ? ['-m', message] : [])])
  }
}

interface GobgpNeighbor {
  conf?: { neighbor_address?: string; peer_asn?: number }
  state?: { neighbor_address?: string; session_state?: number | string }
}

const GOBGP_STATES: Record<string, SessionState> = {
  '1': 'idle', '2': 'connect', '3': 'active', '4': 'opensent', '5': 'openconfirm', '6': 'established',
  idle: 'idle', connect: 'connect', active: 'active', opensent: 'opensent', openconfirm: 'openconfirm',
  established: 'established',
}

function gobgpState(s: number | string | undefined): SessionState {
  if (s === undefined) return 'unknown'
  return GOBGP_STATES[String(s).toLowerCase().replace(/^session_state_/, '')] ?? 'unknown'
}

interface GobgpAttr {
  type: number
  value?: unknown
  as_paths?: { segment_type: number; asns: number[] }[]
  nexthop?: string
  communities?: number[]
  metric?: number
  value_list?: unknown
  [k: string]: unknown
}

interface GobgpPathJson {
  nlri: { prefix: string }
  attrs: GobgpAttr[]
  best?: boolean
  'source-id'?: string
  'neighbor-ip'?: string
  id?: number
  'remote-id'?: number
  [k: string]: unknown
}

/** Parse `gobgp ... rib -j` ({ prefix: path[] }). */
export function parseGobgpRib(text: string): BgpRoute[] {
  const t = text.trim()
  if (!t) return []
  const json = JSON.parse(t) as Record<string, GobgpPathJson[]>
  const out: BgpRoute[] = []
  for (const [prefix, paths] of Object.entries(json)) {
    for (const p of paths) {
      const r: BgpRoute = { prefix, nextHops: [], asPath: [], communities: [], largeCommunities: [], raw: p }
      if (p.best !== undefined) r.best = p.best
      if (p['neighbor-ip'] && p['neighbor-ip'] !== '<nil>') r.from = p['neighbor-ip']
      const id = p['remote-id'] ?? p.id
      if (typeof id === 'number' && id !== 0) r.pathId = id
      for (const a of p.attrs) {
        switch (a.type) {
          case 1: r.origin = ['igp', 'egp', 'incomplete'][a.value as number] ?? String(a.value); break
          case 2: r.asPath = (a.as_paths ?? []).flatMap(s => s.asns); break
          case 3: if (a.nexthop) r.nextHops.push(a.nexthop); break
          case 4: r.med = a.metric as number; break
          case 5: r.localPref = a.value as number; break
          case 8: r.communities = (a.communities ?? []).map(c => `${c >>> 16}:${c & 0xffff}`); break
          case 14: {
            const nh = (a as { nexthop?: string }).nexthop
            const v = (a as { value?: unknown[] }).value
            if (nh) r.nextHops.push(nh)
            else if (Array.isArray(v)) r.nextHops.push(...v.filter((x): x is string => typeof x === 'string'))
            break
          }
          case 32: {
            const v = (a as { value?: { ASN?: number; asn?: number; LocalData1?: number; LocalData2?: number;
              local_data1?: number; local_data2?: number }[] }).value ?? []
            r.largeCommunities = v.map(x => `${x.ASN ?? x.asn}:${x.LocalData1 ?? x.local_data1}:${x.LocalData2 ?? x.local_data2}`)
            break
          }
          default: break
        }
      }
      r.bgpNextHop = [...r.nextHops]
      out.push(r)
    }
  }
  return out
}
