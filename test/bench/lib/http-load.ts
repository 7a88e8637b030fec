// Continuous HTTP requests from a client namespace, one new TCP connection each (so the router's
// ECMP hash spreads them and every request needs the FIB route at that moment), open loop: one
// starts every `gapMs` whatever the others do, so a gap in the FIB costs every request that
// starts in it. A request fails on an error or without an answer within `timeoutMs` (default
// 800 ms: a SYN lost to a missing route is retransmitted only after the kernel's 1 s initial RTO).
// A small Node script in the namespace writes one line per request: start time (Date.now()),
// duration, and `ok <body>` or `fail <error code>`. The benchmark reads them after stop().
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Lab, waitFor } from '../../e2e/lib/netns.ts'

export interface Request {
  /** Date.now() when the request started */
  at: number
  ms: number
  ok: boolean
  /** the body (the serving host's name) or the error code */
  detail: string
}

const SCRIPT = `
const http = require('http')
const [host, gapMs, timeoutMs] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])]
let inFlight = 0
const one = () => {
  const t = Date.now()
  inFlight++
  let done = false
  const end = (r) => { if (done) return; done = true; inFlight--; process.stdout.write(t + ' ' + (Date.now() - t) + ' ' + r + '\\n') }
  const q = http.get({ host, port: 80, path: '/', agent: false }, (s) => {
    let body = ''
    s.setEncoding('utf8').on('data', (d) => { body += d }).on('end', () => end('ok ' + body.trim())).on('error', (e) => end('fail ' + (e.code || e.message)))
  })
  const limit = setTimeout(() => { end('fail timeout'); q.destroy() }, timeoutMs) // from the start: connecting included
  q.on('close', () => clearTimeout(limit))
  q.on('error', (e) => end('fail ' + (e.code || e.message)))
}
const timer = setInterval(one, gapMs)
process.on('SIGTERM', () => {
  clearInterval(timer)
  const wait = setInterval(() => { if (inFlight === 0) process.exit(0) }, 10)
  wait.unref()
  setTimeout(() => process.exit(0), timeoutMs + 200)
})
`

export class HttpLoad {
  private child: ChildProcess | undefined
  private file = ''
  private runs = 0

  constructor(readonly lab: Lab, readonly ns: string, readonly host: string, readonly gapMs = 10, readonly timeoutMs = 800) {}

  /** Start a run (its own log file), and resolve once `warm` requests have succeeded. */
  async start(warm = 20): Promise<this> {
    this.file = join(this.lab.dir, `http-load-${++this.runs}.log`)
    this.child = this.lab.spawn(this.ns, [process.execPath, '-e', SCRIPT, this.host, String(this.gapMs), String(this.timeoutMs)], { logFile: this.file })
    await waitFor(() => this.read().filter((r) => r.ok).length >= warm || undefined, { timeoutMs: 20_000, intervalMs: 50, what: `${warm} requests to ${this.host}` })
    return this
  }

  /** every request of the current run so far */
  read(): Request[] {
    let text = ''
    try { text = readFileSync(this.file, 'utf8') } catch { /* not yet */ }
    return text.split('\n').flatMap((l) => {
      const m = /^(\d+) (\d+) (ok|fail) ?(.*)$/.exec(l)
      return m ? [{ at: Number(m[1]), ms: Number(m[2]), ok: m[3] === 'ok', detail: m[4]! }] : []
    })
  }

  /** Stop (the requests in flight finish or time out) and return every request of this run. */
  async stop(): Promise<Request[]> {
    if (this.child) await this.lab.kill(this.child, 'SIGTERM', 3000)
    this.child = undefined
    return this.read()
  }
}
