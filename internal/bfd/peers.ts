// A set of BFD sessions keyed by peer address, kept equal to a wanted set (`sync`): the
// controller's next hops with a `bfd` check, the agent's `agent.liveness.peers`. The plan is
// plan.ts's (pure); this file only applies it to a BfdService, one operation at a time (a
// session being opened is never removed or added twice), and hands every state change on.
import type { Logger } from 'pino'
import type { BfdPeerStatus } from '../admin/status.ts'
import type { Clock } from '../base/index.ts'
import type { BfdState } from './packet.ts'
import type { BfdSessionStatus, BfdTimers, StateChange } from './session.ts'
import type { BfdPeerOptions } from './udp.ts'
import { bfdStatusView, planSessions, wireTimers, type BfdTimersMs } from './plan.ts'

/** What BfdPeers needs of a BfdService (tests pass a fake) */
export interface BfdPort {
  add(key: string, opts: BfdPeerOptions): Promise<void>
  remove(key: string): void
  configure(key: string, timers: BfdTimers): boolean
  status(key: string): BfdSessionStatus | undefined
}

export interface BfdPeersDeps {
  /** absent: BFD is unavailable (every session reports `unavailable`) */
  bfd: BfdPort | undefined
  log: Logger
  clock: Pick<Clock, 'now'>
  /** the BfdService key of an address's session (one service may hold other sessions too) */
  keyPrefix: string
  /** our source address towards a peer (else the kernel's choice) */
  localAddress?: (address: string) => string | undefined
  /** every state change of the session with `address` */
  onState: (address: string, change: StateChange) => void
  /** the reason shown while `bfd` is absent */
  unavailable?: string
}

interface Peer {
  timers: BfdTimersMs
  /** the session could not start */
  error?: string
}

export class BfdPeers {
  private peers = new Map<string, Peer>()
  private queue: Promise<void> = Promise.resolve()

  constructor(private readonly deps: BfdPeersDeps) {}

  /** Start, retime and stop sessions so that exactly `wanted` run. */
  sync(wanted: ReadonlyMap<string, BfdTimersMs>): void {
    const running = new Map([...this.peers].map(([a, p]) => [a, p.timers]))
    const plan = planSessions(running, wanted)
    for (const a of plan.remove) {
      if (!wanted.has(a)) this.peers.delete(a) // else replaced below (a new port or key)
      this.then(() => this.deps.bfd?.remove(this.key(a)))
    }
    for (const [a, t] of plan.retime) {
      this.peers.get(a)!.timers = t
      this.then(() => { this.deps.bfd?.configure(this.key(a), wireTimers(t)) })
    }
    for (const [a, t] of plan.add) {
      const p: Peer = { timers: t }
      this.peers.set(a, p)
      this.then(() => this.start(a, p))
    }
  }

  /** The session's state; undefined without a session for `address`. */
  state(address: string): BfdState | undefined {
    if (!this.peers.has(address)) return undefined
    return this.deps.bfd?.status(this.key(address))?.state ?? 'Down'
  }

  status(address: string): BfdPeerStatus | undefined {
    const p = this.peers.get(address)
    if (!p) return undefined
    const error = this.deps.bfd ? p.error : this.deps.unavailable ?? 'BFD is not available'
    return bfdStatusView(this.deps.bfd?.status(this.key(address)), this.deps.clock.now(), error)
  }

  addresses(): string[] {
    return [...this.peers.keys()]
  }

  /** Stop every session (each sends AdminDown) once what is queued is done. */
  async stop(): Promise<void> {
    this.sync(new Map())
    await this.queue
  }

  /** resolves once every queued operation ran (tests) */
  settled(): Promise<void> {
    return this.queue
  }

  private key(address: string): string {
    return `${this.deps.keyPrefix}${address}`
  }

  private then(op: () => unknown): void {
    this.queue = this.queue.then(async () => { await op() }).catch((e: Error) => this.deps.log.error({ error: e.message }, 'BFD session change failed'))
  }

  private async start(address: string, p: Peer): Promise<void> {
    const bfd = this.deps.bfd
    if (!bfd || this.peers.get(address) !== p) return
    try {
      await bfd.add(this.key(address), {
        address, localAddress: this.deps.localAddress?.(address), ...wireTimers(p.timers), ...(p.timers.port ? { port: p.timers.port } : {}), ...(p.timers.auth ? { auth: p.timers.auth } : {}),
        onState: (c) => { if (this.peers.get(address) === p) this.deps.onState(address, c) },
      })
    } catch (e) {
      p.error = (e as Error).message
      this.deps.log.error({ peer: address, error: p.error }, 'BFD could not start with this peer')
    }
  }
}
