// DashboardFeed on the ManualClock: one sample per interval from start() to stop(), events found
// between samples, updates to every subscriber, a failing status or watcher handled.
import t from 'tap'
import { ManualClock, MANUAL_EPOCH } from '../../test/lib/clock.ts'
import { DashboardFeed, SAMPLE_BUDGET, type DashboardUpdate } from './feed.ts'
import type { PeerStatus } from '../admin/index.ts'

const peer = (state: string): PeerStatus => ({ name: 'r4', address: '192.0.2.1', peerAs: 65001, state, prefixesReceived: 0, updatesReceived: 0, flaps: 0, prefixesSent: 0 })

t.test('samples once per interval, derives events, updates subscribers until stop', async (t) => {
  const clock = new ManualClock()
  let state = 'Active'
  let reads = 0
  const feed = new DashboardFeed({ status: () => { reads++; return { peers: [peer(state)], vips: [] } }, ready: () => ({ ready: state === 'Established', reason: 'BGP not up' }), clock, intervalMs: 1000 })
  const got: DashboardUpdate[] = []
  const unsubscribe = feed.subscribe((u) => got.push(u))
  t.equal(feed.watchers, 1)
  feed.start()
  t.equal(reads, 1, 'start() samples at once')
  t.equal(got.length, 1)
  t.same(got[0], { at: new Date(MANUAL_EPOCH).toISOString(), ready: { ready: false, reason: 'BGP not up' }, status: { peers: [peer('Active')], vips: [] }, events: [] })

  await clock.advance(999)
  t.equal(reads, 1, 'not before the interval')
  state = 'Established'
  await clock.advance(1)
  t.equal(reads, 2)
  const u = got.at(-1)!
  t.equal(u.at, new Date(MANUAL_EPOCH + 1000).toISOString())
  t.same(u.ready, { ready: true, reason: 'BGP not up' })
  t.same(u.events.map((e) => [e.seq, e.kind, e.at]), [[1, 'session-up', u.at]], 'the session came up between the samples')
  t.same(feed.current(), u, 'current() is the last sample, no new read')
  t.equal(reads, 2)

  await clock.advance(3000)
  t.equal(reads, 5)
  t.equal(got.at(-1)!.events.length, 1, 'the event stays in the recent list, no repeat')

  unsubscribe()
  t.equal(feed.watchers, 0)
  state = 'Idle'
  await clock.advance(1000)
  t.equal(got.length, 5, 'no update after unsubscribe')
  t.same(feed.current().events.map((e) => e.kind), ['session-up', 'session-down'], 'sampling goes on without watchers: events are not missed')

  feed.stop()
  t.equal(clock.pending, 0, 'stop() clears the timer')
  await clock.advance(5000)
  t.equal(reads, 6, 'no sample after stop')
})

t.test('a status that throws: an update with the error, events kept, sampling goes on', async (t) => {
  const clock = new ManualClock()
  let fail = false
  const feed = new DashboardFeed({ status: () => { if (fail) throw new Error('speaker gone'); return { peers: [peer('Established')] } }, ready: () => { throw new Error('no phase') }, clock })
  feed.start()
  t.same(feed.current().events.map((e) => e.kind), ['session-up'])
  t.match(feed.current().ready, { ready: false, reason: 'readiness could not be read: no phase' })
  fail = true
  await clock.advance(1000)
  const u = feed.current()
  t.equal(u.status, undefined)
  t.equal(u.error, 'the status could not be read: speaker gone')
  t.equal(u.events.length, 1, 'earlier events stay')
  fail = false
  await clock.advance(1000)
  t.ok(feed.current().status, 'recovers at the next sample')
  t.equal(feed.current().events.length, 1, 'the same status as before the failure: no new event')
  feed.stop()
})

t.test('a subscriber that throws is dropped, the others keep getting updates', async (t) => {
  const clock = new ManualClock()
  const warnings: string[] = []
  const log = { info() {}, debug() {}, error() {}, warn: (_: object, m?: string) => { warnings.push(m ?? '') } }
  const feed = new DashboardFeed({ status: () => ({ peers: [peer('Established')] }), ready: () => ({ ready: true, reason: 'ok' }), clock, log })
  let good = 0
  feed.subscribe(() => { throw new Error('socket gone') })
  feed.subscribe(() => good++)
  feed.start()
  t.equal(feed.watchers, 1, 'the failing watcher is dropped')
  t.same(warnings, ['dashboard: a watcher failed'])
  await clock.advance(2000)
  t.equal(good, 3)
  feed.stop()
  t.equal(feed.watchers, 0, 'stop() drops the watchers')
})

t.test('a slow sample spaces the next ones out (SAMPLE_BUDGET times its duration)', async (t) => {
  const clock = new ManualClock()
  // the status read takes `cost` ms of the clock's time: now() moves while it runs
  let cost = 0
  let extra = 0
  const timed = { now: () => clock.now() + extra, wallNow: () => clock.wallNow(), setTimeout: clock.setTimeout.bind(clock), clearTimeout: clock.clearTimeout.bind(clock) }
  let reads = 0
  const feed = new DashboardFeed({ status: () => { reads++; extra += cost; return { peers: [] } }, ready: () => ({ ready: true, reason: 'ok' }), clock: timed, intervalMs: 1000 })
  feed.start()
  await clock.advance(1000)
  t.equal(reads, 2, 'cheap samples: once a second')
  cost = 100 // 100 ms per sample -> the next one 5 s later
  await clock.advance(1000)
  t.equal(reads, 3)
  await clock.advance(100 * SAMPLE_BUDGET - 1)
  t.equal(reads, 3, `not before ${100 * SAMPLE_BUDGET} ms`)
  cost = 0
  await clock.advance(1)
  t.equal(reads, 4)
  await clock.advance(1000)
  t.equal(reads, 5, 'back to once a second when samples are cheap again')
  feed.stop()
})
