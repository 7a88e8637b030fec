// FRR (zebra + bgpd) as the router under test, inside a lab namespace. Runs as user frr with its
// own config dir, vty sockets (--vty_socket), zserv socket (-z) and pid files, TCP vty off (-P 0),
// so it never meets the host's FRR.

import type { ChildProcess } from 'node:child_process'
import { writeFileSync, mkdirSync, chmodSync, chownSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { type Lab, waitFor, type ExecResult } from './netns.ts'
import { kernelRoutes, type FibRoute } from './fib.ts'
import {
  type BgpRoute, type Family, type PeerSpec, type PeerStatus, type RouterSpec, type SessionState, familyOf,
} from './router.ts'

export interface FrrSpec extends RouterSpec {
  /** `maximum-paths` (default 16, also for iBGP) */
  maximumPaths?: number
  /** `bgp graceful-restart` globally */
  gracefulRestart?: boolean
  /** lines before `router bgp` (route-maps, prefix-lists, ...) */
  preamble?: string[]
  /** `network PREFIX [route-map NAME]` statements, placed in their address family */
  networks?: { prefix: string; routeMap?: string }[]
  /**
   * run bfdd (after zebra, before bgpd) with these lines inside its `bfd` block (profiles, peers);
   * a neighbour's `extra: ['bfd profile NAME']` asks bgpd for the session
   */
  bfd?: string[]
}

export function frrIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'frr'], { encoding: 'utf8' }).trim())
  const gid = Number(execFileSync('id', ['-g', 'frr'], { encoding: 'utf8' }).trim())
  return { uid, gid }
}

export function renderBgpdConfig(spec: FrrSpec, logFile: string): string {
  const L: string[] = []
  L.push('frr defaults traditional', 'hostname bgpd', `log file ${logFile} informational`, '!')
  L.push(...(spec.preamble ?? []), '!')
  L.push(`router bgp ${spec.as}`)
  L.push(` bgp router-id ${spec.routerId}`)
  L.push(' no bgp ebgp-requires-policy')
  L.push(' no bgp default ipv4-unicast')
  L.push(' no bgp network import-check')
  L.push(' bgp bestpath as-path multipath-relax')
  if (spec.gracefulRestart) L.push(' bgp graceful-restart')
  L.push(...(spec.extra ?? []).map(x => ` ${x}`))
  for (const p of spec.peers) L.push(...renderFrrNeighbor(p))
  for (const fam of ['ipv4', 'ipv6'] as const) {
    const peers = spec.peers.filter(p => (p.families ?? [familyOf(p.address)]).includes(fam))
    const nets = (spec.networks ?? []).filter(n => familyOf(n.prefix) === fam)
    if (peers.length === 0 && nets.length === 0) continue
    L.push(` address-family ${fam} unicast`)
    for (const n of nets) L.push(`  network ${n.prefix}${n.routeMap ? ` route-map ${n.routeMap}` : ''}`)
    L.push(`  maximum-paths ${spec.maximumPaths ?? 16}`)
    L.push(`  maximum-paths ibgp ${spec.maximumPaths ?? 16}`)
    for (const p of peers) {
      L.push(`  neighbor ${p.address} activate`)
      if (p.addPathTx) L.push(`  neighbor ${p.address} addpath-tx-all-paths`)
      if (p.addPathRx === false) L.push(`  neighbor ${p.address} disable-addpath-rx`)
      L.push(...(p.familyExtra ?? []).map(x => `  neighbor ${p.address} ${x}`))
    }
    L.push(' exit-address-family')
  }
  L.push('!')
  return L.join('\n') + '\n'
}

function renderFrrNeighbor(p: PeerSpec): string[] {
  const n = ` neighbor ${p.address}`
  const L = [`${n} remote-as ${p.as}`]
  if (p.passive ?? true) L.push(`${n} passive`)
  if (p.password) L.push(`${n} password ${p.password}`)
  const hold = p.holdTime ?? 90
  L.push(`${n} timers ${Math.max(1, Math.floor(hold / 3))} ${hold}`)
  L.push(`${n} timers connect 1`)
  if (p.localAddress) L.push(`${n} update-source ${p.localAddress}`)
  if (p.gracefulRestart) L.push(`${n} graceful-restart`)
  L.push(...(p.extra ?? []).map(x => `${n} ${x}`))
  return L
}

/** FRR zebra + bgpd running in a lab namespace. */
export class Frr {
  readonly dir: string
  private zebra: ChildProcess | undefined
  private bfdd: ChildProcess | undefined
  private bgpd: ChildProcess | undefined

  constructor(readonly lab: Lab, readonly spec: FrrSpec, name = 'frr') {
    this.dir = join(lab.dir, `${name}-${spec.ns}`)
    // frr must traverse the lab dir and own its own dir
    chmodSync(lab.dir, 0o711)
    mkdirSync(this.dir, { recursive: true })
    const { uid, gid } = frrIds()
    chownSync(this.dir, uid, gid)
    chmodSync(this.dir, 0o750)
    this.writeConfig()
  }

  writeConfig(spec: FrrSpec = this.spec): void {
    const { uid, gid } = frrIds()
    const files: [string, string][] = [
      ['zebra.conf', `hostname zebra\nlog file ${join(this.dir, 'zebra.log')} informational\n!\n`],
      ['bgpd.conf', renderBgpdConfig(spec, join(this.dir, 'bgpd.log'))],
    ]
    if (spec.bfd) files.push(['bfdd.conf', `hostname bfdd\nlog file ${join(this.dir, 'bfdd.log')} informational\n!\nbfd\n${spec.bfd.map((l) => ` ${l}\n`).join('')}!\n`])
    for (const [f, text] of files) {
      const path = join(this.dir, f)
      writeFileSync(path, text, { mode: 0o640 })
      chownSync(path, uid, gid)
    }
  }

  private common(daemon: string): string[] {
    return [
      '-u', 'frr', '-g', 'frr',
      '-f', join(this.dir, `${daemon}.conf`),
      '-i', join(this.dir, `${daemon}.pid`),
      '-z', join(this.dir, 'zserv.api'),
      '--vty_socket', this.dir,
      '-P', '0',
      '--log', `file:${join(this.dir, `${daemon}.log`)}`,
    ]
  }

  async start(): Promise<this> {
    this.zebra = await this.daemon('zebra', [], 'show version')
    // bfdd: its own control socket (--bfdctl), never the host's /var/run/frr/bfdd.sock
    if (this.spec.bfd) this.bfdd = await this.daemon('bfdd', ['--bfdctl', join(this.dir, 'bfdd.sock')], 'show bfd peers json')
    this.bgpd = await this.daemon('bgpd', [], 'show bgp neighbors json')
    return this
  }

  /** Spawn one FRR daemon and wait until its vty answers `ready`. */
  private async daemon(name: 'zebra' | 'bfdd' | 'bgpd', args: string[], ready: string): Promise<ChildProcess> {
    const child = this.lab.spawn(this.spec.ns, [`/usr/lib/frr/${name}`, ...this.common(name), ...args],
      { logFile: join(this.lab.dir, `${name}-${this.spec.ns}.out`) })
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}; see ${this.dir}/${name}.log`)
      return (await this.vtysh(name, [ready], true)).code === 0
    }, { timeoutMs: 15_000, intervalMs: 100, what: `FRR ${name} vty` })
    return child
  }

  get bgpdPid(): number | undefined { return this.bgpd?.pid }
  get bfddPid(): number | undefined { return this.bfdd?.pid }
  get zebraPid(): number | undefined { return this.zebra?.pid }

  async stop(): Promise<void> {
    if (this.bgpd) await this.lab.kill(this.bgpd, 'SIGTERM')
    if (this.bfdd) await this.lab.kill(this.bfdd, 'SIGTERM')
    if (this.zebra) await this.lab.kill(this.zebra, 'SIGTERM')
    this.bgpd = this.bfdd = this.zebra = undefined
  }

  /** SIGKILL bgpd only (router's BGP crashes; zebra keeps the FIB until it notices). */
  async crash(): Promise<void> {
    if (this.bgpd) await this.lab.kill(this.bgpd, 'SIGKILL')
    this.bgpd = undefined
  }

  async restart(): Promise<void> {
    await this.stop()
    await this.start()
  }

  /** vtysh against this instance's sockets; `daemon` picks one daemon (bgpd | zebra | bfdd). */
  async vtysh(daemon: 'bgpd' | 'zebra' | 'bfdd' | undefined, commands: string[], allowFail = false): Promise<ExecResult> {
    const args = ['vtysh', '--vty_socket', this.dir, ...(daemon ? ['-d', daemon] : [])]
    for (const c of commands) args.push('-c', c)
    const r = await this.lab.exec(this.spec.ns, args, { allowFail: true, timeoutMs: 15_000 })
    if (!allowFail && r.code !== 0) throw new Error(`vtysh ${commands.join('; ')} failed: ${r.stderr}${r.stdout}`)
    return r
  }

  /** Run configuration lines (`configure terminal` is prepended) against bgpd. */
  async configure(lines: string[]): Promise<void> {
    const r = await this.vtysh('bgpd', ['configure terminal', ...lines])
    if (/% |Unknown command/.test(r.stdout)) throw new Error(`vtysh configure failed: ${r.stdout}`)
  }

  async json<T = unknown>(command: string): Promise<T> {
    const r = await this.vtysh('bgpd', [command])
    return JSON.parse(r.stdout) as T
  }

  async neighbors(): Promise<PeerStatus[]> {
    const j = await this.json<Record<string, { bgpState?: string; lastResetDueTo?: string }>>('show bgp neighbors json')
    return Object.entries(j).map(([address, n]) => ({
      name: address, address, state: frrState(n.bgpState), info: n.lastResetDueTo,
    }))
  }

  async waitEstablished(addresses?: string[], timeoutMs = 30_000): Promise<void> {
    const want = addresses ?? this.spec.peers.map(p => p.address)
    await waitFor(async () => {
      const ns = await this.neighbors()
      return want.every(a => ns.find(n => n.address === a)?.state === 'established')
    }, { timeoutMs, what: `FRR sessions ${want.join(', ')} Established` })
  }

  /** Every path in the BGP table of `family`, with attributes (per-prefix detail JSON). */
  async routes(family: Family): Promise<BgpRoute[]> {
    const table = await this.json<{ routes?: Record<string, unknown[]> }>(`show bgp ${family} unicast json`)
    const out: BgpRoute[] = []
    for (const prefix of Object.keys(table.routes ?? {})) {
      const d = await this.json<FrrPrefixDetail>(`show bgp ${family} unicast ${prefix} json`)
      out.push(...parseFrrPrefixDetail(prefix, d))
    }
    return out
  }

  fib(family: 4 | 6): Promise<FibRoute[]> {
    return kernelRoutes(this.spec.ns, { family, protocol: 'bgp' })
  }
}

function frrState(s: string | undefined): SessionState {
  const k = (s ?? '').toLowerCase()
  return (['idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'] as const)
    .find(x => x === k) ?? 'unknown'
}

export interface FrrPrefixDetail {
  prefix?: string
  paths?: FrrPath[]
}

interface FrrPath {
  aspath?: { string?: string; segments?: { type: string; list: number[] }[] }
  origin?: string
  med?: number
  metric?: number
  localpref?: number
  community?: { string?: string }
  largeCommunity?: { string?: string }
  extendedCommunity?: { string?: string }
  nexthops?: { ip?: string; scope?: string; afi?: string; used?: boolean }[]
  peer?: { peerId?: string; routerId?: string }
  bestpath?: { overall?: boolean }
  multipath?: boolean
  addpathRxId?: number
}

export function parseFrrPrefixDetail(prefix: string, d: FrrPrefixDetail): BgpRoute[] {
  return (d.paths ?? []).map(p => {
    const r: BgpRoute = {
      prefix,
      nextHops: (p.nexthops ?? []).filter(n => n.scope !== 'link-local' || (p.nexthops ?? []).length === 1)
        .map(n => n.ip).filter((x): x is string => !!x),
      bgpNextHop: (p.nexthops ?? []).map(n => n.ip).filter((x): x is string => !!x),
      asPath: (p.aspath?.string ?? '').match(/\d+/g)?.map(Number) ?? [],
      communities: p.community?.string ? p.community.string.split(/\s+/) : [],
      largeCommunities: p.largeCommunity?.string ? p.largeCommunity.string.split(/\s+/) : [],
      best: p.bestpath?.overall === true,
      raw: p,
    }
    if (p.extendedCommunity?.string) r.extendedCommunities = p.extendedCommunity.string.split(/\s+/)
    if (p.origin) r.origin = p.origin.toLowerCase()
    const med = p.med ?? p.metric
    if (med !== undefined) r.med = med
    if (p.localpref !== undefined) r.localPref = p.localpref
    if (p.peer?.peerId) r.from = p.peer.peerId
    if (p.addpathRxId !== undefined) r.pathId = p.addpathRxId
    return r
  })
}
