// One configured BGP neighbour: the socket adapter around the pure session core (core.ts). It
// owns the sockets and the clock's timers, turns their events into core events and applies the
// core's effects (types.ts); everything BGP (FSM, collisions, End-of-RIB, route refresh,
// max-prefix, graceful stop) is the core's.
//
// Backpressure: a chunk of routes that socket.write() did not take at once makes the adapter
// wait for 'drain' before it tells the core the connection is writable again.
import type { PeerStatus } from '../../admin/status.ts'
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import type { FsmConfig, Negotiated } from '../fsm/index.ts'
import { errnoOf, type Clock } from '../../base/index.ts'
import { SessionCore } from './core.ts'
import type { ConnId, RouteSource, SessionEffect, SessionInput, TimerId } from './types.ts'

export type { RouteSource } from './types.ts'

export interface Dialer {
  /** `ttl` / `minTtl`: the IP TTL sent and the lowest accepted, set before the SYN (see ../ttl.ts) */
  connect(opts: { host: string; port: number; localAddress?: string; md5Key?: Uint8Array; ttl?: number; minTtl?: number }): Socket
}

export interface PeerOptions {
  name: string
  address: string
  port: number
  localAddress?: string
  md5Key?: Uint8Array
  /** TTL sent / lowest accepted on outgoing connections (../ttl.ts); the listener sets it on accepted ones */
  ttl?: { ttl?: number; minTtl?: number }
  maxPrefixes?: number
  fsm: FsmConfig
  clock: Clock
  log: Logger
  dialer: Dialer
  routes: RouteSource
  /** close without NOTIFICATION on stop, so a graceful-restart peer keeps our routes */
  gracefulStop?: boolean
}

interface Transport {
  socket: Socket
  /** resolves when the socket has closed */
  closed: Promise<void>
  error?: string
}

/** How long a closing socket may take to flush before it is destroyed, and stop() waits at most. */
const LINGER_MS = 1000

export class PeerSession {
  readonly opts: PeerOptions
  private readonly core: SessionCore
  private transports = new Map<ConnId, Transport>()
  private timers = new Map<TimerId, unknown>()
  private queue: SessionInput[] = []
  private running = false
  private incomingIds = 0
  /** the connections the last stop asked to wait for (its `flush` effect) */
  private flush: ConnId[] | undefined

  constructor(opts: PeerOptions) {
    this.opts = opts
    this.core = new SessionCore({ fsm: opts.fsm, routes: opts.routes, maxPrefixes: opts.maxPrefixes, gracefulStop: opts.gracefulStop })
  }

  get state(): string { return this.core.state }
  get negotiated(): Negotiated | undefined { return this.core.negotiated }
  get establishedAt(): number | undefined { return this.core.establishedAt }
  get lastError(): string | undefined { return this.core.lastError }
  get prefixesSent(): number { return this.core.prefixesSent }
  get prefixesReceived(): number { return this.core.prefixesReceived }
  get updatesReceived(): number { return this.core.updatesReceived }
  get flaps(): number { return this.core.flaps }
  get notificationsReceived(): number { return this.core.notificationsReceived }

  start(): void {
    this.feed({ type: 'start' })
  }

  /**
   * Stop the session: Cease/Administrative Shutdown, or (gracefulStop) a silent close so the
   * peer keeps our routes for the restart time. `notify`: Cease even with gracefulStop.
   */
  async stop(message?: string, opts: { notify?: boolean } = {}): Promise<void> {
    this.feed({ type: 'stop', message, notify: opts.notify })
    const conns = this.takeFlush()
    if (!conns) return // a silent close: nothing to wait for
    const { clock } = this.opts
    const closed = conns.map((c) => this.transports.get(c)?.closed ?? Promise.resolve())
    let limit: unknown
    await Promise.race([Promise.all(closed), new Promise<void>((r) => { limit = clock.setTimeout(r, LINGER_MS) })])
    clock.clearTimeout(limit)
  }

  /**
   * End the session now for a reason outside BGP (BFD down: Cease subcode 10, RFC 9384); it
   * restarts by itself after the back-off, as after an error. Nothing happens in Idle.
   */
  automaticStop(subcode: number, reason: string): void {
    this.feed({ type: 'automatic-stop', subcode, reason })
  }

  /** Something changed in the routes: send the difference when Established. */
  routesChanged(): void {
    this.feed({ type: 'routes-changed' })
  }

  /** An incoming TCP connection from this peer's address (the listener checked the source). */
  incoming(socket: Socket): void {
    const conn = `in${++this.incomingIds}`
    this.track(conn, socket)
    this.feed({ type: 'opened', conn, direction: 'incoming', localAddress: socket.localAddress })
  }

  // ---- events in ----

  /** Run one event through the core and apply its effects; events raised meanwhile wait their turn. */
  private feed(ev: SessionInput): void {
    this.queue.push(ev)
    if (this.running) return
    this.running = true
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        for (const e of this.core.step({ ...next, now: this.opts.clock.now() })) this.apply(e)
      }
    } finally {
      this.running = false
    }
  }

  private track(conn: ConnId, socket: Socket): void {
    let resolve!: () => void
    const t: Transport = { socket, closed: new Promise<void>((r) => { resolve = r }) }
    this.transports.set(conn, t)
    socket.setNoDelay(true)
    socket.on('data', (bytes: Buffer) => this.feed({ type: 'received', conn, bytes }))
    socket.on('error', (e: Error) => { t.error = errnoOf(e) ?? e.message })
    socket.on('close', () => {
      this.transports.delete(conn)
      resolve()
      this.feed({ type: 'closed', conn, error: t.error })
    })
  }

  // ---- effects out ----

  private apply(e: SessionEffect): void {
    switch (e.type) {
      case 'connect': {
        const o = this.opts
        const socket = o.dialer.connect({ host: o.address, port: o.port, localAddress: o.localAddress, md5Key: o.md5Key, ...o.ttl })
        this.track(e.conn, socket)
        socket.once('connect', () => this.feed({ type: 'opened', conn: e.conn, direction: 'outgoing', localAddress: socket.localAddress }))
        return
      }
      case 'write': {
        const s = this.transports.get(e.conn)?.socket
        if (!s || s.destroyed || !s.writable) return // its 'close' tells the core
        if (s.write(e.bytes)) {
          if (e.awaitWritable) this.queue.unshift({ type: 'writable', conn: e.conn }) // next, as a loop would
        } else if (e.awaitWritable) {
          s.once('drain', () => this.feed({ type: 'writable', conn: e.conn }))
        }
        return
      }
      case 'close': {
        const s = this.transports.get(e.conn)?.socket
        if (!s || s.destroyed) return
        if (e.abort) {
          s.destroy()
          return
        }
        if (e.notification) s.end(e.notification)
        else s.end()
        this.opts.clock.setTimeout(() => s.destroy(), LINGER_MS)
        return
      }
      case 'set-timer': {
        this.clearTimer(e.timer)
        const h = this.opts.clock.setTimeout(() => {
          this.timers.delete(e.timer)
          this.feed({ type: 'timer', timer: e.timer })
        }, e.ms)
        this.timers.set(e.timer, h)
        return
      }
      case 'clear-timer':
        this.clearTimer(e.timer)
        return
      case 'log':
        this.opts.log[e.level]({ peer: this.opts.name, ...e.fields }, e.msg)
        return
      case 'status':
        return // read through state / status()
      case 'flush':
        this.flush = e.conns
        return
    }
  }

  private takeFlush(): ConnId[] | undefined {
    const conns = this.flush
    this.flush = undefined
    return conns
  }

  private clearTimer(id: TimerId): void {
    const h = this.timers.get(id)
    if (h === undefined) return
    this.opts.clock.clearTimeout(h)
    this.timers.delete(id)
  }

  status(): Omit<PeerStatus, 'prefixesSent' | 'ecmp'> {
    const n = this.negotiated
    const now = this.opts.clock.now()
    const at = this.establishedAt
    return {
      name: this.opts.name,
      address: this.opts.address,
      peerAs: this.opts.fsm.remoteAs,
      state: this.state,
      uptimeSeconds: at !== undefined ? Math.round((now - at) / 1000) : undefined,
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
