// The kernel FIB of a namespace as a timeline: `ip -n NS monitor route`, each message stamped
// with the benchmark's clock (Date.now()) as it is read. A message is its first line plus the
// indented `nexthop via` lines after it (a multipath route). Read the timeline after the event
// (all lines in), and use polling (test/e2e/lib/bgp-lab.ts `gateways`) to know when to stop.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { exec, waitFor } from '../../e2e/lib/netns.ts'

/** one change of a prefix's route as the kernel reported it */
export interface RouteEvent {
  /** Date.now() when the message was read */
  at: number
  /** a `Deleted` message (the route left the FIB) */
  deleted: boolean
  /** next-hop gateways of the route, sorted (of the deleted route for a deletion) */
  gateways: string[]
  text: string
}

export class RouteWatch {
  private readonly child: ChildProcess
  private readonly messages: { at: number; lines: string[] }[] = []

  /** `what: 'link'` watches the links instead (linkDown), e.g. to time a cut cable as the kernel saw it */
  constructor(readonly ns: string, what: 'route' | 'link' = 'route') {
    this.child = spawn('ip', ['-n', ns, 'monitor', what], { stdio: ['ignore', 'pipe', 'ignore'] })
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const last = this.messages[this.messages.length - 1]
      if (/^\s/.test(line) && last) last.lines.push(line)
      else if (line.trim()) this.messages.push({ at: Date.now(), lines: [line] })
    })
  }

  /** Resolves once the monitor reports a route of our own (added and removed in `ns` via `gateway`). */
  async ready(probe: string, gateway: string): Promise<void> {
    await waitFor(async () => {
      await exec(this.ns, ['ip', 'route', 'replace', probe, 'via', gateway])
      return this.messages.some((m) => m.lines[0]!.startsWith(probe.replace(/\/32$/, '')))
    }, { timeoutMs: 10_000, intervalMs: 100, what: `ip monitor route in ${this.ns} to report ${probe}` })
    await exec(this.ns, ['ip', 'route', 'del', probe])
  }

  /** The changes of `prefix` (an IPv4 /32 or any exact prefix) reported from `since` on. */
  events(prefix: string, since = 0): RouteEvent[] {
    const bare = prefix.replace(/\/32$/, '')
    const head = new RegExp(`^(Deleted )?(${bare.replace(/\./g, '\\.')}|${prefix.replace(/\./g, '\\.')})\\s`)
    const out: RouteEvent[] = []
    for (const m of this.messages) {
      const match = m.at >= since ? head.exec(m.lines[0]!) : null
      if (!match) continue
      const text = m.lines.join('\n')
      out.push({ at: m.at, deleted: !!match[1], gateways: [...text.matchAll(/\bvia (\S+)/g)].map((x) => x[1]!).sort(), text })
    }
    return out
  }

  /** With `what: 'link'`: when link `ifname` was first reported down (or without carrier) from `since` on. */
  linkDown(ifname: string, since = 0): number | undefined {
    const down = new RegExp(`^\\d+: ${ifname}[@:].*([<,]NO-CARRIER|state DOWN)`)
    return this.messages.find((m) => m.at >= since && down.test(m.lines[0]!))?.at
  }

  stop(): void {
    this.child.kill()
  }
}

/**
 * The spells in which a route was absent from the FIB: from each `Deleted` to the next event
 * that installs it again (or `until` when none did), in ms.
 */
export function absences(events: RouteEvent[], until: number): { from: number; ms: number }[] {
  const out: { from: number; ms: number }[] = []
  events.forEach((e, i) => {
    if (!e.deleted) return
    const back = events.slice(i + 1).find((x) => !x.deleted)
    out.push({ from: e.at, ms: (back?.at ?? until) - e.at })
  })
  return out
}
