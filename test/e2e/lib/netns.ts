// Test harness: network namespaces for end-to-end tests with real routers.
//
// A `Lab` owns a set of uniquely named namespaces (`pt-<id>-<label>`), a temp directory and every
// process it spawned. `lab.cleanup()` kills every process living in its namespaces (found with
// `ip netns pids`, so daemons that fork are caught too), deletes the namespaces and the temp dir.
// It is registered with tap's `t.teardown` (runs when the test fails too) and with process
// exit / SIGINT / SIGTERM / SIGHUP handlers.
//
// Safety: links are created INSIDE the namespaces (`ip -n NS link add ... peer ... netns OTHER`),
// so the host namespace is never touched. Use documentation ranges only (see ALLOWED_RANGES).

import { execFile, execFileSync, spawn as cpSpawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, openSync, closeSync, rmSync, existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isIP } from 'node:net'

export { waitFor, type WaitOptions } from '../../lib/wait.ts'
import { waitFor } from '../../lib/wait.ts'
import { cleanupAtExit, forgetAtExit } from '../../lib/exit-cleanup.ts'

export const NS_PREFIX = 'pt-'

/** Address ranges a test may use inside its namespaces. */
export const ALLOWED_RANGES: readonly string[] = [
  '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '198.18.0.0/15', '2001:db8::/32', 'fe80::/10',
]

export interface ExecResult { stdout: string; stderr: string; code: number }
export interface ExecOptions {
  /** do not throw on a non-zero exit status */
  allowFail?: boolean
  timeoutMs?: number
  input?: string
  env?: NodeJS.ProcessEnv
}

export interface SpawnOptions {
  /** file that receives stdout and stderr (default: <lab dir>/<label>.log) */
  logFile?: string
  label?: string
  env?: NodeJS.ProcessEnv
}


/** Anything with `teardown`, i.e. a tap `Test`. Kept structural so this file does not import tap. */
export interface TeardownHost { teardown(fn: () => unknown): void }


/** Run a command on the host (used for `ip netns ...` itself). */
export function run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args as string[], {
      timeout: opts.timeoutMs ?? 30_000,
      maxBuffer: 256 * 1024 * 1024,
      env: opts.env ?? process.env,
      encoding: 'utf8',
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0
      const res = { stdout, stderr, code }
      if (err && !opts.allowFail) {
        reject(new Error(`Command failed (${code}): ${[cmd, ...args].join(' ')}\n${stderr || stdout}`))
      } else resolve(res)
    })
    if (opts.input !== undefined) child.stdin?.end(opts.input)
  })
}

/** Run `cmd` inside namespace `ns`. */
export function exec(ns: string, cmd: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return run('ip', ['netns', 'exec', ns, ...cmd], opts)
}

/** List our namespaces present on the host (names starting with `pt-`). */
export function listTestNamespaces(): string[] {
  if (!existsSync('/run/netns')) return []
  return readdirSync('/run/netns').filter(n => n.startsWith(NS_PREFIX))
}

export function namespaceExists(ns: string): boolean {
  return existsSync(join('/run/netns', ns))
}

function shortId(): string { return randomBytes(3).toString('hex') }

/** PIDs of processes whose network namespace is `ns` (synchronous, for exit handlers). */
function nsPidsSync(ns: string): number[] {
  try {
    const out = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    return out.split(/\s+/).filter(Boolean).map(Number).filter(n => Number.isInteger(n) && n > 1)
  } catch { return [] }
}

function killPids(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try { process.kill(pid, signal) } catch { /* gone already */ }
  }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

/** Validate that an address (with or without /len) falls into a documentation range. */
export function assertDocAddress(cidr: string): void {
  const addr = cidr.split('/')[0] ?? ''
  const fam = isIP(addr)
  if (fam === 4) {
    const n = v4ToInt(addr)
    const ok = [['192.0.2.0', 24], ['198.51.100.0', 24], ['203.0.113.0', 24], ['198.18.0.0', 15], ['127.0.0.0', 8]]
      .some(([base, len]) => (n >>> (32 - (len as number))) === (v4ToInt(base as string) >>> (32 - (len as number))))
    if (!ok) throw new Error(`Address "${cidr}" is outside the documentation ranges; use 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 or 198.18.0.0/15`)
  } else if (fam === 6) {
    const a = addr.toLowerCase()
    if (!(a.startsWith('2001:db8:') || a.startsWith('2001:0db8:') || a.startsWith('fe80:') || a === '::1')) {
      throw new Error(`Address "${cidr}" is outside 2001:db8::/32 and fe80::/10`)
    }
  } else throw new Error(`"${cidr}" is not an IP address`)
}

function v4ToInt(a: string): number {
  return a.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0)
}

export interface LinkEnd { ns: string; ifname: string }

/**
 * A set of namespaces and processes owned by one test. Create with `createLab(t)`.
 */
export class Lab {
  readonly id: string
  /** private temp directory for configs, sockets, logs and captures */
  readonly dir: string
  readonly namespaces: string[] = []
  private readonly children = new Set<ChildProcess>()
  private cleaned = false

  constructor() {
    this.id = shortId()
    this.dir = mkdtempSync(join(tmpdir(), `${NS_PREFIX}${this.id}-`))
    cleanupAtExit(this)
  }

  /**
   * Create namespace `pt-<labid>-<label>` with lo up and the router sysctls set
   * (forwarding on, fib_multipath_hash_policy=1, accept_dad=0, IPv6 enabled).
   */
  async ns(label: string): Promise<string> {
    if (!/^[a-z0-9-]{1,16}$/.test(label)) throw new Error(`Namespace label "${label}" must be 1-16 of [a-z0-9-]`)
    const name = `${NS_PREFIX}${this.id}-${label}`
    await run('ip', ['netns', 'add', name])
    this.namespaces.push(name)
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up'])
    await this.sysctl(name, {
      'net.ipv4.ip_forward': '1',
      'net.ipv4.fib_multipath_hash_policy': '1',
      'net.ipv6.conf.all.disable_ipv6': '0',
      'net.ipv6.conf.default.disable_ipv6': '0',
      'net.ipv6.conf.all.accept_dad': '0',
      'net.ipv6.conf.default.accept_dad': '0',
      'net.ipv6.conf.all.forwarding': '1',
      'net.ipv6.fib_multipath_hash_policy': '1',
    })
    return name
  }

  async sysctl(ns: string, values: Record<string, string>): Promise<void> {
    const args = Object.entries(values).map(([k, v]) => `${k}=${v}`)
    await exec(ns, ['sysctl', '-q', '-w', ...args])
  }

  /** veth pair a.ifname <-> b.ifname, both ends brought up, DAD off on both ends. */
  async veth(a: LinkEnd, b: LinkEnd): Promise<void> {
    this.own(a.ns); this.own(b.ns)
    await run('ip', ['-n', a.ns, 'link', 'add', a.ifname, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', b.ns])
    for (const end of [a, b]) await this.linkUp(end)
  }

  private async linkUp(end: LinkEnd): Promise<void> {
    await this.sysctl(end.ns, { [`net.ipv6.conf.${end.ifname}.accept_dad`]: '0' })
    await run('ip', ['-n', end.ns, 'link', 'set', end.ifname, 'up'])
  }

  /**
   * A shared L2 segment: a namespace `pt-<id>-<label>` holding bridge `br0`, and one veth per
   * member (member side `ifname`, bridge side `p<index>`). Returns the bridge namespace name.
   */
  async bridge(label: string, members: LinkEnd[]): Promise<string> {
    const brNs = await this.ns(label)
    await run('ip', ['-n', brNs, 'link', 'add', 'br0', 'type', 'bridge'])
    await this.sysctl(brNs, { 'net.ipv6.conf.br0.disable_ipv6': '1' })
    await run('ip', ['-n', brNs, 'link', 'set', 'br0', 'up'])
    let i = 0
    for (const m of members) {
      const port = `p${i++}`
      await this.veth({ ns: brNs, ifname: port }, m)
      await run('ip', ['-n', brNs, 'link', 'set', port, 'master', 'br0'])
    }
    return brNs
  }

  /** Add `cidr` (e.g. "192.0.2.1/24", "2001:db8::1/64") to ns/ifname; IPv6 with nodad. */
  async addr(ns: string, ifname: string, cidr: string): Promise<void> {
    this.own(ns)
    assertDocAddress(cidr)
    const v6 = cidr.includes(':')
    await run('ip', ['-n', ns, ...(v6 ? ['-6'] : []), 'addr', 'add', cidr, 'dev', ifname, ...(v6 ? ['nodad'] : [])])
  }

  /** The interface's IPv6 link-local address (waits until the kernel assigned it). */
  async linkLocal(ns: string, ifname: string): Promise<string> {
    return waitFor(async () => {
      const r = await run('ip', ['-n', ns, '-j', '-6', 'addr', 'show', 'dev', ifname, 'scope', 'link'])
      const j = JSON.parse(r.stdout) as { addr_info: { local: string; tentative?: boolean }[] }[]
      const a = j[0]?.addr_info.find(x => x.local.startsWith('fe80') && !x.tentative)
      return a?.local
    }, { timeoutMs: 5000, intervalMs: 50, what: `link-local address on ${ns}/${ifname}` })
  }

  exec(ns: string, cmd: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    this.own(ns)
    return exec(ns, cmd, opts)
  }

  /**
   * Start a long-running process in `ns`; stdout+stderr go to a log file in the lab dir.
   * `ip netns exec` execs the command, so the returned child's pid is the program's pid.
   */
  spawn(ns: string, cmd: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    this.own(ns)
    const label = opts.label ?? (cmd[0] ?? 'proc').replace(/[^A-Za-z0-9_.-]/g, '_')
    const logFile = opts.logFile ?? join(this.dir, `${label}.log`)
    const fd = openSync(logFile, 'a')
    const child = cpSpawn('ip', ['netns', 'exec', ns, ...cmd], {
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
      detached: false,
    })
    closeSync(fd)
    this.children.add(child)
    child.on('exit', () => this.children.delete(child))
    child.on('error', () => this.children.delete(child))
    return child
  }

  /** Kill a spawned child and wait for it to exit (SIGTERM, then SIGKILL after graceMs). */
  async kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>(r => child.once('exit', () => r()))
    child.kill(signal)
    const t = setTimeout(() => { try { child.kill('SIGKILL') } catch { /* gone */ } }, graceMs)
    await exited
    clearTimeout(t)
  }

  /** Kill a process by pid (daemons that fork) and wait until it is gone. */
  async killPid(pid: number, signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
    killPids([pid], signal)
    try {
      await waitFor(() => !alive(pid), { timeoutMs: graceMs, intervalMs: 20, what: `pid ${pid} to exit` })
    } catch {
      killPids([pid], 'SIGKILL')
      await waitFor(() => !alive(pid), { timeoutMs: 2000, intervalMs: 20, what: `pid ${pid} to die` })
    }
  }

  /** PIDs currently running in `ns`. */
  pids(ns: string): number[] { return nsPidsSync(ns) }

  private own(ns: string): void {
    if (!this.namespaces.includes(ns)) throw new Error(`Namespace "${ns}" was not created by this lab`)
  }

  /** Kill everything in our namespaces, delete them and the temp dir. Idempotent. */
  async cleanup(): Promise<void> {
    if (this.cleaned) return
    for (const c of this.children) { try { c.kill('SIGTERM') } catch { /* gone */ } }
    for (const ns of this.namespaces) killPids(nsPidsSync(ns), 'SIGTERM')
    await waitFor(() => this.namespaces.every(ns => nsPidsSync(ns).length === 0) && this.children.size === 0,
      { timeoutMs: 3000, intervalMs: 50, what: 'lab processes to exit' }).catch(() => undefined)
    this.cleanupSync()
  }

  /** Synchronous variant for exit/signal handlers: SIGKILL leftovers, delete namespaces. */
  cleanupSync(): void {
    if (this.cleaned) return
    this.cleaned = true
    forgetAtExit(this)
    for (const c of this.children) { try { c.kill('SIGKILL') } catch { /* gone */ } }
    // one SIGKILL pass, then delete at once: a test runner may SIGKILL us soon after its timeout
    // signal, and processes that survive a moment longer die with SIGKILL anyway
    for (const ns of this.namespaces) killPids(nsPidsSync(ns), 'SIGKILL')
    for (const ns of this.namespaces) {
      try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }) } catch { /* already gone */ }
    }
    if (!process.env.PT_KEEP_DIR) rmSync(this.dir, { recursive: true, force: true })
  }

  get cleanedUp(): boolean { return this.cleaned }
}

/** Create a lab whose cleanup runs in `t.teardown` (when given) and at process exit. */
export function createLab(t?: TeardownHost): Lab {
  const lab = new Lab()
  t?.teardown(() => lab.cleanup())
  return lab
}
