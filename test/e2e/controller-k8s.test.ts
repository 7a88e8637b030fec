// `porter controller` (the built dist/porter) against a real kube-apiserver and a BIRD 2 router:
// CRDs and OpenELB's sample manifests apply unchanged; the controller's least-privilege RBAC is
// enough; a LoadBalancer Service gets an IP from an Eip, written to its status, announced to
// BIRD with the nodes of its ready endpoints as ECMP next hops; next hops follow the endpoints;
// no endpoints -> withdrawn; deleted -> the IP goes back to the pool.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { waitFor } from './lib/netns.ts'
import { gateways } from './lib/bgp-lab.ts'
import {
  kubeLab, list, startController, serviceYaml, sliceYaml, bgpObjects, eipYaml, waitIngress, ingressOf, setNodeStatus,
  NODES, PORTER_AS, ROUTER_AS, type KubeLab,
} from './lib/kube-lab.ts'

const route = (kl: KubeLab, ip: string) => gateways(kl.r, `${ip}/32`)
async function waitRoute(kl: KubeLab, ip: string, want: string[], what: string): Promise<string[]> {
  return waitFor(async () => { const g = await route(kl, ip); return JSON.stringify(g) === JSON.stringify(want) ? g : undefined }, { timeoutMs: 20_000, intervalMs: 100, what })
}
const hops = (...names: string[]) => names.map((n) => NODES[n]!).sort()

t.test('CRDs and OpenELB samples on a real API server', async (t) => {
  const kl = await kubeLab(t, 1)
  const samples = [
    'apiVersion: network.kubesphere.io/v1alpha2\nkind: Eip\nmetadata:\n  name: eip-sample-pool\n  annotations:\n    eip.openelb.kubesphere.io/is-default-eip: "true"\nspec:\n  address: 192.0.2.91-192.0.2.100\n  protocol: layer2\n  interface: eth0\n  disable: false\n',
    'apiVersion: network.kubesphere.io/v1alpha2\nkind: Eip\nmetadata:\n  name: eip-sample\nspec:\n  address: 203.0.113.228\n',
    'apiVersion: network.kubesphere.io/v1alpha2\nkind: BgpConf\nmetadata:\n  name: default\nspec:\n  as: 50001\n  listenPort: 17900\n  routerId: 192.0.2.10\n',
    'apiVersion: network.kubesphere.io/v1alpha2\nkind: BgpPeer\nmetadata:\n  name: bgppeer-sample\nspec:\n  conf:\n    peerAs: 50000\n    neighborAddress: 192.0.2.20\n  afiSafis:\n    - config:\n        family:\n          afi: AFI_IP\n          safi: SAFI_UNICAST\n        enabled: true\n      addPaths:\n        config:\n          sendMax: 10\n',
    'kind: Service\napiVersion: v1\nmetadata:\n  name: mylbapp\n  annotations:\n    lb.kubesphere.io/v1alpha1: porter\nspec:\n  selector:\n    app: mylbapp\n  type: LoadBalancer\n  ports:\n    - name: http\n      port: 8088\n      targetPort: 80\n',
  ]
  t.ok(samples.length >= 5, 'the corpus of samples is not empty')
  for (const s of samples) {
    const r = await kl.api.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: s, allowFail: true })
    t.equal(r.code, 0, `applies unchanged: ${s.split('\n').find((l) => l.startsWith('kind'))} ${r.stderr}`)
  }
  const bad = await kl.api.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: eipYaml('bad', '192.0.2.1', { protocol: 'ospf' }), allowFail: true })
  t.not(bad.code, 0, 'the schema refuses an unknown protocol')
  t.match(bad.stderr, /spec\.protocol/, '... naming the field')
  // the RBAC itself (enough and no more, for the ServiceAccounts): test/e2e/k8s-manifests.test.ts
})

t.test('a LoadBalancer Service end to end: IP in status, ECMP at the router, next hops follow endpoints', async (t) => {
  const kl = await kubeLab(t, 1)
  await kl.apply(bgpObjects())
  await kl.apply(eipYaml('pool', '203.0.113.10-203.0.113.20'))
  const porter = await startController(kl, 0, t)
  await kl.bird.waitEstablished(['porter1'])

  await t.test('Service created -> IP from the pool in its status (ipMode VIP), finalizer, event', async (t) => {
    await kl.apply(serviceYaml('web'))
    t.equal(await waitIngress(kl, 'web'), '203.0.113.10', 'lowest free IP of the pool')
    const svc = JSON.parse(await kl.kubectl(['get', 'svc', 'web', '-o', 'json'])) as { metadata: { finalizers?: string[] }; status: { loadBalancer: { ingress: { ip: string; ipMode?: string }[] }; conditions?: { type: string; status: string }[] } }
    t.equal(svc.status.loadBalancer.ingress[0]!.ipMode, 'VIP')
    t.ok(svc.metadata.finalizers?.includes('finalizer.lb.kubesphere.io/v1alpha1'), 'finalizer set')
    t.ok(svc.status.conditions?.some((c) => c.type === 'porter.kubesphere.io/IPAllocated' && c.status === 'True'), 'IPAllocated condition')
    const ev = await waitFor(async () => { const o = await kl.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=web,reason=IPAllocated', '-o', 'name']); return o.trim() || undefined }, { what: 'IPAllocated event' })
    t.ok(ev, 'IPAllocated event')
    t.same(await route(kl, '203.0.113.10'), [], 'no endpoints yet: not announced')
  })

  await t.test('ready endpoints on node-a and node-b -> one ECMP route via both', async (t) => {
    await kl.apply(sliceYaml('web', [{ node: 'node-a', ready: true }, { node: 'node-b', ready: true }, { node: 'node-c', ready: false }]))
    t.same(await waitRoute(kl, '203.0.113.10', hops('node-a', 'node-b'), 'ECMP via node-a, node-b'), hops('node-a', 'node-b'))
  })

  await t.test('endpoints move -> next hops follow, the session stays up', async (t) => {
    await kl.apply(sliceYaml('web', [{ node: 'node-a', ready: false }, { node: 'node-b', ready: true }, { node: 'node-c', ready: true }]))
    t.same(await waitRoute(kl, '203.0.113.10', hops('node-b', 'node-c'), 'via node-b, node-c'), hops('node-b', 'node-c'))
    const st = await porter.status()
    t.equal(st.peers[0]?.state, 'Established')
    t.equal((st.peers[0] as unknown as { flaps?: number }).flaps ?? 0, 0, 'no session reset')
  })

  await t.test('externalTrafficPolicy Cluster -> every Ready node; a NotReady node drops out', async (t) => {
    await kl.kubectl(['patch', 'svc', 'web', '--type=merge', '-p', '{"spec":{"externalTrafficPolicy":"Cluster"}}'])
    t.same(await waitRoute(kl, '203.0.113.10', hops('node-a', 'node-b', 'node-c'), 'via all nodes'), hops('node-a', 'node-b', 'node-c'))
    await setNodeStatus(kl.kubectl, 'node-a', NODES['node-a']!, false)
    t.same(await waitRoute(kl, '203.0.113.10', hops('node-b', 'node-c'), 'node-a NotReady'), hops('node-b', 'node-c'))
    await setNodeStatus(kl.kubectl, 'node-a', NODES['node-a']!, true)
    await kl.kubectl(['patch', 'svc', 'web', '--type=merge', '-p', '{"spec":{"externalTrafficPolicy":"Local"}}'])
  })

  await t.test('a second Service gets the next IP; a conflicting request is refused with an event', async (t) => {
    await kl.apply(serviceYaml('api', { ports: [443] }))
    t.equal(await waitIngress(kl, 'api'), '203.0.113.11')
    await kl.apply(serviceYaml('steal', { annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb', 'eip.openelb.kubesphere.io/v1alpha1': '203.0.113.10' }, policy: 'Cluster' }))
    const ev = await waitFor(async () => (await kl.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=steal,reason=AllocationFailed', '-o', 'jsonpath={.items[*].message}'])).trim() || undefined, { what: 'AllocationFailed event' })
    t.match(ev, /203\.0\.113\.10/, 'the event names the IP')
    t.equal(await ingressOf(kl, 'steal'), '', 'no IP: never a silent steal')
    t.equal(await ingressOf(kl, 'web'), '203.0.113.10', 'the holder keeps it')
    await kl.kubectl(['delete', 'svc', 'steal', '--wait=true'])
  })

  await t.test('scale to zero -> withdrawn; delete -> the IP goes back to the pool', async (t) => {
    await kl.apply(sliceYaml('web', []))
    await waitRoute(kl, '203.0.113.10', [], 'withdrawn')
    t.match((await kl.bird.birdc(['show', 'route', 'for', '203.0.113.10/32'], true)).stdout, /Network not found/, 'gone from the BGP table')
    await kl.kubectl(['delete', 'svc', 'web', '--wait=true', '--timeout=20s'])
    const used = await waitFor(async () => {
      const u = await kl.kubectl(['get', 'eip', 'pool', '-o', 'jsonpath={.status.used}'])
      return u.includes('203.0.113.10') ? undefined : u
    }, { what: 'IP released in Eip status' })
    t.notMatch(used, /203\.0\.113\.10/)
    await kl.apply(serviceYaml('web2'))
    t.equal(await waitIngress(kl, 'web2'), '203.0.113.10', 'the released IP is allocated again')
  })

  await t.test('Eip status and porter status report the pool', async (t) => {
    type EipStatus = { status: { poolSize: number; usage: number; firstIP: string; lastIP: string; v4: boolean; ready: boolean } }
    // Eip statuses are written at most once a second
    const eip = await waitFor(async () => { const e = JSON.parse(await kl.kubectl(['get', 'eip', 'pool', '-o', 'json'])) as EipStatus; return e.status.usage === 2 ? e : undefined }, { timeoutMs: 10_000, what: 'Eip usage 2' })
    t.same([eip.status.poolSize, eip.status.firstIP, eip.status.lastIP, eip.status.v4, eip.status.ready], [11, '203.0.113.10', '203.0.113.20', true, true])
    t.equal(eip.status.usage, 2, 'api and web2')
    const st = await porter.status() as unknown as { kubernetes: { synced: boolean; connected: boolean; leader: { leader: boolean }; pools: { name: string; used: number }[] } }
    t.same([st.kubernetes.synced, st.kubernetes.connected, st.kubernetes.leader.leader], [true, true, true])
    t.same(st.kubernetes.pools.find((p) => p.name === 'pool')?.used, 2)
    const peer = JSON.parse(await kl.kubectl(['get', 'bgppeer', 'leaf1', '-o', 'json'])) as { status: { sessionState: string } }
    t.equal(peer.status.sessionState, 'Established', 'BgpPeer status shows the session')
  })

  await t.test('API server gone: the last known state stays announced, status says it is stale', async (t) => {
    await kl.apply(sliceYaml('web2', [{ node: 'node-c', ready: true }]))
    await waitRoute(kl, '203.0.113.10', hops('node-c'), 'web2 via node-c')
    await kl.api.stop()
    const st = await waitFor(async () => {
      const s = await porter.status() as unknown as { kubernetes: { connected: boolean; staleSince?: string } }
      return s.kubernetes.staleSince ? s : undefined
    }, { timeoutMs: 60_000, intervalMs: 200, what: 'staleSince in porter status' })
    t.equal(st.kubernetes.connected, false)
    await new Promise((r) => setTimeout(r, 2000))
    t.same(await route(kl, '203.0.113.10'), hops('node-c'), 'still announced: nothing is withdrawn because the API server went away')
    t.equal((await porter.status()).peers[0]?.state, 'Established')
  })
})

t.test('BgpPeer with its TCP MD5 key in a Secret: the session comes up signed; the key is never logged', async (t) => {
  const KEY = 'pt-k8s-md5-key'
  const kl = await kubeLab(t, 1, { password: KEY })
  await kl.apply(list([
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'leaf1-md5', namespace: 'porter-system' }, stringData: { password: KEY } },
    { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpConf', metadata: { name: 'default' }, spec: { as: PORTER_AS, routerId: '192.0.2.2', listenPort: 0 } },
    { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpPeer', metadata: { name: 'leaf1' }, spec: { conf: { peerAs: ROUTER_AS, neighborAddress: '192.0.2.1', authPasswordSecretRef: { name: 'leaf1-md5', namespace: 'porter-system' } } } },
  ]))
  const porter = await startController(kl, 0, t)
  await kl.bird.waitEstablished(['porter1'])
  const st = await porter.status()
  t.equal(st.peers[0]?.state, 'Established', 'signed session Established')
  const peer = JSON.parse(await kl.kubectl(['get', 'bgppeer', 'leaf1', '-o', 'json'])) as { status?: { sessionState?: string } }
  t.notMatch(JSON.stringify(peer), KEY, 'the key is not in the BgpPeer (spec or status)')
  await porter.stop()
  t.notMatch(readFileSync(porter.logFile, 'utf8'), KEY, 'the key is not in the log')
})
