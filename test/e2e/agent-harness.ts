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
    .replace(/^table inet porter \{[\s\S]*?^\}\n?/m, '')
    // iptables-nft keeps Porter's chains in "table ip filter" / "table ip6 filter"
    .replace(/^\tchain PORTER-[A-Z]+ \{[\s\S]*?^\t\}\n?/gm, '')
    .split('\n').filter((l) => l.trim() !== '' && !/jump PORTER-[A-Z]+/.test(l)).join('\n')
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
  return r.stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/, '[0:0]'))
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

/** Capture `ip monitor` and `nft monitor` output in ns while fn runs; returns the lines seen. */
export async function monitorDuring(lab: Lab, ns: string, fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = []
  const procs = [
    spawn('ip', ['netns', 'exec', ns, 'ip', 'monitor', 'address', 'route', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] }),
    spawn('ip', ['netns', 'exec', ns, 'nft', 'monitor'], { stdio: ['ignore', 'pipe', 'ignore'] }),
  ]
  for (const p of procs) p.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)))
  // the monitors are subscribed once they have started; give them a marker to prove it
  await new Promise((r) => setTimeout(r, 300))
  await run('ip', ['-n', ns, 'link', 'add', 'pmark0', 'type', 'veth', 'peer', 'name', 'pmark1'])
  await run('ip', ['-n', ns, 'link', 'del', 'pmark0'])
  const deadline = Date.now() + 3000
  while (!lines.some((l) => l.includes('pmark')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  const before = lines.length
  await fn()
  // let late notifications arrive: flush with a second marker
  await run('ip', ['-n', ns, 'link', 'add', 'pmark2', 'type', 'veth', 'peer', 'name', 'pmark3'])
  await run('ip', ['-n', ns, 'link', 'del', 'pmark2'])
  const d2 = Date.now() + 3000
  while (!lines.some((l) => l.includes('pmark2')) && Date.now() < d2) await new Promise((r) => setTimeout(r, 20))
  for (const p of procs) p.kill('SIGTERM')
  void lab
  return lines.slice(before).filter((l) => !l.includes('pmark'))
}
