// Helpers for the agent end-to-end tests: an agent process inside a namespace driven over
// JSON lines (agent-runner.ts), and readers of the namespace's kernel state with the usual
// tools (ip, nft, iptables-save) for before/after comparisons.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { run, type Lab } from './lib/netns.ts'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')

export interface AgentProc {
  call<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>
  /** like call, but resolves with the error object instead of rejecting */
  callErr(cmd: string, args?: Record<string, unknown>): Promise<{ name?: string; code?: string; message?: string; errno?: number }>
  close(): Promise<void>
  child: ChildProcess
}

export class AgentCallError extends Error {
  readonly info: { name?: string; code?: string; message?: string; errno?: number }
  constructor(info: { name?: string; code?: string; message?: string; errno?: number }) {
    super(`${info.name ?? 'Error'} ${info.code ?? ''}: ${info.message ?? ''}`)
    this.info = info
  }
}

/** Start agent-runner.ts inside `ns`. */
export function agentProc(lab: Lab, ns: string): AgentProc {
  if (!lab.namespaces.includes(ns)) throw new Error(`namespace ${ns} is not the lab's`)
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(here, 'agent-runner.ts')], {
    cwd: root, stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  const waiting = new Map<number, (r: { ok: boolean; result?: unknown; error?: AgentCallError['info'] }) => void>()
  let nextId = 1
  const rl = createInterface({ input: child.stdout! })
  rl.on('line', (line) => {
    let m: { id: number; ok: boolean; result?: unknown; error?: AgentCallError['info'] }
    try { m = JSON.parse(line) } catch { return }
    waiting.get(m.id)?.(m)
    waiting.delete(m.id)
  })
  const exited = new Promise<void>((r) => child.once('exit', () => {
    for (const [, cb] of waiting) cb({ ok: false, error: { message: `agent process exited: ${stderr.slice(-2000)}` } })
    waiting.clear()
    r()
  }))
  const raw = (cmd: string, args: Record<string, unknown> = {}) => new Promise<{ ok: boolean; result?: unknown; error?: AgentCallError['info'] }>((resolve) => {
    if (child.exitCode !== null) { resolve({ ok: false, error: { message: `agent process exited: ${stderr.slice(-2000)}` } }); return }
    const id = nextId++
    waiting.set(id, resolve)
    child.stdin!.write(`${JSON.stringify({ id, cmd, ...args })}\n`)
  })
  return {
    child,
    async call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
      const r = await raw(cmd, args)
      if (!r.ok) throw new AgentCallError(r.error ?? {})
      return r.result as T
    },
    async callErr(cmd, args) {
      const r = await raw(cmd, args)
      if (r.ok) throw new Error(`${cmd} was expected to fail but succeeded: ${JSON.stringify(r.result)}`)
      return r.error ?? {}
    },
    async close() {
      if (child.exitCode === null) {
        child.stdin!.end()
        const t = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(t)
      }
    },
  }
}

// ---------------------------------------------------------------- kernel state readers

export interface IpAddr { ifname: string; family: string; local: string; prefixlen: number; label?: string; flags: string[] }

export async function addrs(ns: string): Promise<IpAddr[]> {
  const r = await run('ip', ['-n', ns, '-j', 'addr', 'show'])
  const links = JSON.parse(r.stdout) as { ifname: string; addr_info: Record<string, unknown>[] }[]
  const out: IpAddr[] = []
  for (const l of links) {
    for (const a of l.addr_info) {
      const flags = ['noprefixroute', 'nodad', 'secondary', 'deprecated', 'tentative'].filter((f) => a[f] === true)
      const e: IpAddr = { ifname: l.ifname, family: String(a.family), local: String(a.local), prefixlen: Number(a.prefixlen), flags }
      if (typeof a.label === 'string') e.label = a.label
      out.push(e)
    }
  }
  return out
}

/** `ip route show table all` lines (both families), sorted. */
export async function routes(ns: string): Promise<string[]> {
  const v4 = await run('ip', ['-n', ns, '-4', 'route', 'show', 'table', 'all'])
  const v6 = await run('ip', ['-n', ns, '-6', 'route', 'show', 'table', 'all'])
  return [...v4.stdout.split('\n'), ...v6.stdout.split('\n')].map((l) => l.trim()).filter(Boolean).sort()
}

/** The whole nft ruleset as text (nft -s: no counters' values). */
export async function nftRuleset(ns: string): Promise<string> {
  return (await run('ip', ['netns', 'exec', ns, 'nft', '-s', 'list', 'ruleset'])).stdout
}

/** nft ruleset text without Porter's table (`table inet porter { ... }`). */
export function withoutPorterTable(ruleset: string): string {
  return ruleset
    .split('\n').filter((l) => !/jump PORTER-[A-Z]+/.test(l)).join('\n')
    .replace(/^table inet porter \{[\s\S]*?^\}\n?/m, '')
    // iptables-nft keeps Porter's chains in "table ip filter" / "table ip6 filter"
    .replace(/^\tchain PORTER-[A-Z]+ \{[\s\S]*?^\t\}\n?/gm, '')
    // iptables-nft materialises a builtin chain (INPUT, FORWARD) on first use; empty with policy
    // accept it is what iptables considers present anyway (iptables-nft-save lists it either way)
    .replace(/^\tchain (INPUT|FORWARD) \{\n\t\ttype filter hook \w+ priority filter; policy accept;\n\t\}\n?/gm, '')
    .split('\n').filter((l) => l.trim() !== '').join('\n')
    // ... and its filter table: cleanup leaves an empty one behind (see internal/agent/README.md)
    .replace(/^table (ip|ip6) filter \{\n\}(\n|$)/gm, '')
    .trimEnd()
}

export async function nftJson(ns: string, ...what: string[]): Promise<{ nftables: Record<string, Record<string, unknown>>[] } | undefined> {
  const r = await run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', ...what], { allowFail: true })
  if (r.code !== 0) return undefined
  return JSON.parse(r.stdout)
}

export async function nftSetElems(ns: string, set: 'vips4' | 'vips6'): Promise<string[] | undefined> {
  const j = await nftJson(ns, 'set', 'inet', 'porter', set)
  if (!j) return undefined
  const s = j.nftables.find((x) => x.set)?.set
  const elem = (s?.elem ?? []) as unknown[]
  return elem.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).sort()
}

/** iptables-save (of one flavour and family) without comments and counters. */
export async function iptablesSave(ns: string, flavour: 'nft' | 'legacy', family: 4 | 6): Promise<string[]> {
  const prog = `${family === 4 ? 'iptables' : 'ip6tables'}-${flavour}-save`
  const r = await run('ip', ['netns', 'exec', ns, prog])
  const lines = r.stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/, '[0:0]'))
  // an iptables-nft filter table with nothing in it is what cleanup leaves (see internal/agent/README.md)
  const empty = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', 'COMMIT']
  const i = lines.indexOf('*filter')
  if (i >= 0 && lines.slice(i, i + 5).join('\n') === empty.join('\n')) lines.splice(i, 5)
  return lines
}

export const withoutPorterChains = (lines: readonly string[]): string[] =>
  lines.filter((l) => !/PORTER-(INPUT|FORWARD)/.test(l))

/** The tests' VIPs come from 203.0.113.0/24 and 2001:db8:5::/48; foreign objects never use them. */
export const isTestVip = (ip: string): boolean => ip.startsWith('203.0.113.') || ip.startsWith('2001:db8:5:')

/**
 * Everything in a namespace that is not about the test's VIPs: addresses, routes (the kernel's
 * local routes of VIP addresses come and go with them), the nft ruleset without Porter's table,
 * iptables of both flavours without Porter's chains.
 */
export async function foreignState(ns: string): Promise<{ addrs: IpAddr[]; routes: string[]; nft: string; ipt: Record<string, string[]> }> {
  const a = (await addrs(ns)).filter((x) => !isTestVip(x.local))
  const r = (await routes(ns)).filter((l) => !isTestVip(l.split(' ')[l.startsWith('local ') || l.startsWith('broadcast ') ? 1 : 0] ?? ''))
  const ipt: Record<string, string[]> = {}
  for (const f of ['nft', 'legacy'] as const) {
    for (const fam of [4, 6] as const) ipt[`${f}${fam}`] = withoutPorterChains(await iptablesSave(ns, f, fam))
  }
  return { addrs: a, routes: r, nft: withoutPorterTable(await nftRuleset(ns)), ipt }
}

/**
 * Capture `ip monitor address route` and `nft monitor` output in ns while fn runs; returns the
 * events seen (one string per event, continuation lines joined). Markers (an address labelled
 * lo:pmark, a table named pmark) prove both monitors were listening before and after.
 */
export async function monitorDuring(ns: string, fn: () => Promise<void>): Promise<string[]> {
  let raw = ''
  const procs = [
    spawn('ip', ['netns', 'exec', ns, 'ip', 'monitor', 'address', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] }),
    spawn('ip', ['netns', 'exec', ns, 'nft', 'monitor'], { stdio: ['ignore', 'pipe', 'ignore'] }),
  ]
  for (const p of procs) p.stdout!.on('data', (d: Buffer) => { raw += d.toString() })
  const events = (): string[] => {
    const out: string[] = []
    for (const line of raw.split('\n')) {
      if (!line.trim()) continue
      if (/^\s/.test(line) && out.length) out[out.length - 1] += ` ${line.trim()}`
      else out.push(line)
    }
    return out
  }
  const mark = async (n: number): Promise<void> => {
    const deadline = Date.now() + 5000
    let sent = false
    for (;;) {
      const ev = events()
      if (ev.some((l) => l.includes(`pmark${n}`) && l.includes('192.0.2.25')) && ev.some((l) => l.includes(`table ip pmark${n}`))) return
      if (Date.now() > deadline) throw new Error(`monitors did not report marker ${n}: ${JSON.stringify(ev)}`)
      if (!sent || Date.now() % 500 < 25) {
        await run('ip', ['-n', ns, 'addr', 'add', `192.0.2.25${n}/32`, 'dev', 'lo', 'label', `lo:pmark${n}`]).catch(() => undefined)
        await run('ip', ['-n', ns, 'addr', 'del', `192.0.2.25${n}/32`, 'dev', 'lo']).catch(() => undefined)
        await run('ip', ['netns', 'exec', ns, 'nft', `add table ip pmark${n}; delete table ip pmark${n}`]).catch(() => undefined)
        sent = true
      }
      await new Promise((r) => setTimeout(r, 25))
    }
  }
  try {
    await mark(1)
    const before = events().length
    await fn()
    await mark(2)
    // "# new generation" lines come with every nft transaction (also the markers); a real change also prints its objects
    return events().slice(before).filter((l) => !/pmark\d|192\.0\.2\.25\d|^# new generation/.test(l))
  } finally {
    for (const p of procs) p.kill('SIGTERM')
  }
}
