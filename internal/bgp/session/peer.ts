// One configured BGP neighbour: sockets and timers around the pure FSM (internal/bgp/fsm) and
// codec (internal/bgp/wire). Routes come from a RouteSource (the speaker's Adj-RIB-Out adapter);
// received routes are counted and discarded.
//
// Connections: `primary` always exists (it holds the FSM that owns ConnectRetry/IdleHold and the
// back-off); an incoming connection that arrives while the primary is in OpenSent/OpenConfirm
// becomes the `candidate` with an FSM of its own until RFC 4271 6.8 collision resolution closes
// one of them.
import type { PeerStatus } from '../../admin/status.ts'
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import {
  step, initialState, notificationEvent, resolveCollision, acceptsIncoming,
  type FsmConfig, type FsmEvent, type FsmState, type FsmAction, type Negotiated, type TimerName,
} from '../fsm/index.ts'
import {
  decode, encode, decodeUpdate, BgpWireError, FrameReader, endOfRib, receiveLimit, defaultContext,
  type CodecContext, type FamilyKey, type Nlri,
} from '../wire/index.ts'
import { errnoOf, type Clock } from '../../base/index.ts'

export interface RouteSource {
  /**
   * Encoded UPDATE messages bringing the peer from what it has to what is desired, in chunks
   * (each chunk whole messages). `full`: the peer has nothing (new session, route refresh).
   */
  drain(ctx: CodecContext, families: readonly FamilyKey[], full: boolean, localAddress?: string): { chunks: Iterable<Uint8Array>; commit(): void }
  /** the session went down: the peer has nothing */
  reset(): void
}

export interface Dialer {
  connect(opts: { host: string; port: number; localAddress?: string; md5Key?: Uint8Array }): Socket
}

export interface PeerOptions {
  name: string
  address: string
  port: number
  localAddress?: string
  md5Key?: Uint8Array
  maxPrefixes?: number
  fsm: FsmConfig
  clock: Clock
  log: Logger
  dialer: Dialer
  routes: RouteSource
  /** close without NOTIFICATION on stop, so a graceful-restart peer keeps our routes */
  gracefulStop?: boolean
}

interface Conn {
  id: number
  fsm: FsmState
  socket?: Socket
  initiator: 'local' | 'remote'
  framer: FrameReader
  maxLength: number
  timers: Map<TimerName, unknown>
  ctx?: CodecContext
  negotiated?: Negotiated
  closed: boolean
}

const EMPTY_CTX: CodecContext = defaultContext()
let connIds = 0

export class PeerSession {
  readonly opts: PeerOptions
  private primary: Conn
  private candidate: Conn | undefined
  private pumping = false
  private dirty = false
  private full = true
  private stopping = false
  /** End-of-RIB sent on the current session */
  private eorSent = false
  private received = new Map<FamilyKey, Set<string>>()
  // counters and status
  establishedAt: number | undefined
  lastError: string | undefined
  prefixesSent = 0
  updatesSent = 0
  updatesReceived = 0
  flaps = 0
  notificationsReceived = 0

  constructor(opts: PeerOptions) {
    this.opts = opts
    this.primary = this.newConn(opts.fsm, 'local')
  }

  private newConn(cfg: FsmConfig, initiator: 'local' | 'remote'): Conn {
    return { id: ++connIds, fsm: initialState(cfg), initiator, framer: new FrameReader(), maxLength: 4096, timers: new Map(), closed: false }
  }

  get state(): string {
    return this.primary.fsm.name
  }

  get negotiated(): Negotiated | undefined {
    return this.primary.fsm.name === 'Established' ? this.primary.negotiated : undefined
  }

  start(): void {
    this.stopping = false
    this.dispatch(this.primary, { type: this.opts.fsm.passive ? 'ManualStart_with_PassiveTcpEstablishment' : 'ManualStart' })
  }

  /** Stop the session: Cease/Administrative Shutdown, or (gracefulStop) a silent close. */
  async stop(message?: string): Promise<void> {
    this.stopping = true
    const conns = [this.primary, this.candidate].filter((c): c is Conn => !!c)
    if (this.opts.gracefulStop && this.primary.fsm.name === 'Established') {
      for (const c of conns) this.closeConn(c, 'porter stopping (graceful restart)')
      this.clearTimers(this.primary)
      return
    }
    const flushes = conns.map((c) => this.flushed(c))
    for (const c of conns) this.dispatch(c, { type: 'ManualStop', message })
    let limit: unknown
    await Promise.race([Promise.all(flushes), new Promise<void>((r) => { limit = this.opts.clock.setTimeout(r, 1000) })])
    this.opts.clock.clearTimeout(limit)
    for (const c of conns) this.clearTimers(c)
  }

  private flushed(c: Conn): Promise<void> {
    return new Promise((resolve) => {
      if (!c.socket || c.socket.destroyed) return resolve()
      c.socket.once('close', () => resolve())
    })
  }

  /** Something changed in the routes: send the difference when Established. */
  routesChanged(): void {
    if (this.primary.fsm.name === 'Established') void this.pump()
  }

  /** An incoming TCP connection from this peer's address (the listener checked the source). */
  incoming(socket: Socket): void {
    const p = this.primary
    if (this.stopping || (p.fsm.name === 'Idle' && !p.fsm.idleHoldRunning)) {
      this.opts.log.info({ peer: this.opts.name }, 'incoming connection refused: peer is administratively down')
      socket.destroy()
      return
    }
    if (p.fsm.name === 'Idle' && p.fsm.idleHoldRunning) {
      // back-off: the peer reached us first; start now instead of waiting out the IdleHold timer
      this.stopTimer(p, 'IdleHold')
      this.dispatch(p, { type: 'IdleHoldTimer_Expires' })
    }
    if (acceptsIncoming(p.fsm) && !(p.fsm.name === 'Connect' && p.socket)) {
      if (p.socket) this.detachSocket(p) // abandon our own connection attempt
      p.initiator = 'remote'
      this.attach(p, socket)
      this.dispatch(p, { type: 'TcpConnectionConfirmed' })
      return
    }
    if (p.fsm.name === 'Established' || this.candidate) {
      this.opts.log.info({ peer: this.opts.name, state: p.fsm.name }, 'incoming connection refused: a session already exists (collision)')
      const n = encode({ type: 'notification', code: 6, subcode: 7, data: new Uint8Array(0) }, EMPTY_CTX)
      socket.end(n)
      this.opts.clock.setTimeout(() => socket.destroy(), 1000)
      return
    }
    // our own connection is in progress (Connect) or exchanging OPENs (OpenSent / OpenConfirm):
    // a collision candidate with its own FSM; RFC 4271 6.8 decides once the OPENs are in
    const c = this.newConn({ ...this.opts.fsm, passive: true }, 'remote')
    this.candidate = c
    this.attach(c, socket)
    this.dispatch(c, { type: 'ManualStart_with_PassiveTcpEstablishment' })
    this.dispatch(c, { type: 'TcpConnectionConfirmed' })
  }

  // ---- FSM plumbing ----

  private dispatch(c: Conn, ev: FsmEvent): void {
    if (c.closed && c !== this.primary) return
    const before = c.fsm.name
    const { state, actions } = step(c.fsm, ev, this.opts.clock.now())
    c.fsm = state
    if (state.name !== before) {
      this.opts.log.debug({ peer: this.opts.name, conn: c.id, from: before, to: state.name, event: ev.type }, 'fsm transition')
      if (state.lastError && state.name === 'Idle') this.lastError = state.lastError
    }
    for (const a of actions) this.execute(c, a)
    if (c === this.candidate || (this.candidate && c === this.primary)) this.checkCollision()
  }

  private execute(c: Conn, a: FsmAction): void {
    switch (a.type) {
      case 'start-timer': {
        this.stopTimer(c, a.timer)
        const h = this.opts.clock.setTimeout(() => {
          c.timers.delete(a.timer)
          this.dispatch(c, { type: `${a.timer}Timer_Expires` } as FsmEvent)
        }, a.seconds * 1000)
        c.timers.set(a.timer, h)
        return
      }
      case 'stop-timer':
        this.stopTimer(c, a.timer)
        return
      case 'connect':
        this.dial(c)
        return
      case 'drop-connection':
        this.closeConn(c, 'fsm')
        return
      case 'send-open':
        this.send(c, encode(a.open, EMPTY_CTX))
        return
      case 'send-keepalive':
        this.send(c, encode({ type: 'keepalive' }, EMPTY_CTX))
        return
      case 'send-notification':
        this.opts.log.warn({ peer: this.opts.name, code: a.code, subcode: a.subcode }, 'sending NOTIFICATION')
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
    const h = c.timers.get(t)
    if (h !== undefined) {
      this.opts.clock.clearTimeout(h)
      c.timers.delete(t)
    }
  }

  private clearTimers(c: Conn): void {
    for (const t of [...c.timers.keys()]) this.stopTimer(c, t)
  }

  private dial(c: Conn): void {
    const sock = this.opts.dialer.connect({ host: this.opts.address, port: this.opts.port, localAddress: this.opts.localAddress, md5Key: this.opts.md5Key })
    c.initiator = 'local'
    this.attach(c, sock, () => this.dispatch(c, { type: 'Tcp_CR_Acked' }))
  }

  private attach(c: Conn, sock: Socket, onConnect?: () => void): void {
    c.socket = sock
    c.closed = false
    c.framer = new FrameReader()
    c.maxLength = 4096
    sock.setNoDelay(true)
    if (onConnect) sock.once('connect', onConnect)
    sock.on('data', (d: Buffer) => this.onData(c, sock, d))
    sock.on('error', (e: Error) => {
      if (c.socket !== sock) return
      this.lastError = `socket: ${errnoOf(e) ?? e.message}`
      this.opts.log.info({ peer: this.opts.name, conn: c.id, error: errnoOf(e) ?? e.message }, 'connection error')
    })
    sock.on('close', () => {
      if (c.socket !== sock) return
      c.socket = undefined
      if (c.closed) return
      c.closed = true
      this.dispatch(c, { type: 'TcpConnectionFails', reason: 'connection closed' })
      this.retireCandidate(c)
    })
  }

  private detachSocket(c: Conn): void {
    const s = c.socket
    c.socket = undefined
    s?.destroy()
  }

  private closeConn(c: Conn, _why: string): void {
    c.closed = true
    const s = c.socket
    c.socket = undefined
    if (s && !s.destroyed) {
      s.end()
      this.opts.clock.setTimeout(() => s.destroy(), 1000)
    }
    this.retireCandidate(c)
  }

  private retireCandidate(c: Conn): void {
    if (c === this.candidate) {
      this.clearTimers(c)
      this.candidate = undefined
    }
  }

  private send(c: Conn, bytes: Uint8Array): boolean {
    const s = c.socket
    if (!s || s.destroyed || !s.writable) return false
    return s.write(bytes)
  }

  private onData(c: Conn, sock: Socket, d: Buffer): void {
    if (c.socket !== sock) return
    c.framer.push(d)
    for (;;) {
      if (c.socket !== sock) return
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
      this.opts.log.error({ peer: this.opts.name, error: String((e as Error)?.stack ?? e) }, 'internal error decoding a message')
      e = new BgpWireError('internal decode error', { bgpCode: 6, subcode: 0 })
    }
    const w = e as BgpWireError
    this.opts.log.warn({ peer: this.opts.name, code: w.bgpCode, subcode: w.subcode, error: w.message }, 'malformed message from peer')
    this.lastError = w.message
    const ev: FsmEvent =
      w.bgpCode === 1 ? { type: 'BGPHeaderErr', subcode: w.subcode, data: w.data, reason: w.message }
      : w.bgpCode === 2 ? { type: 'BGPOpenMsgErr', subcode: w.subcode, data: w.data, reason: w.message }
      : w.bgpCode === 3 ? { type: 'UpdateMsgErr', subcode: w.subcode, data: w.data, reason: w.message }
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
        this.opts.log.warn({ peer: this.opts.name, code: msg.code, subcode: msg.subcode }, 'received NOTIFICATION')
        this.dispatch(c, notificationEvent(msg.code, msg.subcode, msg.data))
        return
      }
      case 'route-refresh':
        this.dispatch(c, { type: 'RouteRefreshMsg' })
        if (c === this.primary && c.fsm.name === 'Established') {
          this.opts.log.info({ peer: this.opts.name, afi: msg.afi }, 'route refresh requested: re-sending')
          this.full = true
          void this.pump()
        }
        return
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
      this.opts.log.warn({ peer: this.opts.name, action: res.action, errors: res.errors.map((e) => e.message) }, 'malformed UPDATE handled per RFC 7606')
    }
    const u = res.msg
    this.track('ipv4-unicast', u.withdrawn, false)
    this.track('ipv4-unicast', u.nlri, !res.treatAsWithdraw)
    if (u.attrs.mpUnreach) this.track(u.attrs.mpUnreach.afi === 2 ? 'ipv6-unicast' : 'ipv4-unicast', u.attrs.mpUnreach.withdrawn, false)
    if (u.attrs.mpReach) this.track(u.attrs.mpReach.afi === 2 ? 'ipv6-unicast' : 'ipv4-unicast', u.attrs.mpReach.nlri, !res.treatAsWithdraw)
    this.dispatch(c, { type: 'UpdateMsg' })
    const max = this.opts.maxPrefixes
    if (max !== undefined) {
      for (const [fam, set] of this.received) {
        if (set.size > max) {
          this.opts.log.warn({ peer: this.opts.name, family: fam, received: set.size, maxPrefixes: max }, 'maximum prefixes exceeded: closing the session')
          this.dispatch(c, { type: 'MaxPrefixExceeded', afi: fam === 'ipv6-unicast' ? 2 : 1, safi: 1, limit: max })
          return
        }
      }
    }
  }

  private track(fam: FamilyKey, list: readonly Nlri[], add: boolean): void {
    if (list.length === 0) return
    let set = this.received.get(fam)
    if (!set) this.received.set(fam, (set = new Set()))
    for (const n of list) {
      const k = `${n.prefix.addr}/${n.prefix.len}#${n.pathId ?? 0}`
      if (add) set.add(k)
      else set.delete(k)
    }
  }

  get prefixesReceived(): number {
    let n = 0
    for (const s of this.received.values()) n += s.size
    return n
  }

  private checkCollision(): void {
    const a = this.primary
    const b = this.candidate
    if (!b) return
    if (b.fsm.name === 'Established' && a.fsm.name !== 'Established') {
      // the peer's connection got there first (ours never reached OpenConfirm): it wins
      this.opts.log.info({ peer: this.opts.name }, 'connection collision: the established connection wins')
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
    this.opts.log.info({ peer: this.opts.name, closing: loser === 'a' ? a.initiator : b.initiator }, 'connection collision resolved')
    if (loser === 'b') {
      this.candidate = undefined
      this.dispatch(b, { type: 'OpenCollisionDump' })
      this.closeConn(b, 'collision')
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
    this.closeConn(old, 'collision')
    if (b.fsm.name === 'Established' && b.negotiated) this.onEstablished(b, b.negotiated)
  }

  private onEstablished(c: Conn, n: Negotiated): void {
    c.ctx = n.codec
    c.negotiated = n
    c.maxLength = receiveLimit(n.codec)
    if (c !== this.primary) return
    this.establishedAt = this.opts.clock.now()
    this.opts.log.info({ peer: this.opts.name, peerAs: n.peerAs, holdTime: n.holdTime, families: n.families, addPathTx: [...n.codec.addPathTx] }, 'session established')
    this.full = true
    this.eorSent = false
    void this.pump()
  }


  private onDown(c: Conn, reason: string): void {
    if (c !== this.primary) return
    this.opts.log.warn({ peer: this.opts.name, reason }, 'session down')
    this.flaps++
    this.lastError = reason
    this.establishedAt = undefined
    this.received.clear()
    this.opts.routes.reset()
    this.prefixesSent = 0
  }

  /** Send the difference (or everything) while Established, respecting socket backpressure. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.dirty = true
      return
    }
    this.pumping = true
    try {
      do {
        this.dirty = false
        const c = this.primary
        const n = c.negotiated
        if (c.fsm.name !== 'Established' || !c.ctx || !n || !c.socket) return
        const sock = c.socket
        const full = this.full
        this.full = false
        const local = sock.localAddress?.replace(/^::ffff:(?=\d+\.)/i, '')
        const { chunks, commit } = this.opts.routes.drain(c.ctx, n.families, full, local)
        for (const chunk of chunks) {
          if (c.socket !== sock || sock.destroyed) return
          if (!sock.write(chunk)) {
            await new Promise<void>((resolve) => {
              const done = () => { sock.off('drain', done); sock.off('close', done); resolve() }
              sock.on('drain', done)
              sock.on('close', done)
            })
          }
        }
        if (c.socket !== sock || sock.destroyed) return
        commit()
        if (!this.eorSent) {
          for (const f of n.families) sock.write(encode(endOfRib(f), c.ctx))
          this.eorSent = true
          this.opts.log.info({ peer: this.opts.name }, 'initial routes sent, End-of-RIB')
        }
      } while (this.dirty || this.full)
    } finally {
      this.pumping = false
    }
  }

  status(): Omit<PeerStatus, 'prefixesSent' | 'ecmp'> {
    const n = this.negotiated
    const now = this.opts.clock.now()
    return {
      name: this.opts.name,
      address: this.opts.address,
      peerAs: this.opts.fsm.remoteAs,
      state: this.state,
      uptimeSeconds: this.establishedAt !== undefined ? Math.round((now - this.establishedAt) / 1000) : undefined,
      holdTime: n?.holdTime,
      families: n?.families,
      addPath: n ? [...n.codec.addPathTx] : undefined,
      prefixesReceived: this.prefixesReceived,
      updatesReceived: this.updatesReceived,
      flaps: this.flaps,
      lastError: this.lastError,
    }
  }
}

