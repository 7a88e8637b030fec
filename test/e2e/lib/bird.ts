// BIRD 2 as the router under test, inside a lab namespace, with private config/socket/pid/log.

import type { ChildProcess } from 'node:child_process'
import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Lab, waitFor, type ExecResult } from './netns.ts'
import { kernelRoutes, type FibRoute } from './fib.ts'
import {
  type BgpRoute, type PeerSpec, type PeerStatus, type RouterSpec, type SessionState, familyOf, peerName,
} from './router.ts'

export interface BirdSpec extends RouterSpec {
  /** extra lines inside each `protocol kernel` block */
  kernelExtra?: string[]
}

/** A `protocol bfd` line for BirdSpec.extra: sessions on `iface` at `ms` x `multiplier` (peers ask with `bfd on;`). */
export function birdBfdProtocol(iface = 'eth0', ms = 100, multiplier = 3): string {
  return `protocol bfd bfd1 { interface "${iface}" { min rx interval ${ms} ms; min tx interval ${ms} ms; multiplier ${multiplier}; }; }`
}

export function renderBirdConfig(spec: BirdSpec, logFile: string): string {
  const L: string[] = []
  L.push(`log "${logFile}" all;`)
  L.push(`router id ${spec.routerId};`)
  L.push('timeformat protocol iso long;')
  L.push('timeformat route iso long;')
  L.push(...(spec.extra ?? []))
  L.push('protocol device { scan time 10; }')
  for (const fam of ['ipv4', 'ipv6'] as const) {
    L.push(`protocol kernel kernel_${fam} {`)
    L.push(`  ${fam} { import none; export all; };`)
    L.push('  merge paths on;')
    L.push(...(spec.kernelExtra ?? []).map(x => `  ${x}`))
    L.push('}')
  }
  spec.peers.forEach((p, i) => L.push(...renderBirdPeer(spec, p, i)))
  return L.join('\n') + '\n'
}

function renderBirdPeer(spec: RouterSpec, p: PeerSpec, i: number): string[] {
  const L: string[] = []
  const ibgp = p.as === spec.as
  L.push(`protocol bgp ${peerName(p, i)} {`)
  L.push(p.localAddress ? `  local ${p.localAddress} as ${spec.as};` : `  local as ${spec.as};`)
  L.push(`  neighbor ${p.address}${p.iface && p.address.startsWith('fe80') ? `%${p.iface}` : ''} as ${p.as};`)
  if (p.iface) L.push(`  interface "${p.iface}";`)
  if (p.passive ?? true) L.push('  passive on;')
  if (p.password) L.push(`  password "${p.password}";`)
  L.push(`  hold time ${p.holdTime ?? 90};`)
  if (p.holdTime !== undefined && p.holdTime < 9) L.push(`  keepalive time ${Math.max(1, Math.floor(p.holdTime / 3))};`)
  L.push('  connect delay time 1;')
  L.push('  connect retry time 2;')
  L.push('  error wait time 1,5;')
  if (p.gracefulRestart !== undefined) L.push(`  graceful restart ${p.gracefulRestart ? 'on' : 'off'};`)
  if (p.extendedMessages) L.push('  enable extended messages on;')
  if (ibgp) L.push('  direct;')
  L.push(...(p.extra ?? []).map(x => `  ${x}`))
  const addPaths = (p.addPathRx ?? true) && p.addPathTx ? 'on' : p.addPathTx ? 'tx' : (p.addPathRx ?? true) ? 'rx' : 'off'
  for (const fam of p.families ?? [familyOf(p.address)]) {
    L.push(`  ${fam} {`)
    L.push(p.importFilter ? `    import filter { ${p.importFilter} };` : '    import all;')
    L.push(p.exportFilter ? `    export filter { ${p.exportFilter} };` : '    export all;')
    L.push(`    add paths ${addPaths};`)
    L.push(...(p.familyExtra ?? []).map(x => `    ${x}`))
    if (ibgp) L.push('    gateway direct;')
    L.push('  };')
  }
  L.push('}')
  return L
}

/** BIRD 2 running in a lab namespace. */
export class Bird {
  readonly dir: string
  readonly socket: string
  readonly configFile: string
  readonly logFile: string
  private child: ChildProcess | undefined

  constructor(readonly lab: Lab, readonly spec: BirdSpec, name = 'bird') {
    this.dir = join(lab.dir, `${name}-${spec.ns}`)
    mkdirSync(this.dir, { recursive: true })
    this.socket = join(this.dir, 'bird.ctl')
    this.configFile = join(this.dir, 'bird.conf')
    this.logFile = join(this.dir, 'bird.log')
    this.writeConfig()
  }

  writeConfig(spec: BirdSpec = this.spec): void {
    writeFileSync(this.configFile, renderBirdConfig(spec, this.logFile))
  }

  get pid(): number | undefined { return this.child?.pid }

  async start(): Promise<this> {
    this.child = this.lab.spawn(this.spec.ns,
      ['bird', '-f', '-c', this.configFile, '-s', this.socket, '-P', join(this.dir, 'bird.pid')],
      { logFile: join(this.dir, 'stdout.log') })
    const child = this.child
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`bird exited with ${child.exitCode}; see ${this.logFile}`)
      return (await this.birdc(['show', 'status'], true)).code === 0
    }, { timeoutMs: 10_000, intervalMs: 50, what: 'BIRD control socket' })
    return this
  }

  async stop(): Promise<void> {
    if (this.child) await this.lab.kill(this.child, 'SIGTERM')
    this.child = undefined
  }

  /** Kill with SIGKILL (router crash) — the kernel routes stay, BGP sessions drop. */
  async crash(): Promise<void> {
    if (this.child) await this.lab.kill(this.child, 'SIGKILL')
    this.child = undefined
  }

  async restart(): Promise<void> {
    await this.stop()
    await this.start()
  }

  /** Run birdc (restricted to this instance's socket). */
  async birdc(args: string[], allowFail = false): Promise<ExecResult> {
    const r = await this.lab.exec(this.spec.ns, ['birdc', '-s', this.socket, ...args], { allowFail: true })
    if (!allowFail && (r.code !== 0 || /^\d{4}-?\s*(Syntax error|Unknown)/m.test(r.stdout))) {
      throw new Error(`birdc ${args.join(' ')} failed: ${r.stdout}${r.stderr}`)
    }
    return r
  }

  async protocols(): Promise<PeerStatus[]> {
    return parseBirdProtocols((await this.birdc(['show', 'protocols'])).stdout)
  }

  async peerState(name: string): Promise<SessionState> {
    return (await this.protocols()).find(p => p.name === name)?.state ?? 'unknown'
  }

  /** Wait for every BGP protocol (or the named ones) to be Established. */
  async waitEstablished(names?: string[], timeoutMs = 30_000): Promise<void> {
    const want = names ?? this.spec.peers.map((p, i) => peerName(p, i))
    await waitFor(async () => {
      const ps = await this.protocols()
      return want.every(n => ps.find(p => p.name === n)?.state === 'established')
    }, { timeoutMs, what: `BIRD sessions ${want.join(', ')} Established` })
  }

  /** `show route all [for/table ...]` parsed. */
  async routes(args: string[] = []): Promise<BgpRoute[]> {
    const r = await this.birdc(['show', 'route', 'all', ...args])
    return parseBirdRoutes(r.stdout)
  }

  fib(family: 4 | 6): Promise<FibRoute[]> {
    return kernelRoutes(this.spec.ns, { family, protocol: 'bird' })
  }
}

const BGP_STATES: Record<string, SessionState> = {
  idle: 'idle', connect: 'connect', active: 'active', opensent: 'opensent', openconfirm: 'openconfirm',
  established: 'established', passive: 'active',
}

/** Parse `birdc show protocols`. BGP session state comes from the Info column. */
export function parseBirdProtocols(text: string): PeerStatus[] {
  const out: PeerStatus[] = []
  for (const line of text.split('\n')) {
    if (!line.trim() || /^BIRD |^Name\s/.test(line)) continue
    const cols = line.trim().split(/\s+/)
    if (cols.length < 4) continue
    const [name, proto, , state] = cols as [string, string, string, string]
    const info = cols.slice(4).join(' ')
    let s: SessionState
    if (proto === 'BGP') {
      const word = cols.slice(4).map(c => c.toLowerCase()).find(c => c in BGP_STATES)
      s = state === 'down' ? 'down' : word ? BGP_STATES[word]! : 'unknown'
    } else s = state === 'up' ? 'established' : state === 'down' ? 'down' : 'unknown'
    out.push({ name, state: s, info })
  }
  return out
}

const ROUTE_LINE =
  /^(\S+)?\s+(unicast|unreachable|blackhole|prohibit)\s+\[(\S+)\s+([^\]]*?)(?:\s+from\s+(\S+))?\]\s*(\*)?\s*\((\d+)[^)]*\)\s*(?:\[(.*)\])?\s*$/

/** Parse `birdc show route all` into one object per path. */
export function parseBirdRoutes(text: string): BgpRoute[] {
  const out: BgpRoute[] = []
  let prefix = ''
  let cur: BgpRoute | undefined
  const lines: string[] = []
  const flush = (): void => {
    if (cur) { cur.raw = lines.join('\n'); out.push(cur) }
    cur = undefined
    lines.length = 0
  }
  for (const line of text.split('\n')) {
    if (/^BIRD |^Table |^\s*$/.test(line)) { if (/^Table /.test(line)) flush(); continue }
    const m = ROUTE_LINE.exec(line)
    if (m) {
      flush()
      if (m[1]) prefix = m[1]
      cur = {
        prefix, nextHops: [], asPath: [], communities: [], largeCommunities: [],
        best: m[6] === '*',
      }
      if (m[5]) cur.from = m[5]
      lines.push(line)
      continue
    }
    if (!cur) continue
    lines.push(line)
    const t = line.trim()
    let mm: RegExpExecArray | null
    if ((mm = /^via (\S+)/.exec(t))) cur.nextHops.push(mm[1]!)
    else if ((mm = /^BGP\.origin: (\S+)/.exec(t))) cur.origin = mm[1]!.toLowerCase()
    else if ((mm = /^BGP\.as_path:(.*)$/.exec(t))) cur.asPath = (mm[1]!.match(/\d+/g) ?? []).map(Number)
    else if ((mm = /^BGP\.next_hop: (.*)$/.exec(t))) cur.bgpNextHop = mm[1]!.trim().split(/\s+/)
    else if ((mm = /^BGP\.local_pref: (\d+)/.exec(t))) cur.localPref = Number(mm[1])
    else if ((mm = /^BGP\.med: (\d+)/.exec(t))) cur.med = Number(mm[1])
    else if ((mm = /^BGP\.community: (.*)$/.exec(t))) {
      cur.communities = [...mm[1]!.matchAll(/\((\d+),\s*(\d+)\)/g)].map(x => `${x[1]}:${x[2]}`)
    } else if ((mm = /^BGP\.large_community: (.*)$/.exec(t))) {
      cur.largeCommunities = [...mm[1]!.matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map(x => `${x[1]}:${x[2]}:${x[3]}`)
    } else if ((mm = /^BGP\.ext_community: (.*)$/.exec(t))) {
      cur.extendedCommunities = [...mm[1]!.matchAll(/\(([^)]*)\)/g)].map(x => x[1]!.replace(/\s+/g, ''))
    }
  }
  flush()
  return out
}
