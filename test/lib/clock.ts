// The one test clock: implements the base Clock (internal/base/clock.ts) and moves only when a
// test advances it.
//   now()      starts at 0
//   wallNow()  a fixed epoch (MANUAL_EPOCH unless given) + now(), so timestamps are reproducible
import type { Clock } from '../../internal/base/index.ts'

/** wallNow() of a fresh ManualClock: 2023-11-14T22:13:20.000Z */
export const MANUAL_EPOCH = 1_700_000_000_000

interface Timer { due: number; fn: () => void }

/** A clock tests advance by hand; timers fire in order of due time (ties in the order they were set). */
export class ManualClock implements Clock {
  private t = 0
  private seq = 0
  private timers = new Map<number, Timer>()
  constructor(readonly epoch = MANUAL_EPOCH) {}

  now(): number { return this.t }
  wallNow(): number { return this.epoch + this.t }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq
    this.timers.set(id, { due: this.t + Math.max(0, ms || 0), fn })
    return id
  }
  clearTimeout(h: unknown): void { this.timers.delete(h as number) }
  /** timers set and not yet fired or cleared */
  get pending(): number { return this.timers.size }

  /**
   * Advance time by `ms`, firing the timers that fall due in order, each at its due time. Promises
   * settle before each timer and at the end (so a timer set by a continuation is seen in time).
   */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms
    for (;;) {
      await settle()
      let next: [number, Timer] | undefined
      for (const e of this.timers) if (e[1].due <= end && (!next || e[1].due < next[1].due)) next = e
      if (!next) break
      this.timers.delete(next[0])
      this.t = Math.max(this.t, next[1].due)
      next[1].fn()
    }
    this.t = end
    await settle()
  }
}

/** Let pending promise continuations (and I/O callbacks already queued) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
}
