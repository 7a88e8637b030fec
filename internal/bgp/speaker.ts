// The declarative seam of controller mode: `speaker.set(advertisements)` takes the full desired
// set (prefix, next hops, attributes) for all peers; each peer's Adj-RIB-Out sends only the
// difference. Owns the listener (only configured neighbours are accepted) and the peers.
import type { BfdPeerStatus, PeerStatus } from '../admin/status.ts'
import { BfdService, bfdStatusView, diagName, isPathFailure, wireTimers, type BfdAuth } from '../bfd/index.ts'
import { createServer, type Server, type Socket } from 'node:net'
import { connectTcp, setSocketTtl, setTcpMd5, socketFamily, socketFd } from '../sys/index.ts'
import { normalizeAddress } from '../ip/index.ts'
import type { Logger } from 'pino'
import { isDeepStrictEqual } from 'node:util'
import { PorterError } from '../errors/index.ts'
import { fsmConfig } from './fsm/index.ts'
import { CeaseSubcode, makeCapabilities, type FamilyKey } from './wire/index.ts'
import { PeerRoutes, PeerSession, type Advertisement, type AdvertisementBatch, type Dialer, type PeerExport } from './session/index.ts'
import { errnoOf, isErrno, realClock, sleep, type Clock } from '../base/index.ts'
import { GTSM_TTL, sessionTtl } from './ttl.ts'

export type { Advertisement, AdvertisementBatch } from './session/index.ts'

/** What set() takes: single advertisements and batches (many prefixes, one next-hop set) */
export type Advert = Advertisement | AdvertisementBatch

export interface SpeakerPeerConfig {
  name: string
  address: string
  peerAs: number
  port: number
  passive: boolean
  holdTime: number
  connectRetry: number
  families?: FamilyKey[]
  addPath: boolean
  maxPrefixes?: number
  nextHop: 'as-given' | 'self'
  localAddress?: string
  md5Key?: Uint8Array
  /** eBGP: TTL of our packets (default 1); see ./ttl.ts */
  ebgpMultihop?: number
  /** GTSM (RFC 5082): send 255, accept 254 and above */
  ttlSecurity?: boolean
  /** BFD with the peer (milliseconds): BFD down after Up closes the session at once; `auth`: SHA1 (RFC 5880) */
  bfd?: { minTx: number; minRx: number; multiplier: number; auth?: BfdAuth }
  export: PeerExport
}

export interface SpeakerConfig {
  localAs: number
  routerId: string
  listenAddress: string
  listenPort: number
  gracefulRestart: { enabled: boolean; restartTime: number }
  /** RFC 8326 on stop(): GRACEFUL_SHUTDOWN on every route, wait `waitMs`, withdraw all, Cease (0: withdraw at once, Cease) */
  gracefulShutdown?: { waitMs: number }
  peers: SpeakerPeerConfig[]
}

/** after a graceful shutdown's wait: how long stop() waits for the withdrawals to be written */
const WITHDRAW_FLUSH_MS = 1500

export interface SpeakerDeps {
  log: Logger
  clock?: Clock
  dialer?: Dialer
  /** the BFD sessions (made on the first peer with BFD when absent) */
  bfd?: BfdService
}

/** Normalise an address for peer lookup ("::ffff:192.0.2.1" -> "192.0.2.1", lower-case IPv6). */
export { normalizeAddress }

const familyOf = (prefix: string): FamilyKey => (prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast')

const tcpDialer: Dialer = {
  // the MD5 key and the TTL options are on the socket before its first SYN (RFC 2385, RFC 5082);
  // without them connectTcp is a plain net.connect
  connect: ({ host, port, localAddress, md5Key, ttl, minTtl }) => connectTcp({ host, port, localAddress, key: md5Key, ttl, minTtl }),
}

interface PeerEntry {
  cfg: SpeakerPeerConfig
  session: PeerSession
  routes: PeerRoutes
  /** BFD being started (cfg.bfd) */
  bfdStarted?: Promise<void>
  bfdError?: string
}

export class Speaker {
  private readonly log: Logger
  private readonly clock: Clock
  private readonly dialer: Dialer
  private bfd: BfdService | undefined
  private cfg: SpeakerConfig
  private server: Server | undefined
  private peers = new Map<string, PeerEntry>()
  private desired: readonly Advert[] = []
  private filters: ReadonlyMap<string, ReadonlySet<string>> = new Map()
  /** stop() began: set() changes nothing (a graceful shutdown is withdrawing everything) */
  private stopping = false
  refusedConnections = 0
  lastRefused: string | undefined

  constructor(cfg: SpeakerConfig, deps: SpeakerDeps) {
    this.cfg = cfg
    this.log = deps.log
    this.clock = deps.clock ?? realClock
    this.dialer = deps.dialer ?? tcpDialer
    this.bfd = deps.bfd
  }

  /** Bind the listener (unless listenPort is 0) and start every peer. */
  async start(): Promise<void> {
    if (this.cfg.listenPort !== 0) await this.listen()
    for (const p of this.cfg.peers) this.addPeer(p)
  }

  get port(): number | undefined {
    const a = this.server?.address()
    return a && typeof a === 'object' ? a.port : undefined
  }

  private listen(): Promise<void> {
    const { listenAddress, listenPort } = this.cfg
    const server = createServer({ noDelay: true, pauseOnConnect: false }, (sock) => this.accept(sock))
    return new Promise((resolve, reject) => {
      server.once('error', (e: Error) => {
        const hint = isErrno(e, 'EADDRINUSE') ? ': another BGP daemon (bird, frr, gobgpd) or porter is using it; stop it or set bgp.listenPort'
          : isErrno(e, 'EACCES') ? ': binding a port below 1024 needs root or CAP_NET_BIND_SERVICE'
          : isErrno(e, 'EADDRNOTAVAIL') ? ': the address is not on this host; fix bgp.listenAddress' : ''
        reject(new PorterError('PORTER_ERR_BGP_LISTEN', `Cannot listen for BGP on ${listenAddress} port ${listenPort}: ${errnoOf(e)}${hint}`, { cause: e }))
      })
      server.listen({ host: listenAddress, port: listenPort, ipv6Only: false }, () => {
        server.removeAllListeners('error')
        server.on('error', (e) => this.log.error({ error: e.message }, 'BGP listener error'))
        this.server = server
        try {
          this.applyListenerKeys(this.cfg.peers, [])
        } catch (e) {
          server.close()
          this.server = undefined
          return reject(e)
        }
        this.log.info({ address: listenAddress, port: this.port }, 'BGP listening')
        resolve()
      })
    })
  }

  /**
   * TCP MD5 keys on the listening socket, so accepted sessions from keyed peers are signed; with
   * a GTSM peer, TTL 255 on it too, so the SYN-ACK already passes the peer's check.
   */
  private applyListenerKeys(peers: readonly SpeakerPeerConfig[], old: readonly SpeakerPeerConfig[]): void {
    if (!this.server) return
    const fd = socketFd(this.server)
    if (peers.some((p) => p.ttlSecurity)) {
      setSocketTtl(fd, { ttl: GTSM_TTL }, 4)
      if (socketFamily(fd) === 6) setSocketTtl(fd, { ttl: GTSM_TTL }, 6)
    }
    const want = new Set(peers.filter((p) => p.md5Key).map((p) => normalizeAddress(p.address)))
    for (const p of old) if (p.md5Key && !want.has(normalizeAddress(p.address))) setTcpMd5(fd, p.address, undefined)
    for (const p of peers) if (p.md5Key) setTcpMd5(fd, p.address, p.md5Key)
  }

  private accept(sock: Socket): void {
    const from = normalizeAddress(sock.remoteAddress ?? '')
    const entry = this.peers.get(from)
    if (!entry) {
      this.refusedConnections++
      this.lastRefused = from
      this.log.warn({ from, refused: this.refusedConnections }, 'connection from an unconfigured address refused')
      sock.destroy()
      return
    }
    const ttl = sessionTtl(this.cfg.localAs, entry.cfg)
    if (ttl.ttl !== undefined || ttl.minTtl !== undefined) {
      try {
        setSocketTtl(socketFd(sock), ttl, from.includes(':') ? 6 : 4)
      } catch (e) {
        this.log.error({ peer: entry.cfg.name, error: (e as Error).message }, 'cannot set the TTL of an accepted connection; closed')
        sock.destroy()
        return
      }
    }
    entry.session.incoming(sock)
  }

  private addPeer(p: SpeakerPeerConfig): void {
    const families = p.families ?? (['ipv4-unicast', 'ipv6-unicast'] as FamilyKey[])
    const gr = this.cfg.gracefulRestart
    const caps = makeCapabilities({
      asn: this.cfg.localAs, families, addPath: p.addPath ? 'send' : undefined, extendedMessage: true,
      gracefulRestart: gr.enabled ? { restartTime: gr.restartTime, forwardingPreserved: families } : undefined,
    })
    const fsm = fsmConfig({
      localAs: this.cfg.localAs, remoteAs: p.peerAs, routerId: this.cfg.routerId, holdTime: p.holdTime,
      connectRetryTime: p.connectRetry, passive: p.passive, capabilities: caps,
    })
    const routes = new PeerRoutes({
      localAs: this.cfg.localAs, peerAs: p.peerAs, nextHop: p.nextHop, export: p.export, addPath: p.addPath,
      onEcmpUnavailable: ({ addPathTx, singlePathPrefixes }) => this.log.warn({ peer: p.name, addPathTx, singlePathPrefixes },
        `ECMP unavailable with peer ${p.name}: it did not negotiate ADD-PATH receive, so ${singlePathPrefixes} prefix(es) with several next hops are sent with one next hop each; enable ADD-PATH receive on the router (BIRD: "add paths rx")`),
    })
    routes.set(this.routesFor(p))
    const session = new PeerSession({
      name: p.name, address: p.address, port: p.port, localAddress: p.localAddress, md5Key: p.md5Key, ttl: sessionTtl(this.cfg.localAs, p), maxPrefixes: p.maxPrefixes,
      fsm, clock: this.clock, log: this.log, dialer: this.dialer, routes, gracefulStop: this.cfg.gracefulRestart.enabled,
    })
    const key = normalizeAddress(p.address)
    const entry: PeerEntry = { cfg: p, session, routes }
    this.peers.set(key, entry)
    session.start()
    if (p.bfd) entry.bfdStarted = this.startBfd(key, entry, p.bfd)
  }

  /** BFD with the peer; when it goes Down after Up (not AdminDown, RFC 5882 3.2) the session ends at once. */
  private async startBfd(key: string, e: PeerEntry, b: NonNullable<SpeakerPeerConfig['bfd']>): Promise<void> {
    this.bfd ??= new BfdService({ log: this.log, clock: this.clock })
    try {
      await this.bfd.add(key, {
        address: e.cfg.address, localAddress: e.cfg.localAddress,
        ...wireTimers(b), ...(b.auth ? { auth: b.auth } : {}),
        onState: (c) => {
          if (isPathFailure(c) && this.peers.get(key) === e) e.session.automaticStop(CeaseSubcode.BFD_DOWN, `BFD session down: ${diagName(c.diag)}`)
        },
      })
    } catch (err) {
      e.bfdError = (err as Error).message
      this.log.error({ peer: e.cfg.name, error: e.bfdError }, 'BFD could not start for this peer: the BGP session runs without it')
    }
  }

  private async stopBfd(key: string, e: PeerEntry): Promise<void> {
    if (!e.bfdStarted) return
    await e.bfdStarted
    this.bfd?.remove(key)
  }

  /** Only the peer's BFD settings changed: start, stop, or new timers (a Poll Sequence when Up). */
  private async changeBfd(key: string, e: PeerEntry, next: SpeakerPeerConfig): Promise<void> {
    const was = e.cfg.bfd
    e.cfg = next
    // the key is never logged: its type and ID only
    const shown = next.bfd ? { ...next.bfd, auth: next.bfd.auth ? { type: next.bfd.auth.type, keyId: next.bfd.auth.keyId } : undefined } : 'off'
    this.log.info({ peer: next.name, bfd: shown }, 'peer BFD settings changed (the BGP session stays)')
    if (was && next.bfd && e.bfdStarted && isDeepStrictEqual(was.auth, next.bfd.auth)) {
      await e.bfdStarted
      if (this.bfd?.configure(key, wireTimers(next.bfd))) return
      e.bfdStarted = e.bfdError = undefined // it had not started: try again with the new settings
    }
    if (was) {
      await this.stopBfd(key, e)
      e.bfdStarted = e.bfdError = undefined
    }
    if (next.bfd) e.bfdStarted = this.startBfd(key, e, next.bfd)
  }

  /** The full desired set of advertisements for all peers (ignored once stop() began: it withdraws). */
  set(advs: readonly Advert[]): void {
    if (this.stopping) return
    this.desired = advs
    for (const e of this.peers.values()) this.pushTo(e)
  }

  /**
   * Per-peer next-hop filters by peer name (Kubernetes BgpPeer.nodeSelector): such a peer gets
   * only the next hops in its set. Peers without an entry get all. Sessions are not reset.
   */
  setNextHopFilters(filters: ReadonlyMap<string, ReadonlySet<string>>): void {
    const changed = [...this.peers.values()].filter((e) => !sameFilter(this.filters.get(e.cfg.name), filters.get(e.cfg.name)))
    this.filters = filters
    for (const e of changed) this.pushTo(e)
  }

  private routesFor(p: SpeakerPeerConfig): Advert[] {
    const fams = p.families ?? ['ipv4-unicast', 'ipv6-unicast']
    const both = fams.includes('ipv4-unicast') && fams.includes('ipv6-unicast')
    const filter = this.filters.get(p.name)
    const out: Advert[] = []
    for (let a of this.desired) {
      if ('prefixes' in a) {
        // a batch: its prefixes of the peer's families (the same batch when that is all of them)
        if (!both && a.prefixes.some((x) => !fams.includes(familyOf(x)))) {
          const prefixes = a.prefixes.filter((x) => fams.includes(familyOf(x)))
          if (prefixes.length === 0) continue
          a = { ...a, prefixes }
        }
      } else if (!fams.includes(familyOf(a.prefix))) continue
      if (!filter) { out.push(a); continue }
      const nextHops = a.nextHops.filter((n) => filter.has(n))
      if (nextHops.length) out.push(nextHops.length === a.nextHops.length ? a : { ...a, nextHops })
    }
    return out
  }

  private pushTo(e: PeerEntry): void {
    e.routes.set(this.routesFor(e.cfg))
    e.session.routesChanged()
  }

  /** Apply a new speaker config: unchanged peers keep their sessions; changed ones are reset. */
  async reconfigure(next: SpeakerConfig): Promise<void> {
    const globalChanged = next.localAs !== this.cfg.localAs || next.routerId !== this.cfg.routerId ||
      !isDeepStrictEqual(next.gracefulRestart, this.cfg.gracefulRestart)
    const listenChanged = next.listenAddress !== this.cfg.listenAddress || next.listenPort !== this.cfg.listenPort
    if (listenChanged) {
      await this.closeListener()
      this.cfg = next
      if (next.listenPort !== 0) await this.listen()
    }
    if (!listenChanged) this.applyListenerKeys(next.peers, [...this.peers.values()].map((e) => e.cfg))
    this.cfg = next
    const wanted = new Map(next.peers.map((p) => [normalizeAddress(p.address), p]))
    for (const [addr, e] of [...this.peers]) {
      const w = wanted.get(addr)
      if (!w || globalChanged || !samePeer({ ...w, bfd: undefined }, { ...e.cfg, bfd: undefined })) {
        this.log.info({ peer: e.cfg.name }, w ? 'peer definition changed: resetting its session' : 'peer removed')
        await e.session.stop(w ? 'configuration changed' : 'peer de-configured')
        await this.stopBfd(addr, e)
        this.peers.delete(addr)
      } else if (!isDeepStrictEqual(w.bfd, e.cfg.bfd)) {
        await this.changeBfd(addr, e, w) // the BGP session stays
      }
    }
    for (const [addr, p] of wanted) if (!this.peers.has(addr)) this.addPeer(p)
  }

  /** Stop listening. Accepted sessions are not waited for: they belong to their peers. */
  private async closeListener(): Promise<void> {
    this.server?.close()
    this.server = undefined
  }

  /**
   * Stop every session. With gracefulShutdown (RFC 8326) the peers first get every route again
   * with GRACEFUL_SHUTDOWN, then, after the wait, the withdrawals, then Cease (not the silent
   * close of graceful restart: they must not keep routes we took away).
   */
  async stop(): Promise<void> {
    this.stopping = true
    await this.closeListener()
    const gs = this.cfg.gracefulShutdown
    if (gs) await this.withdrawGracefully(gs.waitMs)
    await Promise.all([...this.peers.values()].map((e) => e.session.stop('porter shutting down', { notify: gs !== undefined })))
    await Promise.all([...this.peers].map(([k, e]) => this.stopBfd(k, e))) // AdminDown: not a path failure for the router
    await this.bfd?.stop()
  }

  /** `waitMs` 0: withdraw at once (no GRACEFUL_SHUTDOWN step) */
  private async withdrawGracefully(waitMs: number): Promise<void> {
    const up = [...this.peers.values()].filter((e) => e.session.negotiated !== undefined)
    if (up.length === 0) return // no peer has a route: the sessions just close
    if (waitMs > 0) {
      for (const e of this.peers.values()) { // a session coming up during the wait gets them tagged too
        e.routes.setGracefulShutdown(true)
        e.session.routesChanged()
      }
      this.log.info({ peers: up.map((e) => e.cfg.name), waitMs }, 'graceful shutdown (RFC 8326): routes re-announced with GRACEFUL_SHUTDOWN; they are withdrawn after the wait')
      await sleep(this.clock, waitMs)
    }
    this.desired = []
    for (const e of this.peers.values()) this.pushTo(e)
    const deadline = this.clock.now() + WITHDRAW_FLUSH_MS
    const left = () => up.filter((e) => e.session.negotiated !== undefined && e.routes.sentCount > 0)
    while (left().length > 0 && this.clock.now() < deadline) await sleep(this.clock, 10)
    const late = left().map((e) => e.cfg.name)
    if (late.length) this.log.warn({ peers: late }, 'graceful shutdown: some withdrawals were not written in time; these sessions close anyway')
    else this.log.info({ peers: up.map((e) => e.cfg.name) }, 'graceful shutdown: every route withdrawn')
  }

  peerSessions(): PeerSession[] {
    return [...this.peers.values()].map((e) => e.session)
  }

  /** Per peer (name), the next hops it has for `prefix` (canonical; [] none, e.g. no session). */
  sentTo(prefix: string): { peer: string; nextHops: string[] }[] {
    return [...this.peers.values()].map((e) => ({ peer: e.cfg.name, nextHops: e.routes.sentNextHops(prefix) }))
  }

  status(): PeerStatus[] {
    return [...this.peers].map(([k, e]) => ({
      ...e.session.status(),
      prefixesSent: e.routes.sentCount,
      ecmp: ecmpStatus(e),
      ...(e.cfg.bfd ? { bfd: this.bfdStatus(k, e) } : {}),
    }))
  }

  private bfdStatus(key: string, e: PeerEntry): BfdPeerStatus {
    return bfdStatusView(this.bfd?.status(key), this.clock.now(), e.bfdError)
  }
}

function ecmpStatus(e: PeerEntry): string | undefined {
  const n = e.session.negotiated
  if (!n) return undefined
  if (!e.cfg.addPath) return 'off (addPath: false)'
  const st = e.routes.status()
  if (st.ecmpUnavailable) return `unavailable: no ADD-PATH with this peer, ${st.singlePathPrefixes} prefix(es) sent with one next hop`
  return n.codec.addPathTx.size > 0 ? 'add-path' : 'unavailable: the peer does not receive ADD-PATH'
}

function sameFilter(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.size === b.size && [...a].every((x) => b.has(x))
}

/**
 * Structural equality: an MD5 key compares by its bytes (whatever buffer type holds it), and a
 * field set to undefined equals a field left out (the config file's and the CRDs' builders differ).
 */
function samePeer(a: SpeakerPeerConfig, b: SpeakerPeerConfig): boolean {
  const norm = (p: SpeakerPeerConfig) => Object.fromEntries(Object.entries({ ...p, md5Key: p.md5Key ? Buffer.from(p.md5Key).toString('hex') : undefined }).filter(([, v]) => v !== undefined))
  return isDeepStrictEqual(norm(a), norm(b))
}

