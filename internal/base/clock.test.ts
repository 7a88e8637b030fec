import t from 'tap'
import { realClock, sleep } from './clock.ts'
import { MANUAL_EPOCH, ManualClock } from '../../test/lib/clock.ts'

t.test('realClock: monotonic now, epoch wallNow, unref\'d timers that can be cleared', async (t) => {
  const a = realClock.now()
  const wall = realClock.wallNow()
  t.ok(Math.abs(wall - Date.now()) < 1000, 'wallNow is ms since the epoch')
  t.ok(a < 1e12, 'now is not the epoch clock (process-relative)')
  const h = realClock.setTimeout(() => t.fail('a cleared timer must not fire'), 5)
  t.equal((h as NodeJS.Timeout).hasRef(), false, 'timers do not keep the process alive')
  realClock.clearTimeout(h)
  realClock.clearTimeout(undefined) // clearing nothing is allowed
  const order: number[] = []
  const keepAlive = setTimeout(() => {}, 10_000) // realClock's timers alone would let the process exit
  t.teardown(() => clearTimeout(keepAlive))
  await new Promise<void>((resolve) => {
    realClock.setTimeout(() => order.push(2), 20)
    realClock.setTimeout(() => { order.push(1) }, 1)
    realClock.setTimeout(resolve, 40)
  })
  t.same(order, [1, 2], 'timers fire in order of due time')
  t.ok(realClock.now() - a >= 39, 'now advanced with the timers')
})

t.test('sleep resolves after ms on the given clock', async (t) => {
  const clock = new ManualClock()
  let done = false
  const p = sleep(clock, 1234).then(() => { done = true })
  await clock.advance(1233)
  t.equal(done, false, 'not before')
  await clock.advance(1)
  await p
  t.equal(done, true, 'after 1234 ms of clock time')
})

t.test('ManualClock (the tests\' clock) keeps the Clock contract', async (t) => {
  const clock = new ManualClock()
  t.equal(clock.now(), 0)
  t.equal(clock.wallNow(), MANUAL_EPOCH, 'wallNow is a fixed epoch + now')
  t.equal(new ManualClock(5000).wallNow(), 5000, 'the epoch can be given')
  const fired: string[] = []
  clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20)
  clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10)
  clock.setTimeout(() => fired.push(`a2@${clock.now()}`), 10)
  const gone = clock.setTimeout(() => fired.push('cleared'), 5)
  clock.clearTimeout(gone)
  clock.clearTimeout(undefined)
  t.equal(clock.pending, 3)
  await clock.advance(15)
  t.same(fired, ['a@10', 'a2@10'], 'due timers fire at their due time, ties in the order they were set')
  t.equal(clock.now(), 15)
  t.equal(clock.wallNow(), MANUAL_EPOCH + 15)
  // a timer set by a timer (or by a promise continuation) within the window fires in the same advance
  clock.setTimeout(() => { void Promise.resolve().then(() => clock.setTimeout(() => fired.push(`c@${clock.now()}`), 1)) }, 1)
  await clock.advance(10)
  t.same(fired, ['a@10', 'a2@10', 'c@17', 'b@20'])
  t.equal(clock.pending, 0)
})
