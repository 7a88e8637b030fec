// Benchmark (run by hand, as root): `node --import tsx test/bench/controller-k8s.ts [--changes=500] [--services=5000] [--nodes=100]`
//
// The Kubernetes controller as users run it: the built dist/porter (`porter controller` with a
// kubeconfig, BgpConf/BgpPeer/Eip objects), a real kube-apiserver (test/lib/kube-apiserver.ts)
// and a BIRD 2 router with kernel export in a network namespace. Every figure ends at the
// router's kernel FIB, watched with `ip monitor route` in the router's namespace (no polling).
//
//   service   a LoadBalancer Service created (its EndpointSlice with a ready endpoint already
//             there) -> its /32 in the router's FIB; --changes times, one after the other
//   endpoint  an endpoint of an existing Service becomes ready -> its /32 in the FIB
//   unready   that endpoint (the Service's only one) becomes not ready -> its /32 leaves the FIB
//   cold      --services Services (Local, endpoints on 2 of --nodes nodes) already allocated;
//             the controller (re)started -> every /32 in the FIB
//   alloc     the same Services created while the controller runs, first allocation of all
//             (IP + finalizer + status writes) -> every /32 in the FIB
//   RSS       the controller's VmRSS and VmHWM after the cold start
// Objects are written with the admin token straight over HTTPS from this process (no kubectl
// spawn inside a timed window). Reference: MetalLB users report 3-4 s from Service change to
// route (metallb/metallb#2900); targets of issue 8: p99 < 100 ms per change, cold < 5 s,
// RSS < 200 MiB.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { KubeConfig } from '@kubernetes/client-node'
import { KubeRest, MERGE_PATCH } from '../../internal/k8s/rest.ts'
import { kubeLab, list, controllerYaml, PORTER_AS, ROUTER_AS, setNodeStatus, type KubeLab } from '../e2e/lib/kube-lab.ts'
import { PorterProc } from '../e2e/lib/porter.ts'
import { waitFor } from '../e2e/lib/netns.ts'

const { values } = parseArgs({ options: { changes: { type: 'string', default: '500' }, services: { type: 'string', default: '5000' }, nodes: { type: 'string', default: '100' } } })
const CHANGES = Number(values.changes)
const SERVICES = Number(values.services)
const NODES = Number(values.nodes)

const teardowns: (() => unknown)[] = []
const host = { teardown: (fn: () => unknown) => { teardowns.push(fn) } }
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! }
const ms = (x: number) => `${x.toFixed(1)} ms`

/** `ip monitor route` in the router namespace: resolves waiters when a /32 appears. */
class FibWatch {
  private seen = new Set<string>()
  private waiters = new Map<string, (t: number) => void>()
  private goneWaiters = new Map<string, (t: number) => void>()
  private counters: { n: number; resolve: (t: number) => void }[] = []
  constructor(ns: string) {
    const p = spawn('ip', ['-n', ns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'inherit'] })
    teardowns.push(() => p.kill())
    createInterface({ input: p.stdout! }).on('line', (line) => {
      const now = performance.now()
      if (line.startsWith('Deleted')) {
        const ip = line.split(' ')[1]!.replace('/32', '')
        this.seen.delete(ip)
        this.goneWaiters.get(ip)?.(now)
        this.goneWaiters.delete(ip)
        return
      }
      const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/32)? /.exec(line)
      if (!m) return
      const ip = m[1]!
      if (this.seen.has(ip)) return
      this.seen.add(ip)
      this.waiters.get(ip)?.(now)
      this.waiters.delete(ip)
      for (const c of [...this.counters]) if (this.seen.size >= c.n) { c.resolve(now); this.counters.splice(this.counters.indexOf(c), 1) }
    })
  }
  has(ip: string) { return this.seen.has(ip) }
  next(ip: string): Promise<number> { return this.has(ip) ? Promise.resolve(performance.now()) : new Promise((r) => this.waiters.set(ip, r)) }
  /** when `ip` leaves the FIB */
  gone(ip: string): Promise<number> { return this.has(ip) ? new Promise((r) => this.goneWaiters.set(ip, r)) : Promise.resolve(performance.now()) }
  count(n: number): Promise<number> { return this.seen.size >= n ? Promise.resolve(performance.now()) : new Promise((resolve) => this.counters.push({ n, resolve })) }
  get size() { return this.seen.size }
  reset() { this.seen.clear() }
}

function svc(name: string, annotations: Record<string, string> = {}) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb', ...annotations } }, spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', allocateLoadBalancerNodePorts: false, selector: { app: name }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } }
}
function slice(name: string, nodes: string[], ready: boolean) {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', endpoints: nodes.map((n, i) => ({ addresses: [`198.51.100.${i + 1}`], nodeName: n, conditions: { ready } })), ports: [{ port: 8080, protocol: 'TCP' }] }
}

async function parallel<T>(items: T[], width: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let i = 0
  await Promise.all(Array.from({ length: width }, async () => { while (i < items.length) await fn(items[i++]!) }))
}

function rss(pid: number): { rssMiB: number; hwmMiB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0)
  return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 }
}

async function main(): Promise<void> {
  // every Local Service holds a health-check NodePort: 5,000 need more than the default 2,768
  const kl: KubeLab = await kubeLab(host, 1, { apiserverArgs: ['--service-node-port-range=20000-65000'] })
  const kc = new KubeConfig()
  kc.loadFromFile(kl.api.adminKubeconfig)
  const rest = new KubeRest(kc)
  teardowns.push(() => rest.close())
  const fib = new FibWatch(kl.r)
  // a burst of thousands of routes can overflow `ip monitor` (ENOBUFS): then count the FIB instead
  const fibCount = async () => (await kl.lab.exec(kl.r, ['ip', '-4', 'route', 'show', 'proto', 'bird'])).stdout.split('\n').filter((l) => /^\d/.test(l)).length
  const post = (path: string, body: object) => rest.call('POST', path, body)
  await kl.apply(list([
    { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpConf', metadata: { name: 'default' }, spec: { as: PORTER_AS, routerId: '192.0.2.2', listenPort: 0, gracefulRestart: { enabled: false } } },
    { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpPeer', metadata: { name: 'leaf1' }, spec: { conf: { peerAs: ROUTER_AS, neighborAddress: '192.0.2.1' } } },
    { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'Eip', metadata: { name: 'bench', annotations: { 'eip.openelb.kubesphere.io/is-default-eip': 'true' } }, spec: { address: '198.18.0.0/16' } },
  ]))
  // more nodes: 192.0.2.100.. (on the router's link)
  const nodeNames: string[] = []
  for (let i = 0; i < NODES; i++) nodeNames.push(`bench-${i}`)
  await parallel(nodeNames, 8, async (n) => {
    const i = nodeNames.indexOf(n)
    await post('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: n } })
    await setNodeStatus(kl.kubectl, n, `192.0.2.${100 + (i % 150)}`, true)
  })
  const porter = new PorterProc(kl.lab, kl.porterNs[0]!, controllerYaml(kl.kubeconfigs[0]!, 'bench'), 'controller', kl.binary)
  teardowns.push(async () => { await porter.stop(); porter.cleanup() })
  await porter.start()
  await kl.bird.waitEstablished(['porter1'])
  const results: Record<string, string> = {}
  const report = (k: string, v: string) => { results[k] = v; console.log(`  ${k.padEnd(9)} ${v}`) }

  // 1. Service created -> route
  const created: number[] = []
  for (let i = 0; i < CHANGES; i++) {
    const name = `chg-${i}`
    await post('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', slice(name, ['node-a'], true))
    const before = fib.size
    const t0 = performance.now()
    await post('/api/v1/namespaces/default/services', svc(name))
    const t1 = await fib.count(before + 1)
    created.push(t1 - t0)
  }
  if (created.length) report('service', `p50 ${ms(pct(created, 50))}, p99 ${ms(pct(created, 99))}, max ${ms(Math.max(...created))} over ${created.length}`)

  // 2. endpoint becomes ready -> route
  const ready: number[] = []
  for (let i = 0; i < CHANGES; i++) {
    const name = `ep-${i}`
    await post('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', slice(name, ['node-b'], false))
    await post('/api/v1/namespaces/default/services', svc(name))
    const ip = await waitFor(async () => {
      const s = await rest.get<{ status?: { loadBalancer?: { ingress?: { ip: string }[] } } }>(`/api/v1/namespaces/default/services/${name}`)
      return s.status?.loadBalancer?.ingress?.[0]?.ip
    }, { timeoutMs: 20_000, intervalMs: 5, what: 'ingress IP' })
    const t0 = performance.now()
    await rest.call('PATCH', `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/${name}-1`, { endpoints: [{ addresses: ['198.51.100.1'], nodeName: 'node-b', conditions: { ready: true } }] }, MERGE_PATCH)
    const t1 = await fib.next(ip)
    ready.push(t1 - t0)
  }
  if (ready.length) report('endpoint', `p50 ${ms(pct(ready, 50))}, p99 ${ms(pct(ready, 99))}, max ${ms(Math.max(...ready))} over ${ready.length}`)

  // 2b. the same endpoints become not ready (the only one of each Service) -> the route leaves the FIB
  const unready: number[] = []
  for (let i = 0; i < CHANGES; i++) {
    const name = `ep-${i}`
    const s = await rest.get<{ status?: { loadBalancer?: { ingress?: { ip: string }[] } } }>(`/api/v1/namespaces/default/services/${name}`)
    const ip = s.status?.loadBalancer?.ingress?.[0]?.ip
    if (!ip || !fib.has(ip)) continue
    const gone = fib.gone(ip)
    const t0 = performance.now()
    await rest.call('PATCH', `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/${name}-1`, { endpoints: [{ addresses: ['198.51.100.1'], nodeName: 'node-b', conditions: { ready: false } }] }, MERGE_PATCH)
    unready.push((await gone) - t0)
  }
  if (unready.length) report('unready', `p50 ${ms(pct(unready, 50))}, p99 ${ms(pct(unready, 99))}, max ${ms(Math.max(...unready))} over ${unready.length}`)

  // 3. first allocation of SERVICES Services while the controller runs
  const base = fib.size
  const names = Array.from({ length: SERVICES }, (_, i) => `cold-${i}`)
  await parallel(names, 16, (n) => { const i = names.indexOf(n); return post('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', slice(n, [nodeNames[i % NODES]!, nodeNames[(i + 1) % NODES]!], true)) })
  const a0 = performance.now()
  await parallel(names, 16, (n) => post('/api/v1/namespaces/default/services', svc(n)))
  const aCreated = performance.now()
  const a1 = await Promise.race([fib.count(base + SERVICES), waitFor(async () => ((await fibCount()) >= base + SERVICES ? performance.now() : undefined), { timeoutMs: 900_000, intervalMs: 200, what: 'all routes' })])
  report('alloc', `${SERVICES} Services x ${NODES} nodes: created in ${((aCreated - a0) / 1000).toFixed(2)} s, all routes in the FIB ${((a1 - a0) / 1000).toFixed(2)} s after the first create`)

  // 4. cold start: stop the controller, BIRD drops its routes (no graceful restart wait: the
  //    session closes with a NOTIFICATION on SIGTERM without restart), start again
  await porter.stop()
  await waitFor(async () => ((await fibCount()) === 0 ? true : undefined), { timeoutMs: 400_000, intervalMs: 200, what: 'router FIB empty' })
  fib.reset()
  const total = base + SERVICES
  const c0 = performance.now()
  await porter.start()
  const c1 = await waitFor(async () => ((await fibCount()) >= total ? performance.now() : undefined), { timeoutMs: 300_000, intervalMs: 50, what: `${total} routes in the router FIB` })
  report('cold', `restart -> all ${total} routes in the FIB: ${((c1 - c0) / 1000).toFixed(2)} s (process start included)`)
  const mem = rss(porter.child!.pid!)
  report('rss', `VmRSS ${mem.rssMiB.toFixed(0)} MiB, VmHWM ${mem.hwmMiB.toFixed(0)} MiB with ${total} Services, right after the cold start`)
  await new Promise((r) => setTimeout(r, 30_000))
  const idle = rss(porter.child!.pid!)
  report('rss idle', `VmRSS ${idle.rssMiB.toFixed(0)} MiB 30 s later (VmHWM ${idle.hwmMiB.toFixed(0)} MiB)`)

  console.log(`\ncontroller-k8s benchmark (${new Date().toISOString()}, dist/porter, kube-apiserver ${kl.api.version}, BIRD 2)`)
  for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(9)} ${v}`)
  console.log('  targets: p99 < 100 ms per change; cold < 5 s; RSS < 200 MiB. Reference: MetalLB 3-4 s per change (metallb#2900)')
}

main().then(async () => { for (const f of teardowns.reverse()) await f() }, async (e) => {
  console.error(e)
  for (const f of teardowns.reverse()) await f()
  process.exit(1)
})
