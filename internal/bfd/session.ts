// PURE BFD session (RFC 5880, asynchronous mode, as RFC 5881 single hop uses it): events in,
// effects out (send a packet, set or clear a timer, state changed, packet discarded). No sockets
// and no timers: the adapter (udp.ts) or a test turns timer expiries and received packets into
// events. The clock is read for status only (since when the session is in its state).
//
// Variables are RFC 5880 section 6.8.1's; intervals are microseconds, as on the wire.
//   - Until Up, the Desired Min TX sent (and used) is at least 1 s (section 6.8.3); on Up it
//     drops to the configured value and a Poll Sequence announces it (P bit until an F bit).
//   - A timer change while Up starts a Poll Sequence; a larger TX interval, or a smaller RX
//     interval for the detection time, takes effect only when the Final arrives (6.8.3).
//   - Transmit interval = max(DesiredMinTx in force, RemoteMinRx), less 0-25 % jitter (10-25 %
//     when DetectMult is 1), section 6.8.7; none while RemoteMinRx is 0.
//   - Detection time = remote Detect Mult x max(RequiredMinRx in force, remote Desired Min TX)
//     (6.8.4), restarted by every valid packet; on expiry Init/Up -> Down (diag 1) and the
//     remote's variables are forgotten (RemoteDiscr 0).
//   - A Poll is answered at once with a packet carrying F (6.8.6, last step).
// Deviations, as BIRD and FRR do: a packet is also sent at once on every local state change
// (bring-up takes round trips, not seconds); `stop` sends one AdminDown packet (diag 7) and
// then nothing. Not implemented: demand mode (never asked for; a peer's D bit is ignored), the
// echo function (Required Min Echo RX sent as 0), authentication (packet.ts refuses the A bit).
import type { Clock } from '../base/index.ts'
import { Diag, diagName, type BfdState, type ControlPacket } from './packet.ts'

/** RFC 5880 section 6.8.3: the slowest-start rate, in microseconds */
export const SLOW_TX_US = 1_000_000

export interface BfdTimers {
  /** microseconds */
  desiredMinTx: number
  /** microseconds */
  requiredMinRx: number
  /** 1-255 */
  detectMult: number
}

export interface BfdSessionOptions extends BfdTimers {
  /** nonzero, unique among this system's sessions */
  localDiscr: number
  clock: Pick<Clock, 'now'>
  /** uniform in [0, 1): the jitter (Math.random when absent) */
  random?: () => number
}

export type BfdTimer = 'tx' | 'detect'

export type BfdEvent =
  /** begin: state Down, periodic transmission at the slow rate */
  | { type: 'start' }
  /** AdminDown (diag 7): one packet saying so, then silence */
  | { type: 'stop' }
  /** a decoded packet the adapter demultiplexed to this session (source address checked) */
  | { type: 'received'; packet: ControlPacket }
  /** a timer set by `set-timer` fired */
  | { type: 'timer'; timer: BfdTimer }
  /** new timers (a Poll Sequence when Up) */
  | { type: 'configure'; timers: BfdTimers }

export interface StateChange {
  type: 'state'
  from: BfdState
  to: BfdState
  /** our diag for the change (Diag) */
  diag: number
  /** the last state the remote sent (AdminDown: the peer disabled BFD, not a path failure) */
  remoteState: BfdState
}

export type BfdEffect =
  | { type: 'send'; packet: ControlPacket }
  /** (re)arm: replaces a running timer of the same name */
  | { type: 'set-timer'; timer: BfdTimer; ms: number }
  | { type: 'clear-timer'; timer: BfdTimer }
  | StateChange
  | { type: 'discard'; reason: string }

/**
 * RFC 5882 section 3.2: a session that was Up going Down is a path failure for its client (BGP),
 * unless the remote said AdminDown (it disabled BFD: the client must not act on it) or we did.
 */
export function isPathFailure(e: StateChange): boolean {
  return e.from === 'Up' && e.to === 'Down' && e.remoteState !== 'AdminDown'
}

export interface BfdSessionStatus {
  state: BfdState
  /** our diag: why the state last changed */
  diag: string
  remoteState: BfdState
  remoteDiag?: string
  localDiscr: number
  remoteDiscr: number
  /** transmit interval before jitter, milliseconds (0: not transmitting) */
  txIntervalMs: number
  /** detection time, milliseconds (0: nothing heard yet) */
  detectTimeMs: number
  /** clock.now() when the state last changed */
  since: number
  /** Up -> Down transitions */
  downs: number
  received: number
  sent: number
  discarded: number
  lastDiscard?: string
}

export class BfdSession {
  private readonly clock: Pick<Clock, 'now'>
  private readonly random: () => number
  readonly localDiscr: number
  private cfg: BfdTimers
  private running = false
  // RFC 5880 section 6.8.1
  private state: BfdState = 'Down'
  private remoteState: BfdState = 'Down'
  private remoteDiscr = 0
  private localDiag: number = Diag.None
  private remoteDiag: number | undefined
  private remoteMinRx = 1
  private remoteDesiredMinTx = 0
  private remoteDetectMult = 0
  /** the Desired Min TX and Required Min RX in force (old values during a Poll, 6.8.3) */
  private txBasis: number
  private rxBasis: number
  /** the values last advertised (what a Poll announces) */
  private advTx: number
  private advRx: number
  private polling = false
  private armed = new Set<BfdTimer>()
  private out: BfdEffect[] = []
  /** end of step: send a periodic packet now (state change) / re-arm the TX timer / answer a Poll */
  private sendNow = false
  private rearm = false
  private answerPoll = false
  // status
  private since = 0
  private downs = 0
  private received = 0
  private sent = 0
  private discarded = 0
  private lastDiscard: string | undefined

  constructor(opts: BfdSessionOptions) {
    if (!Number.isInteger(opts.localDiscr) || opts.localDiscr < 1 || opts.localDiscr > 0xffffffff) {
      throw new RangeError(`BFD local discriminator ${opts.localDiscr} is not an integer from 1 to 4294967295`)
    }
    this.clock = opts.clock
    this.random = opts.random ?? Math.random
    this.localDiscr = opts.localDiscr
    this.cfg = { desiredMinTx: opts.desiredMinTx, requiredMinRx: opts.requiredMinRx, detectMult: opts.detectMult }
    this.advTx = this.txBasis = this.wantedTx()
    this.advRx = this.rxBasis = this.cfg.requiredMinRx
    this.since = this.clock.now()
  }

  get sessionState(): BfdState { return this.state }

  /** One event in, the effects to apply in order out. */
  step(ev: BfdEvent): BfdEffect[] {
    this.out = []
    switch (ev.type) {
      case 'start':
        if (this.running && this.state !== 'AdminDown') break
        this.running = true
        this.setState('Down', Diag.None)
        break
      case 'stop':
        if (!this.running || this.state === 'AdminDown') break
        this.setState('AdminDown', Diag.AdministrativelyDown)
        this.clear('tx')
        this.clear('detect')
        break
      case 'received':
        this.receive(ev.packet)
        break
      case 'timer':
        if (!this.armed.delete(ev.timer)) break // cleared meanwhile
        if (ev.timer === 'tx') this.sendNow = true
        else this.detectionTimeout()
        break
      case 'configure':
        this.cfg = { ...ev.timers }
        this.timersChanged()
        break
    }
    if (this.running && this.state !== 'AdminDown') {
      if (this.sendNow) this.transmit(false)
      if (this.sendNow || this.rearm) this.armTx()
    }
    if (this.answerPoll) this.transmit(true)
    this.sendNow = this.rearm = this.answerPoll = false
    const out = this.out
    this.out = []
    return out
  }

  status(): BfdSessionStatus {
    return {
      state: this.state,
      diag: diagName(this.localDiag),
      remoteState: this.remoteState,
      remoteDiag: this.remoteDiag === undefined ? undefined : diagName(this.remoteDiag),
      localDiscr: this.localDiscr,
      remoteDiscr: this.remoteDiscr,
      txIntervalMs: this.running && this.state !== 'AdminDown' ? this.txInterval() / 1000 : 0,
      detectTimeMs: this.remoteDetectMult ? this.detectTime() / 1000 : 0,
      since: this.since,
      downs: this.downs,
      received: this.received,
      sent: this.sent,
      discarded: this.discarded,
      lastDiscard: this.lastDiscard,
    }
  }

  // ---- reception, RFC 5880 section 6.8.6 (the session-less checks are decode()'s) ----

  private receive(p: ControlPacket): void {
    if (!this.running) return this.discard('the session is not started')
    if (p.yourDiscr !== 0 && p.yourDiscr !== this.localDiscr) {
      return this.discard(`Your Discriminator ${p.yourDiscr} is not this session's (${this.localDiscr})`)
    }
    if (p.yourDiscr === 0 && p.state !== 'Down' && p.state !== 'AdminDown') {
      return this.discard(`Your Discriminator 0 with state ${p.state}`)
    }
    this.received++
    this.remoteDiscr = p.myDiscr
    this.remoteState = p.state
    this.remoteDiag = p.diag
    this.remoteDesiredMinTx = p.desiredMinTx
    this.remoteDetectMult = p.detectMult
    const before = this.txInterval()
    this.remoteMinRx = p.requiredMinRx
    if (p.final && this.polling) {
      this.polling = false
      this.txBasis = this.advTx
      this.rxBasis = this.advRx
    }
    if (this.state === 'AdminDown') return
    if (this.txInterval() !== before || !this.armed.has('tx')) this.rearm = true
    this.set('detect', this.detectTime() / 1000)

    if (p.state === 'AdminDown') {
      if (this.state !== 'Down') this.setState('Down', Diag.NeighborSignaledSessionDown)
    } else if (this.state === 'Down') {
      if (p.state === 'Down') this.setState('Init', Diag.None)
      else if (p.state === 'Init') this.setState('Up', Diag.None)
    } else if (this.state === 'Init') {
      if (p.state === 'Init' || p.state === 'Up') this.setState('Up', Diag.None)
    } else if (p.state === 'Down') {
      this.setState('Down', Diag.NeighborSignaledSessionDown)
    }
    if (p.poll) this.answerPoll = true
  }

  private detectionTimeout(): void {
    const wasLive = this.state === 'Init' || this.state === 'Up'
    // 6.8.1: RemoteDiscr is zeroed when a Detection Time passes in silence; the rest as if never heard
    this.remoteDiscr = 0
    this.remoteMinRx = 1
    this.remoteDesiredMinTx = 0
    this.remoteDetectMult = 0
    this.polling = false
    if (wasLive) {
      this.setState('Down', Diag.ControlDetectionTimeExpired)
      this.remoteState = 'Down'
    } else {
      this.remoteState = 'Down'
      this.rearm = true
    }
  }

  // ---- state and timers ----

  private setState(to: BfdState, diag: number): void {
    const from = this.state
    this.state = to
    this.localDiag = diag
    this.since = this.clock.now()
    if (from === 'Up' && to !== 'Up') this.downs++
    if (from !== to) this.out.push({ type: 'state', from, to, diag, remoteState: this.remoteState })
    if (to === 'AdminDown') {
      this.polling = false
      this.transmit(false)
      return
    }
    this.timersChanged()
    this.sendNow = true
  }

  /** Desired Min TX to advertise now: at least 1 s until Up (6.8.3). */
  private wantedTx(): number {
    return this.state === 'Up' ? this.cfg.desiredMinTx : Math.max(this.cfg.desiredMinTx, SLOW_TX_US)
  }

  /** The advertised timers may have changed (state, configuration): apply 6.8.3. */
  private timersChanged(): void {
    const tx = this.wantedTx()
    const rx = this.cfg.requiredMinRx
    if (tx === this.advTx && rx === this.advRx) return
    const before = this.txInterval()
    const detectBefore = this.detectTime()
    this.advTx = tx
    this.advRx = rx
    if (this.state === 'Up') {
      if (tx < this.txBasis) this.txBasis = tx // a faster TX may start now; a slower one waits for the Final
      if (rx > this.rxBasis) this.rxBasis = rx // a longer detection time may start now; a shorter one waits
      this.polling = true
    } else {
      this.txBasis = tx
      this.rxBasis = rx
      this.polling = false
    }
    if (this.txInterval() !== before) this.rearm = true
    if (this.armed.has('detect') && this.remoteDetectMult && this.detectTime() !== detectBefore) this.set('detect', this.detectTime() / 1000)
  }

  /** microseconds, before jitter */
  private txInterval(): number {
    return this.remoteMinRx === 0 ? 0 : Math.max(this.txBasis, this.remoteMinRx)
  }

  /** microseconds */
  private detectTime(): number {
    return this.remoteDetectMult * Math.max(this.rxBasis, this.remoteDesiredMinTx)
  }

  /** Arm the periodic transmission: the interval less 0-25 % (10-25 % when DetectMult is 1). */
  private armTx(): void {
    const iv = this.txInterval()
    if (iv === 0) { // 6.8.7: the remote asked for no packets
      this.clear('tx')
      return
    }
    const spread = this.cfg.detectMult === 1 ? 0.15 : 0.25
    const ms = (iv / 1000) * (0.75 + spread * Math.min(Math.max(this.random(), 0), 0.999))
    this.set('tx', Math.round(ms * 1000) / 1000)
  }

  private transmit(final: boolean): void {
    if (this.remoteMinRx === 0 && !final) return
    this.sent++
    this.out.push({
      type: 'send',
      packet: {
        diag: this.localDiag, state: this.state, poll: this.polling && !final, final, cpi: false, demand: false,
        detectMult: this.cfg.detectMult, myDiscr: this.localDiscr, yourDiscr: this.remoteDiscr,
        desiredMinTx: this.advTx, requiredMinRx: this.advRx, requiredMinEchoRx: 0,
      },
    })
  }

  private set(timer: BfdTimer, ms: number): void {
    this.armed.add(timer)
    this.out.push({ type: 'set-timer', timer, ms })
  }

  private clear(timer: BfdTimer): void {
    if (!this.armed.delete(timer)) return
    this.out.push({ type: 'clear-timer', timer })
  }

  private discard(reason: string): void {
    this.discarded++
    this.lastDiscard = reason
    this.out.push({ type: 'discard', reason })
  }
}
