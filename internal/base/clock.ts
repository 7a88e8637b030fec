// The one Clock. Everything that waits or reads time takes a Clock, so tests drive time by hand
// (see ManualClock in test/lib/clock.ts).
//   now()      monotonic milliseconds: timers, hold times, durations, back-off
//   wallNow()  milliseconds since the epoch: timestamps shown to people (status, conditions)
export interface Clock {
  now(): number
  wallNow(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** The process clock. Timers do not keep the process alive (a daemon ends when it says so). */
export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    t.unref?.()
    return t
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
}

/** Resolve after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => { clock.setTimeout(resolve, ms) })
}
