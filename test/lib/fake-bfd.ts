// A fake BfdService (the BfdPort of internal/bfd/peers.ts) for tests: records what is added,
// removed and retimed, and lets a test move a session's state and see every client react.
import type { BfdAcceptor, BfdPort, BfdPeerOptions, BfdSessionStatus, BfdState, BfdTimers } from '../../internal/bfd/index.ts'
import { Diag, diagName, encode } from '../../internal/bfd/index.ts'

/** a controller's first packet: Down, Your Discriminator 0 */
const FIRST = encode({ diag: 0, state: 'Down', poll: false, final: false, cpi: false, demand: false, detectMult: 3, myDiscr: 7, yourDiscr: 0, desiredMinTx: 1_000_000, requiredMinRx: 100_000, requiredMinEchoRx: 0 })

interface FakeSession { opts: BfdPeerOptions; state: BfdState; remoteState: BfdState; diag: number; downs: number }

export class FakeBfd implements BfdPort {
  sessions = new Map<string, FakeSession>()
  calls: string[] = []
  /** addresses whose add() fails */
  failing = new Set<string>()
  stopped = false
  acceptor: BfdAcceptor | undefined

  setAcceptor(a: BfdAcceptor | undefined): void {
    this.acceptor = a
  }

  /** families the receiving socket was opened for */
  listening = new Set<4 | 6>()
  async listen(family: 4 | 6): Promise<void> {
    this.listening.add(family)
  }

  /** A first packet (default: unauthenticated) from `source` without a session: true when the acceptor took it (session added). */
  async offer(source: string, packet: Uint8Array = FIRST): Promise<boolean> {
    const o = this.acceptor?.(source, packet)
    if (!o) return false
    const { key, ...rest } = o
    await this.add(key, { ...rest, address: source })
    return true
  }

  async add(key: string, opts: BfdPeerOptions): Promise<void> {
    await Promise.resolve() // opening sockets takes a turn
    if (this.sessions.has(key)) throw new Error(`BFD session ${JSON.stringify(key)} exists already`)
    if (this.failing.has(opts.address)) throw new Error('Cannot open the BFD socket: EADDRINUSE')
    this.calls.push(`add ${key} tx=${opts.desiredMinTx} rx=${opts.requiredMinRx} x${opts.detectMult}${opts.localAddress ? ` from ${opts.localAddress}` : ''}${opts.port && opts.port !== 3784 ? ` to port ${opts.port}` : ''}${opts.auth ? ` auth ${opts.auth.type} ${opts.auth.keyId}` : ''}`)
    this.sessions.set(key, { opts, state: 'Down', remoteState: 'Down', diag: 0, downs: 0 })
  }

  remove(key: string): void {
    if (!this.sessions.delete(key)) return
    this.calls.push(`remove ${key}`)
  }

  configure(key: string, t: BfdTimers): boolean {
    const s = this.sessions.get(key)
    if (!s) return false
    this.calls.push(`configure ${key} tx=${t.desiredMinTx} rx=${t.requiredMinRx} x${t.detectMult}`)
    return true
  }

  status(key: string): BfdSessionStatus | undefined {
    const s = this.sessions.get(key)
    if (!s) return undefined
    return {
      state: s.state, diag: diagName(s.diag), remoteState: s.remoteState, localDiscr: 1, remoteDiscr: 2,
      txIntervalMs: s.state === 'Up' ? s.opts.desiredMinTx / 1000 : 1000, detectTimeMs: 300, since: 0, downs: s.downs,
      received: 0, sent: 0, discarded: 0,
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const k of [...this.sessions.keys()]) this.remove(k)
  }

  /** Move the session `key` to `to`, as the state machine would report it. */
  move(key: string, to: BfdState, o: { diag?: number; remoteState?: BfdState } = {}): void {
    const s = this.sessions.get(key)
    if (!s) throw new Error(`no fake BFD session ${key}`)
    const from = s.state
    s.state = to
    s.diag = o.diag ?? (to === 'Down' && from === 'Up' ? Diag.ControlDetectionTimeExpired : 0)
    s.remoteState = o.remoteState ?? (to === 'Up' ? 'Up' : s.remoteState)
    if (from === 'Up' && to !== 'Up') s.downs++
    s.opts.onState?.({ type: 'state', from, to, diag: s.diag, remoteState: s.remoteState })
  }
}
