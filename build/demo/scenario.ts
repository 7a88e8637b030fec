// The demo as a sequence of checked steps, shared by `npm run demo` (prints) and the
// end-to-end test (asserts). Everything runs in network namespaces the Lab creates and removes:
//
//   client c (192.0.2.2) -- (192.0.2.1) router r [BIRD 2, ECMP] (198.51.100.1) -- bridge lan
//       lan: controller ctl 198.51.100.10 [porter controller]
//            hosts h1..h3 198.51.100.11-13 [porter agent, HTTP server on :80]
//   VIP 203.0.113.10 on each host's lo, announced with the three hosts as next hops.
import { readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'
import { createLab, waitFor, type Lab, type TeardownHost } from '../../test/e2e/lib/netns.ts'
import { Bird } from '../../test/e2e/lib/bird.ts'
import { gateways, routedLan } from '../../test/e2e/lib/bgp-lab.ts'
import { PorterProc } from '../../test/e2e/lib/porter.ts'
import { renderStatus } from '../../internal/cli/table.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
export const VIP = '203.0.113.10'
const HOSTS = ['198.51.100.11', '198.51.100.12', '198.51.100.13']

export interface DemoOptions {
  /** built executable; default: run porter from source */
  binary?: string
  print?: (text: string) => void
  t?: TeardownHost
}

export interface DemoResult {
  established: boolean
  ecmp3: string[]
  spread: Record<string, number>
  failures: number
  downHost: string
  ecmp2: string[]
  dropMs: number
  spreadAfterDrop: Record<string, number>
  failuresAfterDrop: number
  ecmpRestored: string[]
  restoreMs: number
}

const routeGateways = (ns: string) => gateways(ns, `${VIP}/32`)

export async function requests(lab: Lab, client: string, n: number): Promise<{ spread: Record<string, number>; failures: number }> {
  const spread: Record<string, number> = {}
  let failures = 0
  for (let i = 0; i < n; i++) {
    const r = await lab.exec(client, ['curl', '-s', '--max-time', '2', `http://${VIP}/`], { allowFail: true })
    const who = r.stdout.trim()
    if (r.code !== 0 || !who) failures++
    else spread[who] = (spread[who] ?? 0) + 1
  }
  return { spread, failures }
}

export function httpServer(lab: Lab, ns: string, name: string): ChildProcess {
  const js = `require('http').createServer((q,s)=>s.end(${JSON.stringify(name)}+'\\n')).listen(80,'0.0.0.0')`
  return lab.spawn(ns, [process.execPath, '-e', js], { label: `http-${name}` })
}

export async function runDemo(o: DemoOptions = {}): Promise<DemoResult> {
  const print = o.print ?? (() => {})
  const lab = createLab(o.t)
  const procs: PorterProc[] = []
  try {
    // --- topology
    const { r, c, ns } = await routedLan(lab, { ctl: '198.51.100.10', h1: HOSTS[0]!, h2: HOSTS[1]!, h3: HOSTS[2]! },
      { lan: '198.51.100.1', client: ['192.0.2.1', '192.0.2.2'], names: ['router', 'client'] })
    const ctl = ns.ctl!
    const hosts = [ns.h1!, ns.h2!, ns.h3!]
    print(`Topology: client 192.0.2.2 -> router (BIRD 2) -> hosts ${HOSTS.join(', ')}; porter controller at 198.51.100.10; VIP ${VIP}`)

    // --- router
    const bird = new Bird(lab, { ns: r, as: 65001, routerId: '198.51.100.1', peers: [{ address: '198.51.100.10', as: 65002, passive: true, name: 'porter' }] })
    await bird.start()

    // --- hosts: HTTP server + porter agent
    const servers = hosts.map((h, i) => httpServer(lab, h, `h${i + 1}`))
    const base = readFileSync(join(HERE, 'porter-demo.yaml'), 'utf8')
    for (const [i, h] of hosts.entries()) {
      const agentCfg = base.replace(/^agent:\n/m, `agent:\n  nodeAddresses: [${HOSTS[i]}]\n`)
      const p = new PorterProc(lab, h, agentCfg, 'agent', o.binary)
      procs.push(p)
      await p.start()
    }
    for (const h of hosts) await waitFor(async () => (await lab.exec(h, ['ip', '-4', 'addr', 'show', 'dev', 'lo'])).stdout.includes(VIP), { what: `VIP on ${h} lo` })
    print(`Agents: ${VIP} is on lo of h1, h2, h3 (nftables table inet porter accepts it)`)

    // --- controller
    const ctlProc = new PorterProc(lab, ctl, base, 'controller', o.binary)
    procs.push(ctlProc)
    await ctlProc.start()
    await ctlProc.waitPeers('Established')
    await bird.waitEstablished()
    const res: Partial<DemoResult> = { established: true }
    print('\n== 1. BGP session up\n' + (await bird.birdc(['show', 'protocols', 'porter'])).stdout.trim())

    // --- ECMP with three next hops
    res.ecmp3 = await waitFor(async () => { const g = await routeGateways(r); return g.length === 3 ? g : undefined }, { timeoutMs: 30_000, what: 'ECMP route with 3 next hops' })
    print('\n== 2. Router kernel route for the VIP: three next hops\n' + (await lab.exec(r, ['ip', 'route', 'show', `${VIP}/32`])).stdout.trim())

    // --- traffic spread
    const first = await requests(lab, c, 30)
    res.spread = first.spread
    res.failures = first.failures
    print(`\n== 3. 30 requests from the client: ${JSON.stringify(first.spread)}, failures ${first.failures}`)

    // --- a host fails its health check
    res.downHost = 'h2'
    const t0 = Date.now()
    await lab.kill(servers[1]!)
    res.ecmp2 = await waitFor(async () => { const g = await routeGateways(r); return g.length === 2 ? g : undefined }, { timeoutMs: 30_000, intervalMs: 20, what: 'route down to 2 next hops' })
    res.dropMs = Date.now() - t0
    print(`\n== 4. h2's HTTP server stopped -> health check failed -> route has two next hops after ${res.dropMs} ms\n` + (await lab.exec(r, ['ip', 'route', 'show', `${VIP}/32`])).stdout.trim())
    const second = await requests(lab, c, 30)
    res.spreadAfterDrop = second.spread
    res.failuresAfterDrop = second.failures
    print(`   30 more requests: ${JSON.stringify(second.spread)}, failures ${second.failures}`)

    // --- restored
    const t1 = Date.now()
    servers[1] = httpServer(lab, hosts[1]!, 'h2')
    res.ecmpRestored = await waitFor(async () => { const g = await routeGateways(r); return g.length === 3 ? g : undefined }, { timeoutMs: 30_000, intervalMs: 20, what: 'route back to 3 next hops' })
    res.restoreMs = Date.now() - t1
    print(`\n== 5. h2 restored -> three next hops again after ${res.restoreMs} ms\n` + (await lab.exec(r, ['ip', 'route', 'show', `${VIP}/32`])).stdout.trim())
    print('\n== porter status (controller)\n' + renderStatus(await ctlProc.status()))
    return res as DemoResult
  } finally {
    for (const p of procs) { await p.stop().catch(() => {}); p.cleanup() }
    if (!o.t) await lab.cleanup()
  }
}
