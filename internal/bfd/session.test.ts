// The BFD session (RFC 5880) as step tables: one session, a list of events with the effects
// expected, written out from the RFC text (sections 6.5, 6.8.3, 6.8.4, 6.8.6, 6.8.7). The jitter
// source is fixed (0: every interval is 75 % of the agreed one) unless a test says otherwise.
import t, { type Test } from 'tap'
import { ManualClock } from '../../test/lib/clock.ts'
import { BfdSession, isPathFailure, type BfdEffect, type BfdEvent, type StateChange } from './session.ts'
import { Diag, type BfdState, type ControlPacket } from './packet.ts'

const LOCAL = 0x11
const REMOTE = 0x99

/** One effect as a short string: packets show state, P/F, diag, Your Discriminator and the intervals in ms. */
function fmt(e: BfdEffect): string {
  switch (e.type) {
    case 'send': {
      const p = e.packet
      const flags = `${p.poll ? ' P' : ''}${p.final ? ' F' : ''}`
      return `send ${p.state}${flags} diag=${p.diag} your=${p.yourDiscr.toString(16)} tx=${p.desiredMinTx / 1000} rx=${p.requiredMinRx / 1000} mult=${p.detectMult}`
    }
    case 'set-timer': return `${e.timer} ${e.ms}`
    case 'clear-timer': return `clear ${e.timer}`
    case 'state': return `${e.from}->${e.to} (${e.diag})`
    case 'discard': return `discard: ${e.reason}`
  }
}

/** A packet from the remote (BIRD-like defaults: Down, slow start, 100 ms x 3). */
function peer(over: Partial<ControlPacket> = {}): BfdEvent {
  return {
    type: 'received',
    packet: {
      diag: 0, state: 'Down', poll: false, final: false, cpi: false, demand: false, detectMult: 3,
      myDiscr: REMOTE, yourDiscr: 0, desiredMinTx: 1_000_000, requiredMinRx: 100_000, requiredMinEchoRx: 0, ...over,
    },
  }
}

type Step = [event: BfdEvent, effects: string[], state: BfdState]

function session(over: { desiredMinTx?: number; requiredMinRx?: number; detectMult?: number; random?: () => number } = {}) {
  const clock = new ManualClock()
  const s = new BfdSession({
    localDiscr: LOCAL, desiredMinTx: 100_000, requiredMinRx: 100_000, detectMult: 3, clock, random: () => 0, ...over,
  })
  return { s, clock }
}

function play(t: Test, s: BfdSession, steps: Step[]): void {
  steps.forEach(([ev, want, state], i) => {
    const got = s.step(ev).map(fmt)
    t.strictSame(got, want, `step ${i + 1} (${ev.type}${ev.type === 'received' ? ` ${ev.packet.state}` : ev.type === 'timer' ? ` ${ev.timer}` : ''}): effects`)
    t.equal(s.sessionState, state, `step ${i + 1}: state ${state}`)
  })
}

/** The steps that bring a fresh session Up against a BIRD-like peer (three-way handshake, then the Poll). */
const bringUp: Step[] = [
  [{ type: 'start' }, ['send Down diag=0 your=0 tx=1000 rx=100 mult=3', 'tx 750'], 'Down'],
  // remote Down: detection time 3 x max(our 100 ms, its 1 s) = 3 s; Down -> Init at once
  [peer(), ['detect 3000', 'Down->Init (0)', 'send Init diag=0 your=99 tx=1000 rx=100 mult=3', 'tx 750'], 'Init'],
  // remote Up, polling with its 100 ms: Init -> Up, our TX drops to 100 ms at once (a decrease),
  // announced with P; the remote's Poll is answered with F
  [peer({ state: 'Up', yourDiscr: LOCAL, desiredMinTx: 100_000, poll: true }),
    ['detect 300', 'Init->Up (0)', 'send Up P diag=0 your=99 tx=100 rx=100 mult=3', 'tx 75', 'send Up F diag=0 your=99 tx=100 rx=100 mult=3'], 'Up'],
  // the Final for our Poll ends it: periodic packets without P from now on
  [peer({ state: 'Up', yourDiscr: LOCAL, desiredMinTx: 100_000, final: true }), ['detect 300'], 'Up'],
  [{ type: 'timer', timer: 'tx' }, ['send Up diag=0 your=99 tx=100 rx=100 mult=3', 'tx 75'], 'Up'],
]

t.test('bring-up against a peer that starts Down, then silence: Down by detection time (diag 1)', async (t) => {
  const { s } = session()
  play(t, s, [
    ...bringUp,
    // nothing heard for the detection time: Down, diag 1, RemoteDiscr forgotten, back to 1 s
    [{ type: 'timer', timer: 'detect' }, ['Up->Down (1)', 'send Down diag=1 your=0 tx=1000 rx=100 mult=3', 'tx 750'], 'Down'],
    // a stale detect expiry (already handled) changes nothing
    [{ type: 'timer', timer: 'detect' }, [], 'Down'],
  ])
  const st = s.status()
  t.equal(st.downs, 1, 'one Up -> Down counted')
  t.equal(st.remoteDiscr, 0, 'RemoteDiscr zeroed by the detection timeout')
  t.equal(st.diag, 'Control Detection Time Expired')
  t.equal(st.txIntervalMs, 1000, 'slow rate again while Down')
})

t.test('Down -> Up directly when the remote is already Init; Up -> Down when it signals Down (diag 3)', async (t) => {
  const { s } = session()
  const effects: BfdEffect[] = []
  play(t, s, [
    [{ type: 'start' }, ['send Down diag=0 your=0 tx=1000 rx=100 mult=3', 'tx 750'], 'Down'],
    [peer({ state: 'Init', yourDiscr: LOCAL }), ['detect 3000', 'Down->Up (0)', 'send Up P diag=0 your=99 tx=100 rx=100 mult=3', 'tx 75'], 'Up'],
  ])
  effects.push(...s.step(peer({ state: 'Down', yourDiscr: LOCAL, diag: Diag.ControlDetectionTimeExpired })))
  t.strictSame(effects.map(fmt), ['detect 3000', 'Up->Down (3)', 'send Down diag=3 your=99 tx=1000 rx=100 mult=3', 'tx 750'], 'remote Down: Down with Neighbor Signaled Session Down, Poll abandoned, 1 s again')
  const change = effects.find((e): e is StateChange => e.type === 'state')!
  t.ok(isPathFailure(change), 'a remote Down after Up is a path failure for BGP')
  t.equal(s.status().remoteDiag, 'Control Detection Time Expired', 'the remote diag is kept for status')
})

t.test('remote AdminDown: Down with diag 3, but not a path failure (RFC 5882 section 3.2)', async (t) => {
  const { s } = session()
  play(t, s, bringUp)
  const out = s.step(peer({ state: 'AdminDown', yourDiscr: LOCAL, diag: Diag.AdministrativelyDown }))
  t.strictSame(out.map(fmt), ['detect 3000', 'Up->Down (3)', 'send Down diag=3 your=99 tx=1000 rx=100 mult=3', 'tx 750'])
  const change = out.find((e): e is StateChange => e.type === 'state')!
  t.equal(change.remoteState, 'AdminDown')
  t.notOk(isPathFailure(change), 'the peer disabled BFD: BGP is left alone')
  // while the remote stays AdminDown, we stay Down
  t.strictSame(s.step(peer({ state: 'AdminDown', yourDiscr: LOCAL })).map(fmt), ['detect 3000'], 'AdminDown again: no change')
  t.equal(s.sessionState, 'Down')
})

t.test('reception checks that need the session (section 6.8.6)', async (t) => {
  const { s } = session()
  play(t, s, [
    [peer(), ['discard: the session is not started'], 'Down'],
    [{ type: 'start' }, ['send Down diag=0 your=0 tx=1000 rx=100 mult=3', 'tx 750'], 'Down'],
    [peer({ yourDiscr: 0x1234 }), ['discard: Your Discriminator 4660 is not this session\'s (17)'], 'Down'],
    [peer({ state: 'Up', yourDiscr: 0 }), ['discard: Your Discriminator 0 with state Up'], 'Down'],
    [peer({ state: 'Init', yourDiscr: 0 }), ['discard: Your Discriminator 0 with state Init'], 'Down'],
  ])
  const st = s.status()
  t.equal(st.discarded, 4)
  t.equal(st.received, 0, 'nothing discarded counts as received')
  t.equal(st.remoteDiscr, 0, 'a discarded packet changes no variable')
})

t.test('Poll Sequence on a timer change while Up: a slower TX and a shorter RX wait for the Final (6.8.3)', async (t) => {
  const { s } = session()
  play(t, s, [
    ...bringUp,
    // TX 100 -> 300 ms, RX 100 -> 50 ms: both announced with P; TX stays 100 ms and the detection
    // time stays 3 x 100 ms until the Final
    [{ type: 'configure', timers: { desiredMinTx: 300_000, requiredMinRx: 50_000, detectMult: 3 } }, [], 'Up'],
    [{ type: 'timer', timer: 'tx' }, ['send Up P diag=0 your=99 tx=300 rx=50 mult=3', 'tx 75'], 'Up'],
    [peer({ state: 'Up', yourDiscr: LOCAL, desiredMinTx: 100_000 }), ['detect 300'], 'Up'],
    [{ type: 'timer', timer: 'tx' }, ['send Up P diag=0 your=99 tx=300 rx=50 mult=3', 'tx 75'], 'Up'],
    // the Final: TX 300 ms now (re-armed), detection time 3 x max(50, its 100) = 300 ms
    [peer({ state: 'Up', yourDiscr: LOCAL, desiredMinTx: 100_000, final: true }), ['detect 300', 'tx 225'], 'Up'],
    [{ type: 'timer', timer: 'tx' }, ['send Up diag=0 your=99 tx=300 rx=50 mult=3', 'tx 225'], 'Up'],
    // a faster TX takes effect at once (no waiting), still announced with P
    [{ type: 'configure', timers: { desiredMinTx: 100_000, requiredMinRx: 50_000, detectMult: 3 } }, ['tx 75'], 'Up'],
    [{ type: 'timer', timer: 'tx' }, ['send Up P diag=0 your=99 tx=100 rx=50 mult=3', 'tx 75'], 'Up'],
  ])
  t.equal(s.status().txIntervalMs, 100)
})

t.test('the remote\'s Required Min RX sets our TX interval; 0 stops periodic packets but a Poll is still answered', async (t) => {
  const { s } = session()
  play(t, s, [
    ...bringUp,
    // the remote can only take 500 ms: our interval is max(100, 500)
    [peer({ state: 'Up', yourDiscr: LOCAL, desiredMinTx: 100_000, requiredMinRx: 500_000 }), ['detect 300', 'tx 375'], 'Up'],
    // 0: "send me nothing" (6.8.7); a Poll still gets its Final
    [peer({ state: 'Up', yourDiscr: LOCAL, desiredMinTx: 100_000, requiredMinRx: 0, poll: true }),
      ['detect 300', 'clear tx', 'send Up F diag=0 your=99 tx=100 rx=100 mult=3'], 'Up'],
    [peer({ state: 'Up', yourDiscr: LOCAL, desiredMinTx: 100_000, requiredMinRx: 100_000 }), ['detect 300', 'tx 75'], 'Up'],
  ])
})

t.test('the detection time follows the remote\'s Detect Mult and the slower of our RX and its TX (6.8.4)', async (t) => {
  const { s } = session({ requiredMinRx: 200_000 })
  s.step({ type: 'start' })
  t.strictSame(s.step(peer({ detectMult: 5, desiredMinTx: 1_000_000 })).map(fmt)[0], 'detect 5000', '5 x max(200 ms, 1 s)')
  t.strictSame(s.step(peer({ state: 'Up', yourDiscr: LOCAL, detectMult: 2, desiredMinTx: 50_000 })).map(fmt)[0], 'detect 400', '2 x max(200 ms, 50 ms)')
  t.equal(s.status().detectTimeMs, 400)
})

t.test('stop: one AdminDown packet (diag 7), timers cleared, packets ignored; start again from Down', async (t) => {
  const { s } = session()
  play(t, s, [
    ...bringUp,
    [{ type: 'stop' }, ['Up->AdminDown (7)', 'send AdminDown diag=7 your=99 tx=100 rx=100 mult=3', 'clear tx', 'clear detect'], 'AdminDown'],
    [peer({ state: 'Up', yourDiscr: LOCAL, desiredMinTx: 100_000 }), [], 'AdminDown'],
    [{ type: 'timer', timer: 'tx' }, [], 'AdminDown'],
    [{ type: 'start' }, ['AdminDown->Down (0)', 'send Down diag=0 your=99 tx=1000 rx=100 mult=3', 'tx 750'], 'Down'],
  ])
})

t.test('jitter: 75-100 % of the interval, at most 90 % when Detect Mult is 1 (6.8.7)', async (t) => {
  const txAfterStart = (detectMult: number, r: number): number => {
    const { s } = session({ detectMult, random: () => r })
    const e = s.step({ type: 'start' }).find((x) => x.type === 'set-timer')
    return e && e.type === 'set-timer' ? e.ms : NaN
  }
  t.equal(txAfterStart(3, 0), 750, 'mult 3, r = 0: 75 %')
  t.ok(txAfterStart(3, 0.999999) < 1000 && txAfterStart(3, 0.999999) > 999, 'mult 3, r -> 1: just under 100 %')
  t.equal(txAfterStart(3, 0.5), 875, 'mult 3, r = 0.5: 87.5 %')
  t.equal(txAfterStart(1, 0), 750, 'mult 1, r = 0: 75 %')
  t.ok(txAfterStart(1, 0.999999) <= 900, 'mult 1, r -> 1: at most 90 %')
  t.equal(txAfterStart(1, 0.5), 825, 'mult 1, r = 0.5: 82.5 %')
  t.ok(txAfterStart(3, 1.5) < 1000, 'a random source out of range is clamped')
})

/** Two sessions joined by a lossy wire under one ManualClock: the adapter's job, done by hand. */
function pair(clock: ManualClock) {
  const cut = { a: false, b: false }
  const log: string[] = []
  const mk = (name: 'a' | 'b', discr: number) => {
    const s = new BfdSession({ localDiscr: discr, desiredMinTx: 100_000, requiredMinRx: 100_000, detectMult: 3, clock, random: () => 0.5 })
    return { name, s, timers: new Map<string, unknown>() }
  }
  const a = mk('a', 1)
  const b = mk('b', 2)
  const apply = (from: typeof a, to: typeof a, effects: BfdEffect[]): void => {
    for (const e of effects) {
      if (e.type === 'send') {
        if (cut[from.name]) continue
        const p = e.packet
        clock.setTimeout(() => apply(to, from, to.s.step({ type: 'received', packet: p })), 1) // 1 ms on the wire
      } else if (e.type === 'set-timer') {
        clock.clearTimeout(from.timers.get(e.timer))
        from.timers.set(e.timer, clock.setTimeout(() => { from.timers.delete(e.timer); apply(from, to, from.s.step({ type: 'timer', timer: e.timer })) }, e.ms))
      } else if (e.type === 'clear-timer') {
        clock.clearTimeout(from.timers.get(e.timer))
        from.timers.delete(e.timer)
      } else if (e.type === 'state') log.push(`${from.name} ${e.from}->${e.to} diag ${e.diag} at ${clock.now()}`)
    }
  }
  return { a, b, cut, log, start: () => { apply(a, b, a.s.step({ type: 'start' })); apply(b, a, b.s.step({ type: 'start' })) } }
}

t.test('two sessions back to back: both Up, one goes silent, the other is Down within its detection time', async (t) => {
  const clock = new ManualClock()
  const p = pair(clock)
  p.start()
  await clock.advance(50)
  t.equal(p.a.s.sessionState, 'Up', 'a Up after the first exchanges (packets on state changes)')
  t.equal(p.b.s.sessionState, 'Up', 'b Up')
  await clock.advance(3000)
  t.equal(p.a.s.status().txIntervalMs, 100, 'a transmits every 100 ms once the Poll is done')
  t.equal(p.b.s.status().detectTimeMs, 300, 'b detects in 3 x 100 ms')
  t.equal(p.a.s.status().downs + p.b.s.status().downs, 0, 'no flap while packets flow')
  const cutAt = clock.now()
  p.cut.a = true // a's packets are lost from now on
  await clock.advance(301)
  t.equal(p.b.s.sessionState, 'Down', 'b Down within 300 ms of a falling silent')
  t.equal(p.b.s.status().diag, 'Control Detection Time Expired')
  const bDown = p.log.find((l) => l.startsWith('b Up->Down'))!
  t.ok(bDown, 'b logged Up->Down')
  t.ok(Number(bDown.split(' at ')[1]) - cutAt <= 300, `b Down at most 300 ms after the cut (${bDown})`)
  await clock.advance(10)
  t.equal(p.a.s.sessionState, 'Down', 'a hears b\'s Down (diag 1) and goes Down too (diag 3)')
  t.equal(p.a.s.status().diag, 'Neighbor Signaled Session Down')
  p.cut.a = false
  await clock.advance(5000)
  t.equal(p.a.s.sessionState, 'Up', 'a Up again once its packets flow')
  t.equal(p.b.s.sessionState, 'Up', 'b Up again')
})
