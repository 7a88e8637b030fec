// Passive BFD sessions: the agent's `agent.liveness.peers` CIDRs (Kubernetes: controller replicas
// on nodes whose addresses are not known in advance). A first packet from a source inside one of
// the prefixes (with authentication: one signed with the key) starts a session with it
// (BfdService.setAcceptor); every other unknown source is dropped as before. A session that is
// not Up for `idleMs` (a replica that moved away, a stray packet) is removed, so nothing keeps
// sending to a vanished address.
import type { Logger } from 'pino'
import type { BfdPeerStatus } from '../admin/status.ts'
import type { Clock } from '../base/index.ts'
import { AFI_IPV4, networkOf, prefixContains, type Prefix } from '../ip/index.ts'
import { bfdStatusView, sameTimers, wireTimers, type BfdTimersMs } from './plan.ts'
import type { BfdPort } from './peers.ts'
import type { BfdAcceptor } from './udp.ts'
import { checkReceived, sameAuth } from './auth.ts'

export interface PassivePeersDeps {
  bfd: BfdPort & { setAcceptor(a: BfdAcceptor | undefined): void; listen(family: 4 | 6): Promise<void> }
  log: Logger
  clock: Clock
  /** the BfdService key prefix of accepted sessions */
  keyPrefix: string
  /** a session not Up this long is removed (default 60 s) */
  idleMs?: number
}

/** Whether `source` is inside one of `prefixes` (pure). */
export function accepts(prefixes: readonly Prefix[], source: string): boolean {
  return prefixes.some((p) => prefixContains(p, source))
}

export class PassivePeers {
  private prefixes: Prefix[] = []
  private timers: BfdTimersMs | undefined
  /** address -> the idle timer (running while the session is not Up) */
  private sessions = new Map<string, { idle?: unknown }>()

  constructor(private readonly deps: PassivePeersDeps) {}

  /**
   * Accept sessions from `cidrs` with `timers` (and its authentication); sessions from outside
   * them end, the others get the new timers; another key ends them all (the next packet that
   * verifies starts a new one).
   */
  set(cidrs: readonly string[], timers: BfdTimersMs): void {
    this.prefixes = cidrs.map((c) => networkOf(c)).filter((p): p is Prefix => p !== null)
    const retime = this.timers && !sameTimers(this.timers, timers)
    const rekey = this.timers && !sameAuth(this.timers.auth, timers.auth)
    this.timers = { ...timers }
    for (const a of [...this.sessions.keys()]) {
      if (!accepts(this.prefixes, a)) this.end(a, 'no longer inside agent.liveness.peers')
      else if (rekey) this.end(a, 'another authentication')
      else if (retime) this.deps.bfd.configure(this.key(a), wireTimers(timers))
    }
    this.deps.bfd.setAcceptor(this.prefixes.length ? (src, packet) => this.acceptor(src, packet) : undefined)
    // the first packets come to port 3784 before any session exists: listen on the prefixes' families
    for (const fam of new Set(this.prefixes.map((p) => (p.afi === AFI_IPV4 ? 4 as const : 6 as const)))) {
      this.deps.bfd.listen(fam).catch((e: Error) => this.deps.log.error({ error: e.message }, 'BFD cannot listen for agent.liveness peers'))
    }
  }

  status(): (BfdPeerStatus & { address: string; accepted: true })[] {
    return [...this.sessions.keys()].map((address) => ({
      address, accepted: true as const, ...bfdStatusView(this.deps.bfd.status(this.key(address)), this.deps.clock.now()),
    }))
  }

  stop(): void {
    this.deps.bfd.setAcceptor(undefined)
    for (const a of [...this.sessions.keys()]) this.end(a)
  }

  private key(address: string): string {
    return `${this.deps.keyPrefix}${address}`
  }

  private acceptor(src: string, packet: Uint8Array): ReturnType<BfdAcceptor> {
    if (!this.timers || !accepts(this.prefixes, src) || this.sessions.has(src)) return undefined
    // an unauthenticated or wrongly keyed first packet starts nothing (nor an answer)
    if (!checkReceived(packet, this.timers.auth, { known: false, seq: 0 }).ok) return undefined
    const entry: { idle?: unknown } = {}
    this.sessions.set(src, entry)
    this.idle(src, entry)
    this.deps.log.info({ peer: src }, 'BFD session accepted (agent.liveness)')
    return {
      key: this.key(src), ...wireTimers(this.timers), ...(this.timers.auth ? { auth: this.timers.auth } : {}),
      onState: (c) => {
        if (this.sessions.get(src) !== entry) return
        if (c.to === 'Up') { this.deps.clock.clearTimeout(entry.idle); entry.idle = undefined } else if (entry.idle === undefined) this.idle(src, entry)
      },
    }
  }

  private idle(src: string, entry: { idle?: unknown }): void {
    entry.idle = this.deps.clock.setTimeout(() => {
      if (this.sessions.get(src) === entry) this.end(src, `not Up for ${(this.deps.idleMs ?? 60_000) / 1000} s`)
    }, this.deps.idleMs ?? 60_000)
  }

  private end(address: string, why?: string): void {
    const e = this.sessions.get(address)
    if (!e) return
    this.deps.clock.clearTimeout(e.idle)
    this.sessions.delete(address)
    this.deps.bfd.remove(this.key(address))
    if (why) this.deps.log.info({ peer: address, reason: why }, 'accepted BFD session removed')
  }
}
