// The three kinds of health check, as I/O adapters returning { ok, error }.
import { connect } from 'node:net'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { spawn } from 'node:child_process'
import { errnoOf } from '../base/index.ts'
import type { HealthCheckConfig } from '../config/index.ts'

export interface CheckResult { ok: boolean; error?: string }
export type Checker = (target: string, check: HealthCheckConfig) => Promise<CheckResult>

export function tcpCheck(host: string, port: number, timeoutMs: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const s = connect({ host, port })
    const timer = setTimeout(() => { s.destroy(); resolve({ ok: false, error: `tcp ${port}: no answer within ${timeoutMs} ms` }) }, timeoutMs)
    s.once('connect', () => { clearTimeout(timer); s.destroy(); resolve({ ok: true }) })
    s.once('error', (e: Error) => { clearTimeout(timer); s.destroy(); resolve({ ok: false, error: `tcp ${port}: ${errnoOf(e) ?? e.message}` }) })
  })
}

export function httpCheck(host: string, c: Extract<HealthCheckConfig, { type: 'http' | 'https' }>): Promise<CheckResult> {
  return new Promise((resolve) => {
    const port = c.port ?? (c.type === 'https' ? 443 : 80)
    const req = (c.type === 'https' ? httpsRequest : httpRequest)({
      host, port, path: c.path, method: 'GET', timeout: c.timeout,
      headers: { host: c.host ?? (host.includes(':') ? `[${host}]` : host), 'user-agent': 'porter-health-check', connection: 'close' },
      rejectUnauthorized: !c.insecure,
    }, (res) => {
      res.resume()
      const ok = res.statusCode === c.expectStatus
      resolve(ok ? { ok } : { ok, error: `${c.type} ${port}${c.path}: status ${res.statusCode}, expected ${c.expectStatus}` })
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${c.timeout} ms`)))
    req.on('error', (e: Error) => resolve({ ok: false, error: `${c.type} ${port}${c.path}: ${errnoOf(e) ?? e.message}` }))
    req.end()
  })
}

/** Run a command (argv, no shell); exit 0 within the timeout = healthy. PORTER_TARGET is the next hop. */
export function execCheck(target: string, c: Extract<HealthCheckConfig, { type: 'exec' }>): Promise<CheckResult> {
  return new Promise((resolve) => {
    let done = false
    const finish = (r: CheckResult) => { if (!done) { done = true; clearTimeout(timer); resolve(r) } }
    const child = spawn(c.command[0]!, c.command.slice(1), { stdio: 'ignore', env: { ...process.env, PORTER_TARGET: target }, detached: true })
    const timer = setTimeout(() => {
      try { process.kill(-child.pid!, 'SIGKILL') } catch { child.kill('SIGKILL') }
      finish({ ok: false, error: `exec ${c.command[0]}: killed after ${c.timeout} ms` })
    }, c.timeout)
    child.once('error', (e: Error) => finish({ ok: false, error: `exec ${c.command[0]}: ${errnoOf(e) ?? e.message}` }))
    child.once('exit', (code, sig) => finish(code === 0 ? { ok: true } : { ok: false, error: `exec ${c.command[0]}: ${sig ? `signal ${sig}` : `exit ${code}`}` }))
  })
}

export const runCheck: Checker = (target, c) => {
  switch (c.type) {
    case 'tcp': return tcpCheck(target, c.port, c.timeout)
    case 'http':
    case 'https': return httpCheck(target, c)
    case 'exec': return execCheck(target, c)
    // event-driven (HealthMonitor keeps a BFD session per next hop): never polled
    case 'bfd': return Promise.resolve({ ok: false, error: 'a bfd check is not polled' })
  }
}
