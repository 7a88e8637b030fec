import fc from 'fast-check'
import t from 'tap'
import { DEFAULT_BACKOFF, backoffInit, backoffOnDown, backoffOnEstablished, type BackoffPolicy, type BackoffState } from './backoff.ts'
import { fastCheckSeed } from '../../../test/lib/fuzz.ts'

fastCheckSeed(t)

t.test('default policy: 1, 2, 4 ... 64, 120, 120', async (t) => {
  let s = backoffInit(DEFAULT_BACKOFF)
  const delays: number[] = []
  for (let i = 0; i < 10; i++) {
    const r = backoffOnDown(DEFAULT_BACKOFF, s, i * 1000)
    delays.push(r.delaySeconds)
    s = r.state
  }
  t.same(delays, [1, 2, 4, 8, 16, 32, 64, 120, 120, 120])
})

t.test('stable session resets; short one does not', async (t) => {
  const p: BackoffPolicy = { initialSeconds: 2, maxSeconds: 30, multiplier: 3, stableSeconds: 10 }
  let s: BackoffState = backoffInit(p)
  s = backoffOnDown(p, s, 0).state // next 6
  s = backoffOnDown(p, s, 0).state // next 18
  t.equal(s.nextMs, 18_000)
  const short = backoffOnDown(p, backoffOnEstablished(p, s, 1000), 10_999)
  t.same([short.delaySeconds, short.state.nextMs], [18, 30_000])
  const long = backoffOnDown(p, backoffOnEstablished(p, s, 1000), 11_000)
  t.same([long.delaySeconds, long.state.nextMs], [2, 6000])
  t.equal(long.state.upSince, undefined, 'the fall forgets when it was established')
})

t.test('property: delays never decrease without a stable session and stay within [initial, max]', async (t) => {
  const policy = fc.record({
    initialSeconds: fc.integer({ min: 1, max: 10 }),
    maxSeconds: fc.integer({ min: 10, max: 600 }),
    multiplier: fc.constantFrom(1, 1.5, 2, 3),
    stableSeconds: fc.integer({ min: 0, max: 300 }),
  })
  t.doesNotThrow(() => fc.assert(fc.property(policy, fc.array(fc.nat(1000), { minLength: 1, maxLength: 40 }), (p, gaps) => {
    let s = backoffInit(p)
    let prev = 0
    let now = 0
    for (const g of gaps) {
      now += g
      const r = backoffOnDown(p, s, now)
      if (r.delaySeconds < p.initialSeconds || r.delaySeconds > p.maxSeconds) return false
      if (r.delaySeconds < prev) return false
      prev = r.delaySeconds
      s = r.state
    }
    return true
  })))
})
