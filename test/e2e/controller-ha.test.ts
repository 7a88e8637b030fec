// No IP moves by accident, and losing the leader loses no route (built dist/porter, real
// kube-apiserver, BIRD 2):
//   - 200 Services allocated, the controller restarted 20 times: not one IP changes
//   - two replicas peer with the router (graceful restart off, so the router keeps nothing of
//     a dead session): SIGKILL the leader -> the router's FIB never loses the VIP's next hops,
//     and the other replica takes the Lease and allocates the next Service
import t from 'tap'
import { waitFor } from './lib/netns.ts'
import { gateways as allGateways } from './lib/bgp-lab.ts'
import { PorterProc } from './lib/porter.ts'
import {
  kubeLab, list, startController, serviceYaml, sliceYaml, eipYaml, waitIngress, controllerYaml, NODES, PORTER_AS, ROUTER_AS,
} from './lib/kube-lab.ts'

/** distinct next hops: two replicas announce the same paths, BIRD may list a next hop once per session */
const gateways = async (ns: string, prefix: string) => [...new Set(await allGateways(ns, prefix))].sort()

interface KubeStatus { kubernetes: { synced: boolean; leader: { leader: boolean }; allocated: number; lastPass?: { writes: number } } }

async function allIps(kubectl: (a: string[]) => Promise<string>): Promise<Map<string, string>> {
  const list = JSON.parse(await kubectl(['get', 'svc', '-n', 'default', '-o', 'json'])) as { items: { metadata: { name: string }; spec: { type: string }; status: { loadBalancer?: { ingress?: { ip: string }[] } } }[] }
  return new Map(list.items.filter((s) => s.spec.type === 'LoadBalancer').map((s) => [s.metadata.name, (s.status.loadBalancer?.ingress ?? []).map((i) => i.ip).join(',')]))
}

t.test('200 Services, 20 controller restarts: zero IP changes', async (t) => {
  const kl = await kubeLab(t, 1)
  await kl.apply(list(['BgpConf', 'BgpPeer'].map((k) => k === 'BgpConf'
    ? { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpConf', metadata: { name: 'default' }, spec: { as: PORTER_AS, routerId: '192.0.2.2', listenPort: 0 } }
    : { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpPeer', metadata: { name: 'leaf1' }, spec: { conf: { peerAs: ROUTER_AS, neighborAddress: '192.0.2.1' } } })))
  await kl.apply(eipYaml('pool', '203.0.113.0/24'))
  const N = 200
  const items = Array.from({ length: N }, (_, i) => JSON.parse(serviceYaml(`svc-${i}`)) as object)
  await kl.apply(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }))
  await kl.apply(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: Array.from({ length: N }, (_, i) => JSON.parse(sliceYaml(`svc-${i}`, [{ node: 'node-a', ready: true }])) as object) }))
  let porter = await startController(kl, 0, t)
  const first = await waitFor(async () => {
    const m = await allIps(kl.kubectl)
    return [...m.values()].filter((v) => v !== '').length === N ? m : undefined
  }, { timeoutMs: 60_000, intervalMs: 500, what: `${N} Services with an IP` })
  t.equal(new Set(first.values()).size, N, `${N} distinct IPs`)
  await waitFor(async () => (await gateways(kl.r, '203.0.113.199/32')).length === 1, { timeoutMs: 30_000, what: 'routes at the router' })

  const RESTARTS = 20
  let changes = 0
  for (let i = 0; i < RESTARTS; i++) {
    await porter.stop()
    porter.cleanup()
    porter = await startController(kl, 0, t)
    // leader again, and a full pass over the synced caches done
    await waitFor(async () => {
      const s = (await porter.status()) as unknown as KubeStatus
      return s.kubernetes?.synced && s.kubernetes.leader.leader && s.kubernetes.lastPass && s.kubernetes.allocated === N ? s : undefined
    }, { timeoutMs: 30_000, intervalMs: 100, what: `restart ${i + 1}: leader with ${N} allocations` })
    const now = await allIps(kl.kubectl)
    for (const [k, v] of first) if (now.get(k) !== v) changes++
  }
  t.equal(changes, 0, `${RESTARTS} restarts x ${N} Services: no IP changed`)
  const eip = JSON.parse(await kl.kubectl(['get', 'eip', 'pool', '-o', 'json'])) as { status: { usage: number; used: Record<string, string> } }
  t.equal(eip.status.usage, N, 'Eip usage unchanged')
  t.equal(Object.keys(eip.status.used).length, N)
})

t.test('two replicas: killing the leader loses no route; the other allocates the next Service', async (t) => {
  const kl = await kubeLab(t, 2)
  // no routerId in BgpConf: each replica's config file gives its own; graceful restart off so a
  // dead session's routes leave the router at once (only the other replica can keep them)
  await kl.apply(list([
    { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpConf', metadata: { name: 'default' }, spec: { as: PORTER_AS, listenPort: 0, gracefulRestart: { enabled: false } } },
    { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpPeer', metadata: { name: 'leaf1' }, spec: { conf: { peerAs: ROUTER_AS, neighborAddress: '192.0.2.1' }, timers: { config: { holdTime: 9 } } } },
  ]))
  await kl.apply(eipYaml('pool', '203.0.113.10-203.0.113.20'))
  const replicas: PorterProc[] = []
  for (const i of [0, 1]) {
    const p = new PorterProc(kl.lab, kl.porterNs[i]!, `bgp: { localAs: ${PORTER_AS}, routerId: 192.0.2.${i + 2} }\n${controllerYaml(kl.kubeconfigs[i]!, `replica-${i + 1}`)}`, 'controller', kl.binary)
    t.teardown(async () => { await p.stop(); p.cleanup() })
    await p.start()
    replicas.push(p)
  }
  await kl.bird.waitEstablished(['porter1', 'porter2'])
  await kl.apply(serviceYaml('web'))
  await kl.apply(sliceYaml('web', [{ node: 'node-a', ready: true }, { node: 'node-b', ready: true }]))
  const vip = await waitIngress(kl, 'web')
  const want = [NODES['node-a']!, NODES['node-b']!].sort()
  await waitFor(async () => JSON.stringify(await gateways(kl.r, `${vip}/32`)) === JSON.stringify(want), { timeoutMs: 20_000, what: 'ECMP route' })
  const routes = await kl.bird.routes(['for', `${vip}/32`, 'all'])
  t.ok(routes.length >= 4, `both replicas announce both paths (${routes.length} paths at BIRD)`)

  const { leaderIdx } = await waitFor(async () => {
    const s = await Promise.all(replicas.map(async (r) => ((await r.status()) as unknown as KubeStatus).kubernetes.leader.leader))
    return s.filter(Boolean).length === 1 ? { leaderIdx: s.indexOf(true) } : undefined
  }, { what: 'exactly one leader' })
  t.pass(`replica-${leaderIdx + 1} leads`)
  const leader = replicas[leaderIdx]!
  const other = replicas[1 - leaderIdx]!

  // watch the router's FIB every 50 ms while the leader dies and the other takes over
  let samples = 0
  let bad = 0
  let watching = true
  const watcher = (async () => {
    while (watching) {
      const g = await gateways(kl.r, `${vip}/32`)
      samples++
      if (JSON.stringify(g) !== JSON.stringify(want)) bad++
      await new Promise((r) => setTimeout(r, 50))
    }
  })()
  leader.signal('SIGKILL')
  await waitFor(async () => (await kl.bird.peerState(`porter${leaderIdx + 1}`)) !== 'established', { timeoutMs: 30_000, what: 'the dead replica\'s session is down at BIRD' })
  await waitFor(async () => ((await other.status()) as unknown as KubeStatus).kubernetes.leader.leader || undefined, { timeoutMs: 20_000, what: 'the other replica leads' })
  await kl.apply(serviceYaml('next', { ports: [8080] }))
  const nextIp = await waitIngress(kl, 'next')
  t.ok(nextIp !== '' && nextIp !== vip, `the new leader allocated ${nextIp}`)
  await new Promise((r) => setTimeout(r, 500))
  watching = false
  await watcher
  t.ok(samples > 20, `${samples} FIB samples taken during the failover`)
  t.equal(bad, 0, 'the VIP never lost a next hop at the router')
})
