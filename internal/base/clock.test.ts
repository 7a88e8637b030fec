import t from 'tap'
import { realClock, sleep } from './clock.ts'

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
  const fired: number[] = []
  const fake = {
    now: () => 0, wallNow: () => 0,
    setTimeout: (fn: () => void, ms: number) => { fired.push(ms); fn(); return 1 },
    clearTimeout: () => {},
  }
  await sleep(fake, 1234)
  t.same(fired, [1234])
})
