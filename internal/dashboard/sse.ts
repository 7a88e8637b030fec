// GET /events: server-sent events from the DashboardFeed. The stream starts with the latest
// update, then one `data:` line per sample. A client that reads slower than the feed writes
// skips updates until its socket drains (each update is complete, so skipping loses nothing but
// intermediate frames). At most `maxWatchers` streams at once; more get 503.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { DashboardFeed, DashboardUpdate } from './feed.ts'
import { redactReplacer } from './redact.ts'

const frames = new WeakMap<DashboardUpdate, string>()

/**
 * One server-sent event carrying `u` without secrets (JSON.stringify escapes newlines, so one
 * data line). Serialised once per update, however many watchers there are.
 */
export function sseFrame(u: DashboardUpdate): string {
  let f = frames.get(u)
  if (f === undefined) {
    f = `data: ${JSON.stringify(u, redactReplacer)}\n\n`
    frames.set(u, f)
  }
  return f
}

export interface EventStreamOptions {
  feed: DashboardFeed
  headers: Readonly<Record<string, string>>
  head: boolean
  /** default 16 */
  maxWatchers?: number
}

export function serveEvents(req: IncomingMessage, res: ServerResponse, o: EventStreamOptions): void {
  if (o.feed.watchers >= (o.maxWatchers ?? 16)) {
    const body = 'Too many dashboards are watching; close one and reload\n'
    res.writeHead(503, { ...o.headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Retry-After': '5' })
    res.end(o.head ? undefined : body)
    return
  }
  res.writeHead(200, { ...o.headers, 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' })
  if (o.head) {
    res.end()
    return
  }
  res.socket?.setNoDelay(true)
  let blocked = !res.write(`retry: 2000\n\n${sseFrame(o.feed.current())}`)
  const unsubscribe = o.feed.subscribe((u) => {
    if (blocked || res.destroyed || res.writableEnded) return
    blocked = !res.write(sseFrame(u))
  })
  res.on('drain', () => { blocked = false })
  res.once('close', unsubscribe)
  req.once('close', unsubscribe)
}
