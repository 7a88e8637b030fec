import type { Clock } from '../../internal/bgp/session/clock.ts'

/** A clock tests advance by hand; timers fire in order of due time. */
export class ManualClock implements Clock {
  private t = 0
  private seq = 0
  private timers = new Map<number, { due: number; fn: () => void }>()
  now(): number { return this.t }
  setTimer(ms: number, fn: () => void): unknown {
    const id = ++this.seq
    this.timers.set(id, { due: this.t + ms, fn })
    return id
  }
  clearTimer(h: unknown): void { this.timers.delete(h as number) }
  get pending(): number { return this.timers.size }
  /** Advance time, firing due timers (and awaiting microtasks between them). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms
    for (;;) {
      let next: [number, { due: number; fn: () => void }] | undefined
      for (const e of this.timers) if (e[1].due <= end && (!next || e[1].due < next[1].due)) next = e
      if (!next) break
      this.timers.delete(next[0])
      this.t = next[1].due
      next[1].fn()
      for (let i = 0; i < 20; i++) await Promise.resolve()
    }
    this.t = end
  }
}
