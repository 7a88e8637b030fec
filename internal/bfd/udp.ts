// The thin I/O around BFD sessions (session.ts): RFC 5881 single-hop BFD over UDP.
//   - one receiving socket per address family on port 3784 (wildcard address), with a kernel
//     filter that keeps only packets that arrived with TTL / hop limit 255 (RFC 5881 section 5,
//     GTSM): internal/sys attachTtlFilter, as Node's dgram cannot show the received TTL;
//   - one sending socket per session, bound to a source port from 49152-65535 (the same for the
//     session's life, RFC 5881 section 4), TTL / hop limit 255;
//   - demultiplexing (RFC 5880 section 6.8.6): by Your Discriminator when nonzero, else by the
//     source address; either way the source must be the session's peer (single hop); a packet
//     from an address without a session starts one only when the acceptor (setAcceptor) says so;
//   - the clock's timers for the sessions' `tx` / `detect` timers.
import dgram from 'node:dgram'
import type { Logger } from 'pino'
import { realClock, type Clock, errnoOf } from '../base/index.ts'
import { PorterError } from '../errors/index.ts'
import { attachTtlFilter, datagramFd } from '../sys/index.ts'
import { isIP, normalizeAddress } from '../ip/index.ts'
import { BFD_PORT, BfdWireError, SOURCE_PORT_MAX, SOURCE_PORT_MIN, decode, encode, type ControlPacket } from './packet.ts'
import { checkAuth, checkReceived, signPacket, type AuthRxState, type BfdAuth } from './auth.ts'
import { BfdSession, type BfdEffect, type BfdSessionStatus, type BfdTimer, type BfdTimers, type StateChange } from './session.ts'

export interface BfdPeerOptions extends BfdTimers {
  /** the router's address */
  address: string
  /** our source address (else the kernel's choice for the route to the peer) */
  localAddress?: string
  /** the peer's receiving port (default: the service's peerPort, 3784) */
  port?: number
  /** every state change (isPathFailure() tells a client whether to act) */
  onState?: (change: StateChange) => void
  /** RFC 5880 Keyed / Meticulous Keyed SHA1: every packet signed, every packet from the peer checked */
  auth?: BfdAuth
}

export interface BfdServiceDeps {
  log: Logger
  clock?: Clock
  random?: () => number
  /** the receiving port (RFC 5881: 3784; tests use another) */
  port?: number
  /** the destination port of our packets (the peer's receiving port; 3784) */
  peerPort?: number
}

const GTSM_TTL = 255

interface Entry {
  key: string
  address: string
  opts: BfdPeerOptions
  session: BfdSession
  socket: dgram.Socket
  sourcePort: number
  timers: Map<BfdTimer, unknown>
  closed: boolean
  /** sends not yet handed to the kernel (the socket closes after the last) */
  pending: number
  /** with opts.auth: our next sequence number, the peer's last one, when a packet last passed */
  txSeq: number
  rxAuth: AuthRxState
  rxAt: number
}

const normalize = normalizeAddress

/**
 * Whether to start a session with an unknown source that sent a first packet (`packet`, as
 * received: an acceptor with authentication takes only one that verifies): its key and options,
 * or undefined (dropped).
 */
export type BfdAcceptor = (source: string, packet: Uint8Array) => ({ key: string } & Omit<BfdPeerOptions, 'address'>) | undefined

/** All BFD sessions of a process: `add` a peer, read its status, `remove` it. */
export class BfdService {
  private readonly log: Logger
  private readonly clock: Clock
  private readonly random: () => number
  private readonly port: number
  private readonly peerPort: number
  private receivers = new Map<4 | 6, Promise<dgram.Socket>>()
  private byDiscr = new Map<number, Entry>()
  private byAddress = new Map<string, Entry>()
  private byKey = new Map<string, Entry>()
  private acceptor: BfdAcceptor | undefined
  /** sources whose accepted session is being opened */
  private accepting = new Set<string>()
  /** packets nobody took: no session for the source, or undecodable */
  dropped = 0
  lastDropped: string | undefined

  constructor(deps: BfdServiceDeps) {
    this.log = deps.log
    this.clock = deps.clock ?? realClock
    this.random = deps.random ?? Math.random
    this.port = deps.port ?? BFD_PORT
    this.peerPort = deps.peerPort ?? BFD_PORT
  }

  /** Start a session with `opts.address`, named `key` (the BGP peer's name). */
  async add(key: string, opts: BfdPeerOptions): Promise<void> {
    const address = normalize(opts.address)
    const family = isIP(address)
    if (family === 0) throw new PorterError('PORTER_ERR_BFD_SOCKET', `Cannot run BFD with ${JSON.stringify(opts.address)}: not an IP address`)
    if (this.byKey.has(key)) throw new PorterError('PORTER_ERR_INTERNAL', `BFD session ${JSON.stringify(key)} exists already`)
    if (this.byAddress.has(address)) throw new PorterError('PORTER_ERR_BFD_SOCKET', `Cannot run two BFD sessions with ${address} (single hop: one per peer address)`)
    if (opts.auth) {
      try {
        checkAuth(opts.auth)
      } catch (err) {
        throw new PorterError('PORTER_ERR_CONFIG_INVALID', `Cannot run BFD with ${address}: ${(err as Error).message}`)
      }
    }
    await this.receiver(family === 4 ? 4 : 6)
    const { socket, port } = await this.sender(family === 4 ? 4 : 6, opts.localAddress)
    const session = new BfdSession({
      localDiscr: this.newDiscriminator(), desiredMinTx: opts.desiredMinTx, requiredMinRx: opts.requiredMinRx,
      detectMult: opts.detectMult, clock: this.clock, random: this.random,
    })
    const e: Entry = {
      key, address, opts, session, socket, sourcePort: port, timers: new Map(), closed: false, pending: 0,
      txSeq: Math.floor(this.random() * 0x100000000) >>> 0, rxAuth: { known: false, seq: 0 }, rxAt: 0,
    }
    this.byKey.set(key, e)
    this.byAddress.set(address, e)
    this.byDiscr.set(session.localDiscr, e)
    this.log.info({ peer: key, address, sourcePort: port, discriminator: session.localDiscr, minTxMs: opts.desiredMinTx / 1000, minRxMs: opts.requiredMinRx / 1000, multiplier: opts.detectMult }, 'BFD session starting')
    this.step(e, { type: 'start' })
  }

  /** Stop (one AdminDown packet) and forget the session. */
  remove(key: string): void {
    const e = this.byKey.get(key)
    if (!e) return
    this.step(e, { type: 'stop' })
    e.closed = true
    for (const h of e.timers.values()) this.clock.clearTimeout(h)
    this.byKey.delete(key)
    this.byAddress.delete(e.address)
    this.byDiscr.delete(e.session.localDiscr)
    if (e.pending === 0) e.socket.close() // else after the AdminDown packet is out
  }

  /** New timers for a running session (a Poll Sequence when Up, RFC 5880 6.8.3). False: no such session. */
  configure(key: string, timers: BfdTimers): boolean {
    const e = this.byKey.get(key)
    if (!e) return false
    e.opts = { ...e.opts, ...timers }
    this.step(e, { type: 'configure', timers })
    return true
  }

  status(key: string): (BfdSessionStatus & { sourcePort: number }) | undefined {
    const e = this.byKey.get(key)
    return e && { ...e.session.status(), sourcePort: e.sourcePort }
  }

  has(key: string): boolean {
    return this.byKey.has(key)
  }

  /** Passive sessions: an unknown source whose first packet (Your Discriminator 0) the acceptor takes gets one. */
  setAcceptor(acceptor: BfdAcceptor | undefined): void {
    this.acceptor = acceptor
  }

  /** Open the family's receiving socket without a session (for the acceptor). */
  async listen(family: 4 | 6): Promise<void> {
    await this.receiver(family)
  }

  /** The keys of every session */
  keys(): string[] {
    return [...this.byKey.keys()]
  }

  async stop(): Promise<void> {
    for (const k of [...this.byKey.keys()]) this.remove(k)
    const rx = await Promise.allSettled(this.receivers.values())
    this.receivers.clear()
    for (const r of rx) if (r.status === 'fulfilled') r.value.close()
  }

  // ---- sessions ----

  private step(e: Entry, ev: Parameters<BfdSession['step']>[0]): void {
    if (e.closed) return
    for (const x of e.session.step(ev)) this.apply(e, x)
  }

  private apply(e: Entry, x: BfdEffect): void {
    switch (x.type) {
      case 'send': {
        let bytes = encode(x.packet)
        if (e.opts.auth) {
          bytes = signPacket(bytes, e.opts.auth, e.txSeq)
          e.txSeq = (e.txSeq + 1) >>> 0 // a new one each packet: what Meticulous needs, Keyed allows
        }
        e.pending++
        e.socket.send(bytes, e.opts.port ?? this.peerPort, e.address, (err) => {
          if (err) this.log.debug({ peer: e.key, error: errnoOf(err) ?? err.message }, 'BFD send failed')
          if (--e.pending === 0 && e.closed) e.socket.close()
        })
        return
      }
      case 'set-timer': {
        this.clock.clearTimeout(e.timers.get(x.timer))
        e.timers.set(x.timer, this.clock.setTimeout(() => {
          e.timers.delete(x.timer)
          this.step(e, { type: 'timer', timer: x.timer })
        }, x.ms))
        return
      }
      case 'clear-timer':
        this.clock.clearTimeout(e.timers.get(x.timer))
        e.timers.delete(x.timer)
        return
      case 'state': {
        const st = e.session.status()
        const level = x.to === 'Up' || x.from === 'Up' ? 'info' : 'debug'
        this.log[level]({ peer: e.key, address: e.address, from: x.from, to: x.to, diag: st.diag, remoteState: x.remoteState, remoteDiag: st.remoteDiag, detectTimeMs: st.detectTimeMs }, `BFD session ${x.to}`)
        try {
          e.opts.onState?.(x)
        } catch (err) {
          this.log.error({ peer: e.key, error: String((err as Error)?.stack ?? err) }, 'BFD state handler failed')
        }
        return
      }
      case 'discard':
        this.log.debug({ peer: e.key, reason: x.reason }, 'BFD packet discarded')
        return
    }
  }

  private newDiscriminator(): number {
    for (;;) {
      const d = 1 + Math.floor(this.random() * 0xfffffffe)
      if (!this.byDiscr.has(d)) return d
    }
  }

  // ---- sockets ----

  private onMessage(msg: Buffer, from: dgram.RemoteInfo): void {
    const src = normalize(from.address)
    let packet
    try {
      packet = decode(msg)
    } catch (err) {
      if (!(err instanceof BfdWireError)) throw err
      return this.drop(`from ${src}: ${err.message}`)
    }
    const e = packet.yourDiscr !== 0 ? this.byDiscr.get(packet.yourDiscr) : this.byAddress.get(src)
    if (!e && packet.yourDiscr === 0 && this.accept(src, packet, msg)) return
    if (!e) return this.drop(`from ${src}: no BFD session for ${packet.yourDiscr !== 0 ? `Your Discriminator ${packet.yourDiscr}` : 'this address'}`)
    if (e.address !== src) return this.drop(`from ${src}: Your Discriminator ${packet.yourDiscr} belongs to peer ${e.address}`)
    if (!this.authentic(e, msg, src)) return
    this.step(e, { type: 'received', packet })
  }

  /**
   * RFC 5880 6.8.6: with authentication, only a packet that verifies (type, key ID, sequence
   * number, digest); without, none with the A bit. The peer's sequence is forgotten after 2 x the
   * detection time without a good packet (it may have restarted from another number).
   */
  private authentic(e: Entry, msg: Uint8Array, src: string): boolean {
    const a = e.opts.auth
    const now = this.clock.now()
    if (a && e.rxAuth.known && now - e.rxAt > 2 * Math.max(e.session.status().detectTimeMs, 1000)) e.rxAuth = { known: false, seq: 0 }
    const v = checkReceived(msg, a, e.rxAuth)
    if (!v.ok) { this.drop(`from ${src}: ${a ? 'BFD authentication failed: ' : ''}${v.reason}`); return false }
    if (v.seq !== undefined) {
      e.rxAuth = { known: true, seq: v.seq }
      e.rxAt = now
    }
    return true
  }

  /** An accepted source: open its session, then hand it the packet that asked. False: not accepted. */
  private accept(src: string, packet: ControlPacket, msg: Uint8Array): boolean {
    const opts = this.acceptor?.(src, msg)
    if (!opts) return false
    if (this.accepting.has(src)) return true
    this.accepting.add(src)
    const { key, ...rest } = opts
    this.add(key, { ...rest, address: src })
      .then(() => { const e = this.byAddress.get(src); if (e && this.authentic(e, msg, src)) this.step(e, { type: 'received', packet }) })
      .catch((err: Error) => this.log.warn({ peer: key, address: src, error: err.message }, 'BFD could not accept this peer'))
      .finally(() => this.accepting.delete(src))
    return true
  }

  private drop(why: string): void {
    this.dropped++
    this.lastDropped = why
    this.log.debug({ dropped: this.dropped }, `BFD packet dropped ${why}`)
  }

  /** The family's socket on port 3784, with the TTL 255 filter (opened on first use). */
  private receiver(family: 4 | 6): Promise<dgram.Socket> {
    let p = this.receivers.get(family)
    if (!p) {
      p = this.open(family, family === 4 ? '0.0.0.0' : '::', this.port).then((s) => {
        s.on('message', (m, r) => this.onMessage(m, r))
        this.log.info({ port: this.port, family: `IPv${family}`, ttl: GTSM_TTL }, 'BFD listening')
        return s
      })
      this.receivers.set(family, p)
      p.catch(() => this.receivers.delete(family))
    }
    return p
  }

  /** A sending socket on a free port of 49152-65535 (random first, then upwards). */
  private async sender(family: 4 | 6, localAddress: string | undefined): Promise<{ socket: dgram.Socket; port: number }> {
    const span = SOURCE_PORT_MAX - SOURCE_PORT_MIN + 1
    const first = Math.floor(this.random() * span)
    let last: unknown
    for (let i = 0; i < 64; i++) {
      const port = SOURCE_PORT_MIN + ((first + i * 7919) % span)
      try {
        return { socket: await this.open(family, localAddress ?? (family === 4 ? '0.0.0.0' : '::'), port), port }
      } catch (e) {
        last = e
        if (errnoOf((e as Error).cause) !== 'EADDRINUSE') throw e
      }
    }
    throw last
  }

  private open(family: 4 | 6, address: string, port: number): Promise<dgram.Socket> {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 })
      const fail = (e: Error) => {
        s.close()
        reject(new PorterError('PORTER_ERR_BFD_SOCKET', `Cannot open the BFD socket on ${address} port ${port}: ${errnoOf(e) ?? e.message}${
          errnoOf(e) === 'EADDRINUSE' && port === BFD_PORT ? ' (another BFD daemon, such as bfdd or bird with "protocol bfd", listens on this host)' : ''}`, { cause: e }))
      }
      s.once('error', fail)
      s.bind({ address, port, exclusive: true }, () => {
        s.removeListener('error', fail)
        s.on('error', (e) => this.log.warn({ port, error: errnoOf(e) ?? e.message }, 'BFD socket error'))
        try {
          s.setTTL(GTSM_TTL)
          attachTtlFilter(datagramFd(s), GTSM_TTL)
        } catch (e) {
          s.close()
          return reject(e)
        }
        resolve(s)
      })
    })
  }
}
