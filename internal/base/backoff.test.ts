// The one back-off as step tables: each row is one event at a monotonic time and what must
// come out of it (the delay for a failure, the state after every step).
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { backoffInit, backoffOnFailure, backoffOnSuccess, backoffPolicy, type BackoffPolicy, type BackoffState } from './backoff.ts'
import { fastCheckSeed } from '../../test/lib/fuzz.ts'

fastCheckSeed(t)

type Row =
  | [event: 'fail', now: number, delayMs: number, after: BackoffState]
  | [event: 'ok', now: number, after: BackoffState]

function replay(t: Test, policy: BackoffPolicy, rows: Row[]): void {
  let s = backoffInit(policy)
  rows.forEach((row, i) => {
    if (row[0] === 'fail') {
      const [, now, delayMs, after] = row
      const r = backoffOnFailure(policy, s, now)
      t.same({ delayMs: r.delayMs, state: r.state }, { delayMs, state: after }, `step ${i + 1}: failure at ${now} waits ${delayMs} ms`)
      s = r.state
    } else {
      const [, now, after] = row
      s = backoffOnSuccess(policy, s, now)
      t.same(s, after, `step ${i + 1}: success at ${now}`)
    }
  })
}

t.test('defaults: multiplier 2, any success resets', async (t) => {
  const p = backoffPolicy({ initialMs: 100, maxMs: 1000 })
  t.same(p, { initialMs: 100, maxMs: 1000, multiplier: 2, stableMs: 0 })
  t.ok(Object.isFrozen(p), 'the policy is frozen')
  t.same(backoffInit(p), { nextMs: 100, failures: 0 })
  replay(t, p, [
    ['fail', 0, 100, { nextMs: 200, failures: 1 }],
    ['fail', 100, 200, { nextMs: 400, failures: 2 }],
    ['fail', 300, 400, { nextMs: 800, failures: 3 }],
    ['fail', 700, 800, { nextMs: 1000, failures: 4 }],
    ['fail', 1500, 1000, { nextMs: 1000, failures: 5 }],
    ['fail', 2500, 1000, { nextMs: 1000, failures: 6 }],
    ['ok', 2600, { nextMs: 100, failures: 0, upSince: 2600 }],
    ['fail', 2600, 100, { nextMs: 200, failures: 1 }],
    ['fail', 2700, 200, { nextMs: 400, failures: 2 }],
  ])
})

t.test('stableMs: only a success that lasted resets; a short one keeps growing', async (t) => {
  const p = backoffPolicy({ initialMs: 1000, maxMs: 30_000, multiplier: 3, stableMs: 10_000 })
  replay(t, p, [
    ['fail', 0, 1000, { nextMs: 3000, failures: 1 }],
    ['fail', 1000, 3000, { nextMs: 9000, failures: 2 }],
    ['ok', 4000, { nextMs: 9000, failures: 2, upSince: 4000 }],
    ['ok', 9000, { nextMs: 9000, failures: 2, upSince: 4000 }], // still up since the first success
    ['fail', 13_999, 9000, { nextMs: 27_000, failures: 3 }], // up 9999 ms: not stable
    ['fail', 23_000, 27_000, { nextMs: 30_000, failures: 4 }],
    ['fail', 50_000, 30_000, { nextMs: 30_000, failures: 5 }], // capped
    ['ok', 80_000, { nextMs: 30_000, failures: 5, upSince: 80_000 }],
    ['fail', 90_000, 1000, { nextMs: 3000, failures: 1 }], // up exactly stableMs: starts over
    ['fail', 91_000, 3000, { nextMs: 9000, failures: 2 }],
  ])
})

t.test('a failure forgets the success before it', async (t) => {
  const p = backoffPolicy({ initialMs: 10, maxMs: 100, stableMs: 50 })
  replay(t, p, [
    ['ok', 0, { nextMs: 10, failures: 0, upSince: 0 }],
    ['fail', 10, 10, { nextMs: 20, failures: 1 }],
    // without upSince the time since the first success no longer counts
    ['fail', 1000, 20, { nextMs: 40, failures: 2 }],
  ])
})

t.test('multiplier 1 is a constant delay; fractional multipliers grow to the cap', async (t) => {
  replay(t, backoffPolicy({ initialMs: 250, maxMs: 250, multiplier: 1 }), [
    ['fail', 0, 250, { nextMs: 250, failures: 1 }],
    ['fail', 250, 250, { nextMs: 250, failures: 2 }],
  ])
  replay(t, backoffPolicy({ initialMs: 1000, maxMs: 3000, multiplier: 1.5 }), [
    ['fail', 0, 1000, { nextMs: 1500, failures: 1 }],
    ['fail', 0, 1500, { nextMs: 2250, failures: 2 }],
    ['fail', 0, 2250, { nextMs: 3000, failures: 3 }],
    ['fail', 0, 3000, { nextMs: 3000, failures: 4 }],
  ])
})

t.test('policy: undefined fields take the defaults, bad ones are refused', async (t) => {
  t.same(backoffPolicy({ initialMs: 5, maxMs: 5, multiplier: undefined, stableMs: undefined }), { initialMs: 5, maxMs: 5, multiplier: 2, stableMs: 0 })
  const bad: [string, Parameters<typeof backoffPolicy>[0]][] = [
    ['zero initial', { initialMs: 0, maxMs: 10 }],
    ['negative initial', { initialMs: -1, maxMs: 10 }],
    ['NaN initial', { initialMs: Number.NaN, maxMs: 10 }],
    ['max below initial', { initialMs: 10, maxMs: 5 }],
    ['shrinking', { initialMs: 10, maxMs: 50, multiplier: 0.5 }],
    ['negative stable', { initialMs: 10, maxMs: 50, stableMs: -1 }],
  ]
  for (const [name, p] of bad) t.throws(() => backoffPolicy(p), RangeError, name)
})

t.test('property: without a success, delays never decrease, stay in [initial, max] and count failures', async (t) => {
  const policy = fc.record({
    initialMs: fc.integer({ min: 1, max: 1000 }),
    extra: fc.integer({ min: 0, max: 100_000 }),
    multiplier: fc.constantFrom(1, 1.5, 2, 3),
    stableMs: fc.integer({ min: 0, max: 60_000 }),
  })
  t.doesNotThrow(() => fc.assert(fc.property(policy, fc.array(fc.nat(5000), { minLength: 1, maxLength: 40 }), (q, gaps) => {
    const p = backoffPolicy({ initialMs: q.initialMs, maxMs: q.initialMs + q.extra, multiplier: q.multiplier, stableMs: q.stableMs })
    let s = backoffInit(p)
    let prev = 0
    let now = 0
    for (const [i, g] of gaps.entries()) {
      now += g
      const r = backoffOnFailure(p, s, now)
      if (r.delayMs < p.initialMs || r.delayMs > p.maxMs || r.delayMs < prev) return false
      if (r.state.failures !== i + 1) return false
      prev = r.delayMs
      s = r.state
    }
    return true
  })))
})
