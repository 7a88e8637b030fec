// Porter itself (from source, node --import tsx) running inside a lab namespace.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Lab, waitFor } from './netns.ts'
import { adminRequest, type ControllerStatus, type DaemonStatus } from '../../../internal/admin/index.ts'
import { ROOT, MAIN } from '../../lib/cli.ts'

/** the status contract (internal/admin/status.ts); controller fields required, as most tests read them */
export type PorterStatus = DaemonStatus & ControllerStatus

export class PorterProc {
  readonly dir: string
  readonly socket: string
  readonly configFile: string
  readonly logFile: string
  child: ChildProcess | undefined

  /**
   * `binary`: a built porter executable; default: the source through tsx.
   * `admin`: more fields of the config's `admin` section (the socket is the test's own), e.g. `{ metricsAddress: '127.0.0.1:9477' }`
   */
  constructor(readonly lab: Lab, readonly ns: string, config: string, readonly mode: 'controller' | 'agent' = 'controller', readonly binary?: string, readonly admin: Record<string, string> = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'porter-e2e-'))
    this.socket = join(this.dir, 'porter.sock')
    this.configFile = join(this.dir, 'porter.yaml')
    this.logFile = join(this.dir, 'porter.log')
    this.writeConfig(config)
  }

  writeConfig(config: string): void {
    const admin = [`socket: ${this.socket}`, ...Object.entries(this.admin).map(([k, v]) => `${k}: ${JSON.stringify(v)}`)].join(', ')
    writeFileSync(this.configFile, `admin: { ${admin} }\nshutdownTimeout: 5s\n${config}`)
  }

  async start(): Promise<this> {
    const cmd = this.binary ? [this.binary] : [process.execPath, '--import', join(ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs'), MAIN]
    this.child = this.lab.spawn(this.ns, [...cmd, this.mode, '--config', this.configFile, '--log-level', 'debug'], { logFile: this.logFile, label: `porter-${this.mode}` })
    await waitFor(() => this.status().catch(() => undefined), { timeoutMs: 20_000, what: 'porter admin socket' })
    return this
  }

  status(): Promise<PorterStatus> {
    return adminRequest(this.socket, { cmd: 'status' }, 2000) as Promise<PorterStatus>
  }

  async waitPeers(state = 'Established', timeoutMs = 30_000): Promise<PorterStatus> {
    return waitFor(async () => {
      const s = await this.status()
      return s.peers.length > 0 && s.peers.every((p) => p.state === state) ? s : undefined
    }, { timeoutMs, what: `porter peers ${state}` })
  }

  signal(sig: NodeJS.Signals): void {
    this.child?.kill(sig)
  }

  async stop(): Promise<number | null> {
    const c = this.child
    // already gone (exited, or killed by a signal: then exitCode stays null)
    if (!c || c.exitCode !== null || c.signalCode !== null) return c?.exitCode ?? null
    const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)))
    c.kill('SIGTERM')
    return exited
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }

  logs(): { msg: string; [k: string]: unknown }[] {
    let text = ''
    try { text = readFileSync(this.logFile, 'utf8') } catch {}
    return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
  }
}
