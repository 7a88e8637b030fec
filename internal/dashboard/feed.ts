// The dashboard's live feed: samples the running mode's status on the injected Clock (once a
// second by default, from start() to stop(), whether or not a browser watches, so that "recent
// events" covers the time before the page was opened), turns successive samples into events
// (events.ts) and hands every subscriber one DashboardUpdate per sample. A sample that takes long
// (a controller with many thousands of Services) spaces the next ones out: the wait is at least
// SAMPLE_BUDGET times the sample's duration, so sampling never takes more than about 2% of a core.
// Updates hold the status as the mode returned it: sse.ts redacts while serialising.
import { realClock, type Clock } from '../base/index.ts'
import type { Logger } from '../base/index.ts'
import { EventLog, statusEvents, type AnyStatus, type DashboardEvent } from './events.ts'

/** What `/events` sends, one JSON object per server-sent event. */
export interface DashboardUpdate {
  /** ISO 8601 time of the sample */
  at: string
  /** what /readyz answers */
  ready: { ready: boolean; reason: string }
  /** the status contract (internal/admin/status.ts); absent when reading it failed */
  status?: AnyStatus
  /** why the status could not be read */
  error?: string
  /** the recent events, oldest first */
  events: DashboardEvent[]
}

export interface DashboardFeedOptions {
  status: () => object
  ready: () => { ready: boolean; reason: string }
  clock?: Clock
  /** milliseconds between samples (default 1000) */
  intervalMs?: number
  /** events kept (default 200) */
  maxEvents?: number
  log?: Logger
}

export type Subscriber = (u: DashboardUpdate) => void

/** The wait after a sample is at least this many times the sample's duration. */
export const SAMPLE_BUDGET = 50

export class DashboardFeed {
  private readonly clock: Clock
  private readonly intervalMs: number
  private readonly log: EventLog
  private readonly subscribers = new Set<Subscriber>()
  private prev: AnyStatus | undefined
  private last: DashboardUpdate | undefined
  private timer: unknown
  private running = false

  constructor(private readonly o: DashboardFeedOptions) {
    this.clock = o.clock ?? realClock
    this.intervalMs = o.intervalMs ?? 1000
    this.log = new EventLog(o.maxEvents ?? 200)
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.sample()
  }

  stop(): void {
    this.running = false
    this.clock.clearTimeout(this.timer)
    this.subscribers.clear()
  }

  get watchers(): number {
    return this.subscribers.size
  }

  /** The latest update (a fresh sample when none was taken yet). */
  current(): DashboardUpdate {
    return this.last ?? this.take()
  }

  /** `fn` gets every later update until the returned function is called. */
  subscribe(fn: Subscriber): () => void {
    this.subscribers.add(fn)
    return () => { this.subscribers.delete(fn) }
  }

  private sample(): void {
    if (!this.running) return
    const started = this.clock.now()
    const u = this.take()
    const took = this.clock.now() - started
    for (const fn of [...this.subscribers]) {
      try {
        fn(u)
      } catch (e) {
        this.o.log?.warn({ error: { message: (e as Error).message } }, 'dashboard: a watcher failed')
        this.subscribers.delete(fn)
      }
    }
    this.timer = this.clock.setTimeout(() => this.sample(), Math.max(this.intervalMs, SAMPLE_BUDGET * took))
  }

  private take(): DashboardUpdate {
    const at = new Date(this.clock.wallNow()).toISOString()
    let ready: DashboardUpdate['ready']
    try {
      ready = this.o.ready()
    } catch (e) {
      ready = { ready: false, reason: `readiness could not be read: ${(e as Error).message}` }
    }
    let status: AnyStatus | undefined
    let error: string | undefined
    try {
      status = this.o.status() as AnyStatus
    } catch (e) {
      error = `the status could not be read: ${(e as Error).message}`
    }
    if (status) {
      this.log.push(statusEvents(this.prev, status), at)
      this.prev = status
    }
    this.last = { at, ready, ...(status ? { status } : {}), ...(error ? { error } : {}), events: this.log.list() }
    return this.last
  }
}
