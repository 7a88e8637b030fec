// Two pure BGP session cores (internal/bgp/session/core.ts) wired back to back under the
// ManualClock: what one writes, the other receives; a `connect` of one is an incoming connection
// of the other; timers run on the clock. Events go through one FIFO queue, so a run is
// deterministic. Every wire message, connection and state change is written to a trace that
// step tables compare:
//
//   A connect out1 -> B in1     A dialled; B accepted it as in1
//   A>B OPEN (out1)             A wrote an OPEN on its connection out1; also KEEPALIVE,
//                               NOTIFICATION 6/2, ROUTE-REFRESH, EOR ipv4-unicast, and
//   A>B UPDATE +203.0.113.10/32 via 192.0.2.11 -198.51.100.0/24 (out1)
//   A closes out1               A closed its end (the other side then sees the connection close)
//   A Established               A's session state changed
import { fsmConfig } from '../../internal/bgp/fsm/index.ts'
import { PeerRoutes, SessionCore, type Advertisement, type ConnId, type SessionEffect, type SessionInput } from '../../internal/bgp/session/index.ts'
import {
  decode, defaultContext, encode, endOfRibFamily, makeCapabilities, splitMessages,
  type BgpMessage, type CodecContext, type FamilyKey, type Nlri,
} from '../../internal/bgp/wire/index.ts'
import { ManualClock } from './clock.ts'

export interface SideOptions {
  localAs: number
  routerId: string
  passive?: boolean
  /** seconds; default 9 */
  holdTime?: number
  /** seconds; default 5 */
  connectRetry?: number
  maxPrefixes?: number
  gracefulStop?: boolean
  families?: FamilyKey[]
  routes?: Advertisement[]
}

type Name = 'A' | 'B'

export class Side {
  readonly core: SessionCore
  readonly routes: PeerRoutes
  /** log effects, as "level msg" */
  readonly logs: string[] = []
  /** the `flush` effects of stops */
  readonly flushes: ConnId[][] = []
  /** while true, what this side writes is lost (it went silent) */
  muted = false
  private incomingIds = 0

  constructor(readonly name: Name, readonly opts: SideOptions, peerAs: number, private readonly pair: CorePair) {
    const families = opts.families ?? ['ipv4-unicast']
    this.routes = new PeerRoutes({ localAs: opts.localAs, peerAs, nextHop: 'as-given', export: {}, addPath: false })
    this.routes.set(opts.routes ?? [])
    this.core = new SessionCore({
      fsm: fsmConfig({
        localAs: opts.localAs, remoteAs: peerAs, routerId: opts.routerId, holdTime: opts.holdTime ?? 9,
        connectRetryTime: opts.connectRetry ?? 5, passive: opts.passive ?? false,
        capabilities: makeCapabilities({ asn: opts.localAs, families, gracefulRestart: opts.gracefulStop ? { restartTime: 120, forwardingPreserved: families } : undefined }),
      }),
      routes: this.routes,
      maxPrefixes: opts.maxPrefixes,
      gracefulStop: opts.gracefulStop,
    })
  }

  get state(): string { return this.core.state }

  /** the connection the session runs on */
  get conn(): ConnId | undefined { return this.core.connections[0] }

  nextIncoming(): ConnId { return `in${++this.incomingIds}` }

  /** queue an event for this side (run it with pair.run or pair.step) */
  feed(ev: SessionInput): void { this.pair.enqueue(this, ev) }
  start(): void { this.feed({ type: 'start' }) }
  stop(message?: string): void { this.feed({ type: 'stop', message }) }

  /** replace the desired routes and tell the core */
  setRoutes(advs: Advertisement[]): void {
    this.routes.set(advs)
    this.feed({ type: 'routes-changed' })
  }

  /** write a message on the session's connection, as if the core had (a router's own request) */
  send(msg: BgpMessage): void {
    const conn = this.conn
    if (conn === undefined) throw new Error(`${this.name} has no connection`)
    this.pair.deliverWrite(this, conn, encode(msg, this.core.negotiated?.codec ?? defaultContext()))
  }
}

export class CorePair {
  readonly clock = new ManualClock()
  readonly a: Side
  readonly b: Side
  trace: string[] = []
  /** (side, conn) -> the other end */
  private links = new Map<string, { side: Side; conn: ConnId }>()
  private queue: [Side, SessionInput][] = []
  private running = false

  constructor(a: SideOptions, b: SideOptions) {
    this.a = new Side('A', a, b.localAs, this)
    this.b = new Side('B', b, a.localAs, this)
  }

  other(s: Side): Side { return s === this.a ? this.b : this.a }

  enqueue(side: Side, ev: SessionInput): void {
    this.queue.push([side, ev])
  }

  /** Run queued events (and what they cause) until nothing is left. */
  run(): void {
    if (this.running) return
    this.running = true
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        const [side, ev] = next
        for (const e of side.core.step({ ...ev, now: this.clock.now() })) this.apply(side, e)
      }
    } finally {
      this.running = false
    }
  }

  /** Do `what` (queue events), run, and return the trace it produced. */
  step(what: () => void): string[] {
    this.trace = []
    what()
    this.run()
    return this.trace
  }

  /** Advance the clock by `ms`, running what the timers cause; returns the trace. */
  async advance(ms: number): Promise<string[]> {
    this.trace = []
    await this.clock.advance(ms)
    return this.trace
  }

  private key(side: Side, conn: ConnId): string { return `${side.name}:${conn}` }

  private apply(side: Side, e: SessionEffect): void {
    const peer = this.other(side)
    switch (e.type) {
      case 'connect': {
        const theirs = peer.nextIncoming()
        this.links.set(this.key(side, e.conn), { side: peer, conn: theirs })
        this.links.set(this.key(peer, theirs), { side, conn: e.conn })
        this.trace.push(`${side.name} connect ${e.conn} -> ${peer.name} ${theirs}`)
        this.enqueue(peer, { type: 'opened', conn: theirs, direction: 'incoming' })
        this.enqueue(side, { type: 'opened', conn: e.conn, direction: 'outgoing' })
        return
      }
      case 'write':
        this.deliverWrite(side, e.conn, e.bytes)
        // the socket took it at once: the core goes on before anything else (as peer.ts does)
        if (e.awaitWritable) this.queue.unshift([side, { type: 'writable', conn: e.conn }])
        return
      case 'close': {
        this.trace.push(`${side.name} closes ${e.conn}${e.abort ? ' (abort)' : ''}`)
        if (e.notification && !e.abort) this.deliverWrite(side, e.conn, e.notification)
        const far = this.links.get(this.key(side, e.conn))
        this.links.delete(this.key(side, e.conn))
        if (far) {
          this.links.delete(this.key(far.side, far.conn))
          this.enqueue(far.side, { type: 'closed', conn: far.conn })
        }
        this.enqueue(side, { type: 'closed', conn: e.conn })
        return
      }
      case 'set-timer':
        this.clearTimer(side, e.timer)
        this.timers.set(`${side.name}:${e.timer}`, this.clock.setTimeout(() => {
          this.timers.delete(`${side.name}:${e.timer}`)
          this.enqueue(side, { type: 'timer', timer: e.timer })
          this.run()
        }, e.ms))
        return
      case 'clear-timer':
        this.clearTimer(side, e.timer)
        return
      case 'log':
        side.logs.push(`${e.level} ${e.msg}`)
        return
      case 'status':
        this.trace.push(`${side.name} ${e.state}`)
        return
      case 'flush':
        side.flushes.push(e.conns)
        return
    }
  }

  private timers = new Map<string, unknown>()

  private clearTimer(side: Side, timer: string): void {
    const k = `${side.name}:${timer}`
    if (!this.timers.has(k)) return
    this.clock.clearTimeout(this.timers.get(k))
    this.timers.delete(k)
  }

  /** Bytes written by `side` on `conn`: traced and received by the other end (unless muted or gone). */
  deliverWrite(side: Side, conn: ConnId, bytes: Uint8Array): void {
    const far = this.links.get(this.key(side, conn))
    if (!far || side.muted) return
    for (const m of splitMessages(bytes).messages) this.trace.push(`${side.name}>${far.side.name} ${describe(m, side)} (${conn})`)
    this.enqueue(far.side, { type: 'received', conn: far.conn, bytes })
  }
}

/** One message as a trace line; UPDATEs decoded with the sender's view of the session. */
function describe(m: Uint8Array, sender: Side): string {
  const n = sender.core.negotiated
  const ctx: CodecContext = n ? { ...n.codec, addPathRx: n.codec.addPathTx } : defaultContext()
  const msg = decode(m, ctx)
  switch (msg.type) {
    case 'open': return 'OPEN'
    case 'keepalive': return 'KEEPALIVE'
    case 'notification': return `NOTIFICATION ${msg.code}/${msg.subcode}`
    case 'route-refresh': return 'ROUTE-REFRESH'
    case 'update': {
      const eor = endOfRibFamily(msg)
      if (eor) return `EOR ${eor}`
      const nlri = (l: readonly Nlri[]) => l.map((x) => `${x.prefix.addr}/${x.prefix.len}`)
      const add = [...nlri(msg.nlri), ...nlri(msg.attrs.mpReach?.nlri ?? [])].map((p) => `+${p}`)
      const del = [...nlri(msg.withdrawn), ...nlri(msg.attrs.mpUnreach?.withdrawn ?? [])].map((p) => `-${p}`)
      const via = msg.attrs.mpReach?.nextHop ?? msg.attrs.nextHop
      return ['UPDATE', ...add, ...(add.length && via ? [`via ${via}`] : []), ...del].join(' ')
    }
  }
}
