// The fake API server in its own process (runner.ts), optionally inside a network namespace,
// driven over JSON lines: start, request, test controls, kill.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Reply } from './server.ts'
import type { Json } from './patch.ts'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')

export interface ApiServerProcOptions {
  /** run inside this network namespace (`ip netns exec`) */
  ns?: string
  host: string
  port: number
  /** objects and revision survive a restart of the process (like etcd) */
  stateFile?: string
  bookmarkMs?: number
  expiredWatch?: 'event' | 'status'
}

export class ApiServerProc {
  private nextId = 1
  private readonly waiting = new Map<number, (m: { ok: boolean; result?: unknown; error?: string }) => void>()
  private stderr = ''
  readonly exited: Promise<number | null>

  private constructor(readonly child: ChildProcess, readonly url: string, lines: ReturnType<typeof createInterface>) {
    lines.on('line', (line) => {
      let m: { id?: number; ok: boolean; result?: unknown; error?: string }
      try { m = JSON.parse(line) } catch { return }
      if (m.id === undefined) return
      this.waiting.get(m.id)?.(m)
      this.waiting.delete(m.id)
    })
    child.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000) })
    this.exited = new Promise((r) => child.once('exit', (code) => {
      for (const [, cb] of this.waiting) cb({ ok: false, error: `fake API server exited: ${this.stderr}` })
      this.waiting.clear()
      r(code)
    }))
  }

  static async start(o: ApiServerProcOptions): Promise<ApiServerProc> {
    const args = [process.execPath, '--import', 'tsx', join(here, 'runner.ts'), '--host', o.host, '--port', String(o.port)]
    if (o.stateFile) args.push('--state', o.stateFile)
    if (o.bookmarkMs) args.push('--bookmark-ms', String(o.bookmarkMs))
    if (o.expiredWatch) args.push('--expired-watch', o.expiredWatch)
    const cmd = o.ns ? ['ip', 'netns', 'exec', o.ns, ...args] : args
    const child = spawn(cmd[0]!, cmd.slice(1), { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] })
    const lines = createInterface({ input: child.stdout! })
    let err = ''
    child.stderr!.on('data', (d: Buffer) => { err += d.toString() })
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`fake API server did not start: ${err}`)) }, 30_000)
      const onLine = (line: string) => {
        try {
          const m = JSON.parse(line) as { ready?: boolean; url?: string }
          if (m.ready) { clearTimeout(t); lines.off('line', onLine); resolve(m.url!) }
        } catch { /* not ours */ }
      }
      lines.on('line', onLine)
      child.once('exit', (code) => { clearTimeout(t); reject(new Error(`fake API server exited (${code}): ${err}`)) })
    })
    return new ApiServerProc(child, url, lines)
  }

  call<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) { reject(new Error('fake API server is not running')); return }
      const id = this.nextId++
      this.waiting.set(id, (m) => (m.ok ? resolve(m.result as T) : reject(new Error(m.error))))
      this.child.stdin!.write(`${JSON.stringify({ id, cmd, ...args })}\n`)
    })
  }

  /** One API request through the server's own handler; throws unless the status is 2xx. */
  async request(method: string, path: string, body?: Json, contentType?: string): Promise<Reply> {
    const r = await this.call<Reply>('request', { method, path, ...(body !== undefined ? { body } : {}), ...(contentType ? { contentType } : {}) })
    if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`)
    return r
  }

  /** Kill the process (SIGKILL by default: connections die with it). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
    await this.exited
  }
}
