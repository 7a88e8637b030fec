// A hostile test peer against a running dist/porter on loopback (issue 11), shared by
// hostile-peer.test.ts and hostile-peer-timing.test.ts: raw message builders, a test peer that
// reads Porter's messages, Porter started with its JSON log lines and RSS watched, and a
// well-behaved session that must stay Established while the hostile ones run.
import type { Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { builtPorter } from '../../lib/dist.ts'
import { waitFor } from '../../lib/wait.ts'
import { adminRequest, type ControllerStatus, type DaemonStatus, type PeerStatus } from '../../../internal/admin/index.ts'
import { decode, defaultContext, encode, makeCapabilities, splitMessages, type BgpMessage, type FamilyKey } from '../../../internal/bgp/wire/index.ts'

export const PORTER_AS = 65000
export const PEER_AS = 65001

const ctx = defaultContext()
export const msg = (m: BgpMessage): Uint8Array => encode(m, ctx)

export interface OpenFields { version: number; myAs: number; holdTime: number; routerId: string; families: FamilyKey[] }
export const OPEN = (o: Partial<OpenFields> = {}): Uint8Array => msg({
  type: 'open', version: o.version ?? 4, myAs: o.myAs ?? PEER_AS, holdTime: o.holdTime ?? 90, routerId: o.routerId ?? '192.0.2.77',
  capabilities: makeCapabilities({ asn: o.myAs ?? PEER_AS, families: o.families ?? ['ipv4-unicast'] }),
})
export const KEEPALIVE = msg({ type: 'keepalive' })

/** a raw message: marker, length, type, body */
export const raw = (type: number, body: number[], opts: { marker?: number; length?: number } = {}): Uint8Array => {
  const len = opts.length ?? 19 + body.length
  return Uint8Array.from([...new Array<number>(16).fill(opts.marker ?? 0xff), (len >> 8) & 255, len & 255, type, ...body])
}
/** an OPEN whose capabilities optional parameter holds `caps` (raw code/length/value bytes) */
export const rawOpen = (caps: number[], o: { holdTime?: number; routerId?: number[] } = {}): Uint8Array => {
  const hold = o.holdTime ?? 90
  const params = caps.length ? [2, caps.length, ...caps] : []
  return raw(1, [4, PEER_AS >> 8, PEER_AS & 255, hold >> 8, hold & 255, ...(o.routerId ?? [192, 0, 2, 77]), params.length, ...params])
}
/** capability bytes: multiprotocol, 4-octet AS, ADD-PATH */
export const CAP = {
  mp: (afi: number, safi = 1) => [1, 4, 0, afi, 0, safi],
  as4: (asn = PEER_AS) => [65, 4, asn >>> 24, (asn >> 16) & 255, (asn >> 8) & 255, asn & 255],
  addPath: (afi: number, value: number) => [69, 4, 0, afi, 1, value],
}
/** an UPDATE body from path attributes (raw bytes) and IPv4 NLRI (raw bytes) */
export const update = (attrs: number[], nlri: number[] = []): Uint8Array =>
  raw(2, [0, 0, (attrs.length >> 8) & 255, attrs.length & 255, ...attrs, ...nlri])
export const ORIGIN = [0x40, 1, 1, 0]
export const AS_PATH = [0x40, 2, 6, 2, 1, 0, 0, PEER_AS >> 8, PEER_AS & 255] // AS4 session: 4-octet ASN
export const NEXT_HOP = [0x40, 3, 4, 127, 0, 0, 1]
export const BASE = [...ORIGIN, ...AS_PATH, ...NEXT_HOP]
/** IPv4 NLRI 198.51.100.n/32 */
export const host4 = (n: number): number[] => [32, 198, 51, 100, n]
/** MP_REACH_NLRI for IPv6 unicast, next hop 2001:db8::1 (or `nh` raw), one NLRI given raw */
export const mpReach6 = (nlri: number[], nh: number[] = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1]): number[] => {
  const v = [0, 2, 1, nh.length, ...nh, 0, ...nlri]
  return [0x80, 14, v.length, ...v]
}
/** IPv6 NLRI 2001:db8::n/128 */
export const host6 = (n: number): number[] => [128, 0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), n]

/** A TCP connection to Porter from `from` that reads Porter's messages. */
export class TestPeer {
  readonly sock: net.Socket
  /** the type of every message Porter sent, in order */
  readonly received: number[] = []
  notification: { code: number; subcode: number; data: Uint8Array } | undefined
  closed = false
  readonly connected: Promise<void>
  private buf: Buffer = Buffer.alloc(0)

  constructor(port: number, from: string) {
    this.sock = net.connect({ host: '127.0.0.1', port, localAddress: from })
    this.connected = new Promise((resolve) => this.sock.once('connect', () => resolve()))
    this.sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d])
      const { messages, rest } = splitMessages(this.buf, 65535)
      for (const m of messages) {
        this.received.push(m[18]!)
        if (m[18] === 3) {
          const n = decode(m, ctx)
          if (n.type === 'notification') this.notification = { code: n.code, subcode: n.subcode, data: n.data }
        }
      }
      this.buf = Buffer.from(rest)
    })
    this.sock.on('close', () => { this.closed = true })
    this.sock.on('error', () => { this.closed = true })
  }

  write(...chunks: Uint8Array[]): void {
    for (const c of chunks) this.sock.write(c)
  }

  /** resolves true when Porter closed the connection within `ms` */
  async closedWithin(ms: number): Promise<boolean> {
    const end = Date.now() + ms
    while (!this.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
    return this.closed
  }

  destroy(): void {
    this.sock.destroy()
  }
}

export interface Outcome { notification?: [number, number]; data?: Uint8Array; closed: boolean }

/** Connect from `from`, write each chunk in order, and read until Porter closes or `ms` pass. */
export async function exchange(port: number, chunks: Uint8Array[], opts: { from?: string; ms?: number } = {}): Promise<Outcome> {
  const p = new TestPeer(port, opts.from ?? '127.0.0.1')
  await p.connected.catch(() => undefined)
  p.write(...chunks)
  const closed = await p.closedWithin(opts.ms ?? 5000)
  p.destroy()
  const n = p.notification
  return n ? { notification: [n.code, n.subcode], data: n.data, closed } : { closed }
}

/** a free TCP port on 127.0.0.1 for Porter to listen on */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const a = s.address() as net.AddressInfo; s.close(() => resolve(a.port)) })
  })
}

export type Status = DaemonStatus & ControllerStatus

export interface LogLine { level: string; msg: string; peer?: string; [k: string]: unknown }

/** A running dist/porter: its JSON log lines, its RSS, its status. */
export class HostilePorter {
  readonly child: ChildProcess
  readonly logs: LogLine[] = []
  /** VmRSS in KiB: after start-up (set by `baseline()`) and the highest seen */
  rssStart = 0
  rssMax = 0
  private sampler: NodeJS.Timeout

  private constructor(binary: string, config: string, readonly socket: string) {
    this.child = spawn(binary, ['controller', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] })
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      try { this.logs.push(JSON.parse(l) as LogLine) } catch { this.logs.push({ level: 'text', msg: l }) }
    })
    this.sampler = setInterval(() => { this.rssMax = Math.max(this.rssMax, this.rss()) }, 100)
    this.sampler.unref()
  }

  /**
   * Start dist/porter (copied into `dir`) listening on 127.0.0.1:`port` with `peers` (YAML flow
   * maps without braces) and one VIP, and wait for its admin socket.
   */
  static async start(dir: string, port: number, peers: string[]): Promise<HostilePorter> {
    const socket = join(dir, 'porter.sock')
    const config = join(dir, 'porter.yaml')
    writeFileSync(config, `admin: { socket: ${socket} }
bgp:
  localAs: ${PORTER_AS}
  routerId: 192.0.2.1
  listenAddress: 127.0.0.1
  listenPort: ${port}
  peers:
${peers.map((x) => `    - { ${x} }`).join('\n')}
vips:
  - { address: 203.0.113.10, nextHops: [127.0.0.1] }
`)
    const p = new HostilePorter(builtPorter(dir), config, socket)
    await waitFor(() => p.status().catch(() => undefined), { timeoutMs: 30_000, what: 'porter admin socket' })
    return p
  }

  status(): Promise<Status> {
    return adminRequest(this.socket, { cmd: 'status' }, 5000) as Promise<Status>
  }

  async peer(name: string): Promise<PeerStatus> {
    const p = (await this.status()).peers.find((x) => x.name === name)
    if (!p) throw new Error(`no peer "${name}" in porter status`)
    return p
  }

  /** the status of peer `name` once `ok` holds for it (polled until `timeoutMs`) */
  async peerWhen(name: string, ok: (s: PeerStatus) => boolean, what: string, timeoutMs = 10_000): Promise<PeerStatus> {
    return waitFor(async () => { const s = await this.peer(name); return ok(s) ? s : undefined }, { timeoutMs, what })
  }

  /** VmRSS of the process now, KiB (0 once it is gone) */
  rss(): number {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'))?.[1] ?? 0)
    } catch {
      return 0
    }
  }

  /** take the RSS after start-up as the reference */
  baseline(): void {
    this.rssStart = this.rss()
    this.rssMax = this.rssStart
  }

  /** the bound the RSS must stay under: twice its start-up value plus 50 MiB (KiB) */
  get rssBound(): number {
    return 2 * this.rssStart + 50 * 1024
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** a log line of `peer` from index `since` on that matches `re` (its JSON text), waiting up to 3 s */
  async logLine(peer: string, since: number, re: RegExp): Promise<LogLine | undefined> {
    const find = () => this.logs.slice(since).find((l) => l.peer === peer && re.test(JSON.stringify(l)))
    return waitFor(find, { timeoutMs: 3000, intervalMs: 50 }).catch(() => undefined)
  }

  kill(): void {
    clearInterval(this.sampler)
    this.child.kill('SIGKILL')
  }
}

/** the YAML of the well-behaved peer GoodPeer.start() connects as */
export const GOOD_PEER = `name: good, address: 127.0.0.3, peerAs: ${PEER_AS}, passive: true`

/**
 * A well-behaved configured peer (GOOD_PEER): OPEN, KEEPALIVE, then a KEEPALIVE every second.
 * `dropped` is set when Porter closes it or sends a NOTIFICATION.
 */
export class GoodPeer {
  readonly peer: TestPeer
  private readonly timer: NodeJS.Timeout

  private constructor(port: number) {
    this.peer = new TestPeer(port, '127.0.0.3')
    void this.peer.connected.then(() => this.peer.write(OPEN(), KEEPALIVE))
    this.timer = setInterval(() => { if (!this.peer.closed) this.peer.write(KEEPALIVE) }, 1000)
  }

  /** Connect, wait until Porter has the session Established, then take Porter's RSS baseline. */
  static async start(t: Test, p: HostilePorter, port: number): Promise<GoodPeer> {
    const g = new GoodPeer(port)
    t.teardown(() => g.stop())
    await p.peerWhen('good', (h) => h.state === 'Established', 'the well-behaved session Established', 15_000)
    p.baseline()
    t.ok(p.rssStart > 0, `porter RSS after start-up: ${(p.rssStart / 1024).toFixed(1)} MiB`)
    return g
  }

  /** All along: this session never dropped, the process never exited, its RSS stayed bounded. */
  async survived(t: Test, p: HostilePorter): Promise<void> {
    const g = await p.peer('good')
    t.equal(g.state, 'Established', 'the well-behaved session is still Established')
    t.equal(g.flaps, 0, 'the well-behaved session never went down')
    t.notOk(this.dropped, 'the well-behaved peer never got a NOTIFICATION or a close')
    t.ok(p.running, 'porter never exited')
    t.ok(p.rssMax < p.rssBound, `RSS at most ${(p.rssMax / 1024).toFixed(1)} MiB, under 2 x ${(p.rssStart / 1024).toFixed(1)} + 50 MiB`)
  }

  get dropped(): boolean {
    return this.peer.closed || this.peer.notification !== undefined
  }

  stop(): void {
    clearInterval(this.timer)
    this.peer.destroy()
  }
}
