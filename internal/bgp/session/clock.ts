// Time as a dependency: sessions take a Clock so tests can drive timers by hand.
export interface Clock {
  /** monotonic milliseconds */
  now(): number
  setTimer(ms: number, fn: () => void): unknown
  clearTimer(handle: unknown): void
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer: (ms, fn) => {
    const t = setTimeout(fn, ms)
    t.unref?.()
    return t
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
}
