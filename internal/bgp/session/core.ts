// One configured BGP neighbour as a pure state machine over the FSM (internal/bgp/fsm) and the
// codec (internal/bgp/wire): `step(event)` -> effects (types.ts). No sockets, no timers, no
// clock: time arrives in each event as `now`. Routes come from a RouteSource (the peer's
// Adj-RIB-Out); received routes are counted and discarded (received.ts).
//
// Connections: `primary` always exists (it holds the FSM that owns ConnectRetry/IdleHold and the
// back-off); an incoming connection that arrives while the primary is in Connect (dialling),
// OpenSent or OpenConfirm becomes the `candidate` with an FSM of its own until RFC 4271 6.8
// collision resolution closes one of them.
//
// Routes: once Established, the RouteSource's chunks go out one `write` (awaitWritable) at a
// time, each after the `writable` of the one before; then the RIB commits and, on the first
// round of a session, End-of-RIB follows for every family. A route refresh re-sends everything.
import {
  step, initialState, notificationEvent, resolveCollision, acceptsIncoming,
  type FsmConfig, type FsmEvent, type FsmState, type FsmAction, type Negotiated, type StateName, type TimerName,
} from '../fsm/index.ts'
import {
  decode, encode, decodeUpdate, BgpWireError, FrameReader, endOfRib, familyKey, receiveLimit, defaultContext,
  type CodecContext, type FamilyKey, type Nlri,
} from '../wire/index.ts'
import type { ConnId, LogLevel, RouteSource, SessionEffect, SessionEvent, TimerId } from './types.ts'
import { RECEIVED_LIMIT, ReceivedRoutes } from './received.ts'

export interface SessionCoreOptions {
  fsm: FsmConfig
  routes: RouteSource
  maxPrefixes?: number
  /** close without NOTIFICATION on stop, so a graceful-restart peer keeps our routes */
  gracefulStop?: boolean
}

/** One FSM and the TCP connection it currently runs on (RFC 4271's "connection"). */
interface Conn {
  id: number
  fsm: FsmState
  /** the adapter's connection, while there is one */
  transport: ConnId | undefined
  localAddress: string | undefined
  initiator: 'local' | 'remote'
  framer: FrameReader
  maxLength: number
  timers: Set<TimerName>
  ctx?: CodecContext
  negotiated?: Negotiated
  closed: boolean
}

/** A round of sending routes: the chunks of one drain, one write at a time. */
interface Pump {
  conn: Conn
  transport: ConnId
  chunks: Iterator<Uint8Array>
  commit(): void
  ctx: CodecContext
  families: readonly FamilyKey[]
  /** a chunk is out; waiting for `writable` */
  waiting: boolean
}

const EMPTY_CTX: CodecContext = defaultContext()

export class SessionCore {
  readonly opts: SessionCoreOptions
  private primary: Conn
  private candidate: Conn | undefined
  private connIds = 0
  private dials = 0
  private timers = new Map<TimerId, { c: Conn; t: TimerName }>()
  private pump: Pump | undefined
  private dirty = false
  private full = true
  /** families a route refresh asked for (RFC 2918: only those are re-sent) */
  private refresh = new Set<FamilyKey>()
  private stopping = false
  /** End-of-RIB sent on the current session */
  private eorSent = false
  /** routes the peer sent us, counted (bounded: see received.ts) */
  private readonly received: ReceivedRoutes
  private reported: StateName
  private out: SessionEffect[] = []
  private now = 0
  // counters and status
  establishedAt: number | undefined
  lastError: string | undefined
  prefixesSent = 0
  updatesReceived = 0
  flaps = 0
  notificationsReceived = 0

  constructor(opts: SessionCoreOptions) {
    this.opts = opts
    // with maxPrefixes the session ends before a family passes max + 1: every count stays exact
    this.received = new ReceivedRoutes(opts.maxPrefixes !== undefined ? opts.maxPrefixes + 1 : RECEIVED_LIMIT)
    this.primary = this.newConn(opts.fsm, 'local')
    this.reported = this.primary.fsm.name
  }

  private newConn(cfg: FsmConfig, initiator: 'local' | 'remote'): Conn {
    return {
      id: ++this.connIds, fsm: initialState(cfg), transport: undefined, localAddress: undefined, initiator,
      framer: new FrameReader(), maxLength: 4096, timers: new Set(), closed: false,
    }
  }

  /** The session's RFC 4271 state. */
  get state(): StateName {
    return this.primary.fsm.name
  }

  get negotiated(): Negotiated | undefined {
    return this.primary.fsm.name === 'Established' ? this.primary.negotiated : undefined
  }

  get prefixesReceived(): number {
    return this.received.total
  }

  /** The connections the core is using (the session's, and a collision candidate's). */
  get connections(): ConnId[] {
    return [this.primary.transport, this.candidate?.transport].filter((c): c is ConnId => c !== undefined)
  }

  /** One event in, the effects to apply in order out. */
  step(ev: SessionEvent): SessionEffect[] {
    this.out = []
    this.now = ev.now
    switch (ev.type) {
      case 'start':
        this.stopping = false
        this.dispatch(this.primary, { type: this.opts.fsm.passive ? 'ManualStart_with_PassiveTcpEstablishment' : 'ManualStart' })
        break
      case 'stop':
        this.stop(ev.message, ev.notify === true)
        break
      case 'opened':
        if (ev.direction === 'incoming') this.incoming(ev.conn, ev.localAddress)
        else this.connected(ev.conn, ev.localAddress)
        break
      case 'received':
        this.onData(ev.conn, ev.bytes)
        break
      case 'writable':
        if (this.pump && this.pump.waiting && this.pump.transport === ev.conn) {
          this.pump.waiting = false
          this.runPump()
        }
        break
      case 'closed':
        this.onClosed(ev.conn, ev.error)
        break
      case 'timer': {
        const h = this.timers.get(ev.timer)
        if (!h) break // cleared meanwhile
        this.timers.delete(ev.timer)
        h.c.timers.delete(h.t)
        this.dispatch(h.c, { type: `${h.t}Timer_Expires` } as FsmEvent)
        break
      }
      case 'routes-changed':
        if (this.primary.fsm.name === 'Established') this.startPump()
        break
      case 'automatic-stop':
        for (const c of [this.candidate, this.primary]) {
          if (!c || c.fsm.name === 'Idle') continue
          this.log('warn', { subcode: ev.subcode, state: c.fsm.name }, `closing the session: ${ev.reason}`)
          this.lastError = ev.reason
          this.dispatch(c, { type: 'AutomaticStop', subcode: ev.subcode, reason: ev.reason })
        }
        break
    }
    if (this.primary.fsm.name !== this.reported) {
      this.reported = this.primary.fsm.name
      this.out.push({ type: 'status', state: this.reported })
    }
    const out = this.out
    this.out = []
    return out
  }

  private log(level: LogLevel, fields: Record<string, unknown>, msg: string): void {
    this.out.push({ type: 'log', level, fields, msg })
  }

  /** Stop the session: Cease/Administrative Shutdown, or (gracefulStop, unless `notify`) a silent close. */
  private stop(message: string | undefined, notify: boolean): void {
    this.stopping = true
    const conns = [this.primary, this.candidate].filter((c): c is Conn => !!c)
    if (this.opts.gracefulStop && !notify && this.primary.fsm.name === 'Established') {
      for (const c of conns) this.closeConn(c)
      this.clearTimers(this.primary)
      return
    }
    const flush = this.connections
    for (const c of conns) this.dispatch(c, { type: 'ManualStop', message })
    for (const c of conns) this.clearTimers(c)
    this.out.push({ type: 'flush', conns: flush })
  }

  /** An incoming TCP connection from this peer's address (the adapter checked the source). */
  private incoming(conn: ConnId, localAddress: string | undefined): void {
    const p = this.primary
    if (this.stopping || (p.fsm.name === 'Idle' && !p.fsm.idleHoldRunning)) {
      this.log('info', {}, 'incoming connection refused: peer is administratively down')
      this.out.push({ type: 'close', conn, abort: true })
      return
    }
    if (p.fsm.name === 'Idle' && p.fsm.idleHoldRunning) {
      // back-off: the peer reached us first; start now instead of waiting out the IdleHold timer
      this.stopTimer(p, 'IdleHold')
      this.dispatch(p, { type: 'IdleHoldTimer_Expires' })
    }
    if (acceptsIncoming(p.fsm) && !(p.fsm.name === 'Connect' && p.transport)) {
      if (p.transport) this.detach(p) // abandon our own connection attempt
      p.initiator = 'remote'
      this.attach(p, conn, localAddress)
      this.dispatch(p, { type: 'TcpConnectionConfirmed' })
      return
    }
    if (p.fsm.name === 'Established' || this.candidate) {
      this.log('info', { state: p.fsm.name }, 'incoming connection refused: a session already exists (collision)')
      const n = encode({ type: 'notification', code: 6, subcode: 7, data: new Uint8Array(0) }, EMPTY_CTX)
      this.out.push({ type: 'close', conn, notification: n })
      return
    }
    // our own connection is in progress (Connect) or exchanging OPENs (OpenSent / OpenConfirm):
    // a collision candidate with its own FSM; RFC 4271 6.8 decides once the OPENs are in
    const c = this.newConn({ ...this.opts.fsm, passive: true }, 'remote')
    this.candidate = c
    this.attach(c, conn, localAddress)
    this.dispatch(c, { type: 'ManualStart_with_PassiveTcpEstablishment' })
    this.dispatch(c, { type: 'TcpConnectionConfirmed' })
  }

  /** Our dial completed. */
  private connected(conn: ConnId, localAddress: string | undefined): void {
    const c = this.owner(conn)
    if (!c) return // a dial given up meanwhile
    c.localAddress = localAddress
    this.dispatch(c, { type: 'Tcp_CR_Acked' })
  }

  /** The FSM holding `conn`, if the core still uses it. */
  private owner(conn: ConnId): Conn | undefined {
    if (this.primary.transport === conn) return this.primary
    if (this.candidate?.transport === conn) return this.candidate
    return undefined
  }

  // ---- FSM plumbing ----

  private dispatch(c: Conn, ev: FsmEvent): void {
    if (c.closed && c !== this.primary) return
    const before = c.fsm.name
    const { state, actions } = step(c.fsm, ev, this.now)
    c.fsm = state
    if (state.name !== before) {
      this.log('debug', { conn: c.id, from: before, to: state.name, event: ev.type }, 'fsm transition')
      if (state.lastError && state.name === 'Idle') this.lastError = state.lastError
    }
    for (const a of actions) this.execute(c, a)
    if (c === this.candidate || (this.candidate && c === this.primary)) this.checkCollision()
  }

  private execute(c: Conn, a: FsmAction): void {
    switch (a.type) {
      case 'start-timer': {
        const id = timerId(c, a.timer)
        c.timers.add(a.timer)
        this.timers.set(id, { c, t: a.timer })
        this.out.push({ type: 'set-timer', timer: id, ms: a.seconds * 1000 })
        return
      }
      case 'stop-timer':
        this.stopTimer(c, a.timer)
        return
      case 'connect':
        this.dial(c)
        return
      case 'drop-connection':
        this.closeConn(c)
        return
      case 'send-open':
        this.send(c, encode(a.open, EMPTY_CTX))
        return
      case 'send-keepalive':
        this.send(c, encode({ type: 'keepalive' }, EMPTY_CTX))
        return
      case 'send-notification':
        // the FSM is already in Idle, its lastError the reason (a refused OPEN, an FSM error ...)
        this.log('warn', { code: a.code, subcode: a.subcode, reason: c.fsm.lastError }, 'sending NOTIFICATION')
        this.lastError = `sent NOTIFICATION ${a.code}/${a.subcode}`
        this.send(c, encode({ type: 'notification', code: a.code, subcode: a.subcode, data: a.data }, c.ctx ?? EMPTY_CTX))
        return
      case 'established':
        this.onEstablished(c, a.negotiated)
        return
      case 'session-down':
        this.onDown(c, a.reason)
        return
    }
  }

  private stopTimer(c: Conn, t: TimerName): void {
    if (!c.timers.delete(t)) return
    const id = timerId(c, t)
    this.timers.delete(id)
    this.out.push({ type: 'clear-timer', timer: id })
  }

  private clearTimers(c: Conn): void {
    for (const t of [...c.timers]) this.stopTimer(c, t)
  }

  private dial(c: Conn): void {
    const conn = `out${++this.dials}`
    c.initiator = 'local'
    this.attach(c, conn, undefined)
    this.out.push({ type: 'connect', conn })
  }

  private attach(c: Conn, conn: ConnId, localAddress: string | undefined): void {
    c.transport = conn
    c.localAddress = localAddress
    c.closed = false
    c.framer = new FrameReader()
    c.maxLength = 4096
  }

  /** Forget the connection at once (no NOTIFICATION, nothing flushed). */
  private detach(c: Conn): void {
    const conn = c.transport
    if (conn === undefined) return
    this.forget(c)
    this.out.push({ type: 'close', conn, abort: true })
  }

  private closeConn(c: Conn): void {
    c.closed = true
    const conn = c.transport
    if (conn !== undefined) {
      this.forget(c)
      this.out.push({ type: 'close', conn })
    }
    this.retireCandidate(c)
  }

  private forget(c: Conn): void {
    if (this.pump?.transport === c.transport) this.pump = undefined
    c.transport = undefined
  }

  private onClosed(conn: ConnId, error: string | undefined): void {
    const c = this.owner(conn)
    if (!c) return
    if (error !== undefined) {
      this.lastError = `socket: ${error}`
      this.log('info', { conn: c.id, error }, 'connection error')
    }
    this.forget(c)
    if (c.closed) return
    c.closed = true
    this.dispatch(c, { type: 'TcpConnectionFails', reason: 'connection closed' })
    this.retireCandidate(c)
  }

  private retireCandidate(c: Conn): void {
    if (c === this.candidate) {
      this.clearTimers(c)
      this.candidate = undefined
    }
  }

  private send(c: Conn, bytes: Uint8Array): void {
    if (c.transport !== undefined) this.out.push({ type: 'write', conn: c.transport, bytes })
  }

  private onData(conn: ConnId, bytes: Uint8Array): void {
    const c = this.owner(conn)
    if (!c) return
    c.framer.push(bytes)
    for (;;) {
      if (c.transport !== conn) return
      let m: Uint8Array | null
      try {
        m = c.framer.next(c.maxLength)
      } catch (e) {
        return this.wireError(c, e)
      }
      if (m === null) return
      this.onMessage(c, m)
    }
  }

  private wireError(c: Conn, e: unknown): void {
    if (!(e instanceof BgpWireError)) {
      this.log('error', { error: String((e as Error)?.stack ?? e) }, 'internal error decoding a message')
      e = new BgpWireError('internal decode error', { bgpCode: 6, subcode: 0 })
    }
    const w = e as BgpWireError
    this.log('warn', { code: w.bgpCode, subcode: w.subcode, error: w.message }, 'malformed message from peer')
    this.lastError = w.message
    const ev: FsmEvent =
      w.bgpCode === 1 ? { type: 'BGPHeaderErr', subcode: w.subcode, data: w.data, reason: w.message }
      : w.bgpCode === 2 ? { type: 'BGPOpenMsgErr', subcode: w.subcode, data: w.data, reason: w.message }
      : w.bgpCode === 3 ? { type: 'UpdateMsgErr', subcode: w.subcode, data: w.data, reason: w.message }
      : w.bgpCode === 7 ? { type: 'RouteRefreshMsgErr', subcode: w.subcode, data: w.data, reason: w.message }
      : { type: 'AutomaticStop', subcode: 0, reason: w.message }
    this.dispatch(c, ev)
  }

  private onMessage(c: Conn, m: Uint8Array): void {
    const type = m[18]
    if (type === 2) return this.onUpdate(c, m)
    let msg
    try {
      msg = decode(m, c.ctx ?? EMPTY_CTX)
    } catch (e) {
      return this.wireError(c, e)
    }
    switch (msg.type) {
      case 'open':
        this.dispatch(c, { type: 'BGPOpen', open: msg })
        return
      case 'keepalive':
        this.dispatch(c, { type: 'KeepAliveMsg' })
        return
      case 'notification': {
        this.notificationsReceived++
        this.lastError = `received NOTIFICATION ${msg.code}/${msg.subcode}`
        this.log('warn', { code: msg.code, subcode: msg.subcode }, 'received NOTIFICATION')
        this.dispatch(c, notificationEvent(msg.code, msg.subcode, msg.data))
        return
      }
      case 'route-refresh': {
        this.dispatch(c, { type: 'RouteRefreshMsg' })
        if (c !== this.primary || c.fsm.name !== 'Established') return
        // RFC 7313: only subtype 0 asks; BoRR (1) / EoRR (2) mark a refresh the peer sends, the rest are reserved
        if (msg.subtype !== 0) {
          this.log('debug', { afi: msg.afi, safi: msg.safi, subtype: msg.subtype }, 'ROUTE-REFRESH that is not a request: ignored')
          return
        }
        const fam = familyKey(msg.afi, msg.safi)
        if (fam === undefined || !c.negotiated?.families.includes(fam)) {
          // RFC 2918 section 4: a family that was not negotiated is ignored
          this.log('warn', { afi: msg.afi, safi: msg.safi }, 'route refresh for a family not negotiated: ignored')
          return
        }
        this.log('info', { afi: msg.afi, family: fam }, 'route refresh requested: re-sending')
        this.refresh.add(fam)
        this.startPump()
        return
      }
      case 'update':
        return
    }
  }

  private onUpdate(c: Conn, m: Uint8Array): void {
    if (c.fsm.name !== 'Established' || !c.ctx) {
      this.dispatch(c, { type: 'UpdateMsg' }) // FSM error outside Established
      return
    }
    let res
    try {
      res = decodeUpdate(m.subarray(19), c.ctx)
    } catch (e) {
      return this.wireError(c, e)
    }
    this.updatesReceived++
    if (res.errors.length) {
      this.log('warn', { action: res.action, errors: res.errors.map((e) => e.message) }, 'malformed UPDATE handled per RFC 7606')
    }
    const u = res.msg
    let withdraw = res.treatAsWithdraw
    // RFC 5065 5.3 / RFC 7606 7.2: confederation segments from an external (non-confederation) peer
    if (!withdraw && c.negotiated && c.negotiated.peerAs !== this.opts.fsm.localAs && u.attrs.asPath?.some((seg) => seg.type === 3 || seg.type === 4)) {
      withdraw = true
      this.log('warn', { action: 'treat-as-withdraw' }, 'UPDATE from an external peer with AS_CONFED segments in AS_PATH: treated as withdraw (RFC 7606 7.2)')
    }
    this.track('ipv4-unicast', u.withdrawn, false)
    this.track('ipv4-unicast', u.nlri, !withdraw && this.negotiatedFamily(c, 'ipv4-unicast', u.nlri.length))
    if (u.attrs.mpUnreach) this.track(u.attrs.mpUnreach.afi === 2 ? 'ipv6-unicast' : 'ipv4-unicast', u.attrs.mpUnreach.withdrawn, false)
    const reach = u.attrs.mpReach
    if (reach) {
      const fam = reach.afi === 2 ? 'ipv6-unicast' : 'ipv4-unicast'
      this.track(fam, reach.nlri, !withdraw && this.negotiatedFamily(c, fam, reach.nlri.length))
    }
    this.dispatch(c, { type: 'UpdateMsg' })
    const max = this.opts.maxPrefixes
    if (max !== undefined) {
      for (const fam of this.received.families()) {
        if (this.received.count(fam) > max) {
          this.log('warn', { family: fam, received: this.received.count(fam), maxPrefixes: max }, 'maximum prefixes exceeded: closing the session')
          this.dispatch(c, { type: 'MaxPrefixExceeded', afi: fam === 'ipv6-unicast' ? 2 : 1, safi: 1, limit: max })
          return
        }
      }
    }
  }

  /**
   * Whether `routes` announced routes of `fam` count: only a family both OPENs listed does (RFC
   * 4760 6); BIRD and FRR ignore the others too, with the session up.
   */
  private negotiatedFamily(c: Conn, fam: FamilyKey, routes: number): boolean {
    if (routes === 0 || c.negotiated?.families.includes(fam)) return true
    this.log('warn', { family: fam, routes }, 'UPDATE with routes of a family not negotiated: ignored')
    return false
  }

  private track(fam: FamilyKey, list: readonly Nlri[], add: boolean): void {
    if (add) this.received.announce(fam, list)
    else this.received.withdraw(fam, list)
  }

  private checkCollision(): void {
    const a = this.primary
    const b = this.candidate
    if (!b) return
    if (b.fsm.name === 'Established' && a.fsm.name !== 'Established') {
      // the peer's connection got there first (ours never reached OpenConfirm): it wins
      this.log('info', {}, 'connection collision: the established connection wins')
      this.promote(b)
      return
    }
    const neg = a.negotiated ?? b.negotiated ?? a.fsm.negotiated ?? b.fsm.negotiated
    if (!neg) return
    const loser = resolveCollision(
      { state: a.fsm.name, initiator: a.initiator },
      { state: b.fsm.name, initiator: b.initiator },
      { localId: this.opts.fsm.routerId, remoteId: neg.peerRouterId, localAs: this.opts.fsm.localAs, remoteAs: neg.peerAs },
      { includeOpenSent: true },
    )
    if (!loser) return
    this.log('info', { closing: loser === 'a' ? a.initiator : b.initiator }, 'connection collision resolved')
    if (loser === 'b') {
      this.candidate = undefined
      this.dispatch(b, { type: 'OpenCollisionDump' })
      this.closeConn(b)
      this.clearTimers(b)
    } else {
      this.promote(b)
    }
  }

  /** The candidate wins: it becomes the primary; the old primary is dumped (Cease 7 when it had sent an OPEN). */
  private promote(b: Conn): void {
    this.candidate = undefined
    const old = this.primary
    this.primary = b
    this.primary.fsm = { ...b.fsm, config: this.opts.fsm }
    if (old.fsm.name === 'OpenSent' || old.fsm.name === 'OpenConfirm') this.dispatch(old, { type: 'OpenCollisionDump' })
    old.closed = true
    this.clearTimers(old)
    this.closeConn(old)
    if (b.fsm.name === 'Established' && b.negotiated) this.onEstablished(b, b.negotiated)
  }

  private onEstablished(c: Conn, n: Negotiated): void {
    c.ctx = n.codec
    c.negotiated = n
    c.maxLength = receiveLimit(n.codec)
    if (c !== this.primary) return
    this.establishedAt = this.now
    this.log('info', { peerAs: n.peerAs, holdTime: n.holdTime, families: n.families, addPathTx: [...n.codec.addPathTx] }, 'session established')
    this.full = true
    this.eorSent = false
    this.startPump()
  }

  private onDown(c: Conn, reason: string): void {
    if (c !== this.primary) return
    this.log('warn', { reason }, 'session down')
    this.flaps++
    this.lastError = reason
    this.establishedAt = undefined
    this.received.clear()
    this.opts.routes.reset()
    this.prefixesSent = 0
  }

  // ---- sending routes ----

  /** Send the difference (or everything) while Established; a round already going picks it up after. */
  private startPump(): void {
    if (this.pump) {
      this.dirty = true
      return
    }
    this.runPump()
  }

  /** Go on until a chunk waits for `writable`, or until nothing is left to send. */
  private runPump(): void {
    for (;;) {
      let p = this.pump
      if (!p) {
        this.dirty = false
        const c = this.primary
        const n = c.negotiated
        if (c.fsm.name !== 'Established' || !c.ctx || !n || c.transport === undefined) return
        const full: boolean | FamilyKey[] = this.full || (this.refresh.size ? [...this.refresh] : false)
        this.full = false
        this.refresh.clear()
        const local = c.localAddress?.replace(/^::ffff:(?=\d+\.)/i, '')
        const { chunks, commit } = this.opts.routes.drain(c.ctx, n.families, full, local)
        p = this.pump = { conn: c, transport: c.transport, chunks: chunks[Symbol.iterator](), commit, ctx: c.ctx, families: n.families, waiting: false }
      }
      const next = p.chunks.next()
      if (!next.done) {
        p.waiting = true
        this.out.push({ type: 'write', conn: p.transport, bytes: next.value, awaitWritable: true })
        return
      }
      this.pump = undefined
      p.commit()
      if (!this.eorSent) {
        for (const f of p.families) this.out.push({ type: 'write', conn: p.transport, bytes: encode(endOfRib(f), p.ctx) })
        this.eorSent = true
        this.log('info', {}, 'initial routes sent, End-of-RIB')
      }
      if (!(this.dirty || this.full || this.refresh.size)) return
    }
  }
}

function timerId(c: Conn, t: TimerName): TimerId {
  return `${t}/${c.id}`
}
