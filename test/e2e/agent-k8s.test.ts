// `porter agent` with kubernetes.enabled against a fake kube-apiserver, end to end:
//   node namespace: porter agent (from source) programming lo and nftables
//   api namespace:  test/fake-apiserver/runner.ts on 198.51.100.2:6443 (veth 198.51.100.0/24)
// A LoadBalancer Service's ingress IPs appear on the node's lo when it should announce them
// (Local: a ready endpoint on this node; Cluster: a ready endpoint anywhere) and go away when it
// should not; the agent survives an API server restart and a 410 Gone during a watch.
import t from 'tap'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { createLab, waitFor, type Lab, type TeardownHost } from './lib/netns.ts'
import { PorterProc } from './lib/porter.ts'
import { addrs, nftSetElems } from './agent-harness.ts'
import { ApiServerProc } from '../fake-apiserver/proc.ts'
import { writeKubeconfig } from '../fake-apiserver/kubeconfig.ts'

const API = '198.51.100.2'
const PORT = 6443
const NODE = 'node-a'
const CONFIG_VIP = '203.0.113.99'

interface K8sStatus {
  nodeName: string; connected: boolean; synced: boolean; services: number; announced: number; vips: string[]
  reasons: Record<string, number>; lastError?: { message: string }
  informers: { name: string; restarts: number; expired: number; lists: number; connected: boolean }[]
}
interface AgentStatus { agent: { vips: string[]; backend: string; kubernetes?: K8sStatus } }

const SVC = '/api/v1/namespaces/default/services'
const EPS = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices'
const MERGE = 'application/merge-patch+json'

function service(name: string, policy: 'Local' | 'Cluster') {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb' } }, spec: { type: 'LoadBalancer', externalTrafficPolicy: policy, selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }
}
function slice(name: string, svc: string, endpoints: { ip: string; node: string; ready: boolean }[]) {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, labels: { 'kubernetes.io/service-name': svc } }, addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], nodeName: e.node, conditions: { ready: e.ready } })), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  }
}

async function loVips(ns: string): Promise<string[]> {
  return (await addrs(ns)).filter((a) => a.ifname === 'lo' && (a.local.startsWith('203.0.113.') || a.local.startsWith('2001:db8:5:'))).map((a) => a.local).sort()
}

/** Wait until lo holds exactly `want` plus the config file's VIP. */
async function waitVips(ns: string, want: string[], what: string): Promise<void> {
  const sorted = [...want, CONFIG_VIP].sort()
  await waitFor(async () => JSON.stringify(await loVips(ns)) === JSON.stringify(sorted), { timeoutMs: 20_000, intervalMs: 100, what })
}

/** Both informers are watching (client-node waits a little before it reconnects a watch). */
async function bothWatching(server: ApiServerProc): Promise<void> {
  await waitFor(async () => (await server.call<number>('openWatches')) === 2, { timeoutMs: 20_000, intervalMs: 100, what: 'two open watches' })
}

async function setup(t: TeardownHost): Promise<{ lab: Lab; node: string; api: string; kubeconfig: string; state: string }> {
  const lab = createLab(t)
  const node = await lab.ns('node')
  const api = await lab.ns('api')
  await lab.veth({ ns: node, ifname: 'eth0' }, { ns: api, ifname: 'eth0' })
  await lab.addr(node, 'eth0', '198.51.100.1/24')
  await lab.addr(api, 'eth0', `${API}/24`)
  const kubeconfig = writeKubeconfig(join(lab.dir, 'kubeconfig'), `http://${API}:${PORT}`)
  return { lab, node, api, kubeconfig, state: join(lab.dir, 'apiserver-state.json') }
}

t.test('agent programs the VIPs of the LoadBalancer Services it announces', async (t) => {
  const { lab, node, api, kubeconfig, state } = await setup(t)
  let server = await ApiServerProc.start({ ns: api, host: API, port: PORT, stateFile: state })
  t.teardown(() => server.kill())

  // a VIP from the config file too: the desired set is config ∪ Kubernetes
  const porter = new PorterProc(lab, node, [
    'agent: { interface: lo, firewall: nftables, nodeAddresses: [198.51.100.1] }',
    `vips: [{ address: ${CONFIG_VIP}, nextHops: [198.51.100.1] }]`,
    `kubernetes: { enabled: true, kubeconfig: ${kubeconfig}, nodeName: ${NODE} }`,
    '',
  ].join('\n'), 'agent')
  t.teardown(async () => { await porter.stop(); porter.cleanup() })
  await porter.start()
  const k8s = async (): Promise<K8sStatus> => ((await porter.status()) as unknown as AgentStatus).agent.kubernetes!
  const synced = await waitFor(async () => { const s = await k8s(); return s.synced && s.connected ? s : undefined }, { timeoutMs: 60_000, what: 'the Kubernetes source to sync' })
  t.equal(synced.nodeName, NODE, 'node name from kubernetes.nodeName')
  await waitVips(node, [], 'the config file\'s VIP')
  t.pass('only the config file\'s VIP before any Service')

  await t.test('Local policy with a ready endpoint on this node: the VIPs appear (IPv4 and IPv6)', async (t) => {
    await server.request('POST', SVC, service('web', 'Local'))
    await server.request('POST', EPS, slice('web-1', 'web', [{ ip: '198.51.100.7', node: NODE, ready: true }, { ip: '198.51.100.8', node: 'node-b', ready: true }]))
    // no ingress IP yet: nothing to announce
    await waitFor(async () => (await k8s()).reasons.noIngressIP === 1, { timeoutMs: 10_000, what: 'noIngressIP' })
    t.same(await loVips(node), [CONFIG_VIP], 'no Kubernetes VIP without an ingress IP')
    await server.request('PATCH', `${SVC}/web/status`, { status: { loadBalancer: { ingress: [{ ip: '203.0.113.50' }, { ip: '2001:db8:5::50' }] } } }, MERGE)
    await waitVips(node, ['203.0.113.50', '2001:db8:5::50'], 'the VIPs on lo')
    t.same(await nftSetElems(node, 'vips4'), ['203.0.113.50', CONFIG_VIP], 'nft set vips4')
    t.same(await nftSetElems(node, 'vips6'), ['2001:db8:5::50'], 'nft set vips6')
    const s = await k8s()
    t.match(s, { services: 1, announced: 1, vips: ['203.0.113.50', '2001:db8:5::50'] })
  })

  await t.test('the local endpoint becomes not ready: the VIPs are removed', async (t) => {
    await server.request('PATCH', `${EPS}/web-1`, { endpoints: [
      { addresses: ['198.51.100.7'], nodeName: NODE, conditions: { ready: false } },
      { addresses: ['198.51.100.8'], nodeName: 'node-b', conditions: { ready: true } },
    ] }, MERGE)
    await waitVips(node, [], 'the VIPs to go')
    t.equal((await k8s()).reasons.noLocalEndpoints, 1, 'reason noLocalEndpoints')
    t.same(await nftSetElems(node, 'vips4'), [CONFIG_VIP], 'only the config VIP left in the nft set')
  })

  await t.test('Cluster policy: a ready endpoint elsewhere is enough', async (t) => {
    await server.request('PATCH', `${SVC}/web`, { spec: { externalTrafficPolicy: 'Cluster' } }, MERGE)
    await waitVips(node, ['203.0.113.50', '2001:db8:5::50'], 'the VIPs back')
    t.equal((await k8s()).announced, 1)
  })

  await t.test('the Service is deleted: the VIPs are removed', async (t) => {
    await server.request('DELETE', `${SVC}/web`)
    await waitVips(node, [], 'the VIPs to go after delete')
    t.equal((await k8s()).services, 0)
  })

  await t.test('the API server restarts: the informers restart and keep working', async (t) => {
    const before = await k8s()
    await server.kill()
    await waitFor(async () => !(await k8s()).connected, { timeoutMs: 20_000, what: 'the source to notice the API server is gone' })
    const down = await k8s()
    t.ok(down.lastError?.message, `last error reported: ${down.lastError?.message}`)
    server = await ApiServerProc.start({ ns: api, host: API, port: PORT, stateFile: state })
    await server.request('POST', SVC, service('api', 'Cluster'))
    await server.request('POST', EPS, slice('api-1', 'api', [{ ip: '198.51.100.9', node: 'node-b', ready: true }]))
    await server.request('PATCH', `${SVC}/api/status`, { status: { loadBalancer: { ingress: [{ ip: '203.0.113.51' }] } } }, MERGE)
    await waitVips(node, ['203.0.113.51'], 'the new Service\'s VIP after the restart')
    const after = await waitFor(async () => { const s = await k8s(); return s.connected ? s : undefined }, { timeoutMs: 20_000, what: 'connected again' })
    const restarts = (s: K8sStatus) => s.informers.reduce((n, i) => n + i.restarts, 0)
    t.ok(restarts(after) > restarts(before), `informers restarted (${restarts(before)} -> ${restarts(after)})`)
  })

  await t.test('410 Gone during a watch (ERROR event): re-list, state converges', async (t) => {
    const expired = (s: K8sStatus) => s.informers.reduce((n, i) => n + i.expired, 0)
    const lists = (s: K8sStatus) => s.informers.reduce((n, i) => n + i.lists, 0)
    await bothWatching(server)
    const before = await k8s()
    // the watches get stuck while things change, the history is compacted, then the server ends them:
    // the informers come back with a resourceVersion that is too old
    await server.call('stall', { on: true })
    await server.request('POST', SVC, service('late', 'Local'))
    await server.request('POST', EPS, slice('late-1', 'late', [{ ip: '198.51.100.10', node: NODE, ready: true }]))
    await server.request('PATCH', `${SVC}/late/status`, { status: { loadBalancer: { ingress: [{ ip: '203.0.113.52' }] } } }, MERGE)
    await server.request('DELETE', `${SVC}/api`)
    t.same(await loVips(node), ['203.0.113.51', CONFIG_VIP], 'stalled watches: nothing changed yet')
    t.equal(await server.call<number>('expireWatches'), 2, 'both watches ended')
    await waitVips(node, ['203.0.113.52'], 'converged after the re-list')
    const after = await k8s()
    t.ok(expired(after) > expired(before) || lists(after) > lists(before), `re-listed (expired ${expired(before)} -> ${expired(after)}, lists ${lists(before)} -> ${lists(after)})`)
  })

  await t.test('410 Gone as an HTTP status on the watch request: re-list, state converges', async (t) => {
    const expired = (s: K8sStatus) => s.informers.reduce((n, i) => n + i.expired, 0)
    await bothWatching(server)
    const before = await k8s()
    await server.call('expiredWatch', { mode: 'status' })
    // keep the informers away from the new events, then make their resourceVersion too old
    await server.call('stall', { on: true })
    await server.request('PATCH', `${EPS}/late-1`, { endpoints: [{ addresses: ['198.51.100.10'], nodeName: NODE, conditions: { ready: false } }] }, MERGE)
    t.equal(await server.call<number>('expireWatches'), 2, 'both watches ended')
    await waitVips(node, [], 'converged after the re-list (endpoint not ready)')
    const after = await k8s()
    t.ok(expired(after) > expired(before), `410 seen (${expired(before)} -> ${expired(after)})`)
  })

  await t.test('SIGHUP with another node name and no config VIP: a new source takes over', async (t) => {
    await server.request('POST', SVC, service('other', 'Local'))
    await server.request('POST', EPS, slice('other-1', 'other', [{ ip: '198.51.100.11', node: 'node-b', ready: true }]))
    await server.request('PATCH', `${SVC}/other/status`, { status: { loadBalancer: { ingress: [{ ip: '203.0.113.53' }] } } }, MERGE)
    // 'other' has a ready endpoint on node-b only; 'late' has no usable endpoint anywhere
    await waitFor(async () => { const r = (await k8s()).reasons; return r.noLocalEndpoints === 1 && r.noEndpoints === 1 }, { timeoutMs: 20_000, what: 'the Service seen, not announced from node-a' })
    t.same(await loVips(node), [CONFIG_VIP], 'not served by node-a')
    porter.writeConfig([
      'agent: { interface: lo, firewall: nftables }',
      `kubernetes: { enabled: true, kubeconfig: ${kubeconfig}, nodeName: node-b }`,
      '',
    ].join('\n'))
    porter.signal('SIGHUP')
    await waitFor(async () => JSON.stringify(await loVips(node)) === JSON.stringify(['203.0.113.53']), { timeoutMs: 20_000, intervalMs: 100, what: 'node-b\'s VIPs only' })
    const s = await k8s()
    t.match(s, { nodeName: 'node-b', synced: true, announced: 1, vips: ['203.0.113.53'] })
  })
})

t.test('a kubeconfig that cannot be loaded: the agent refuses to start and changes nothing', async (t) => {
  const lab = createLab(t)
  const node = await lab.ns('node')
  const porter = new PorterProc(lab, node, [
    'agent: { interface: lo, firewall: nftables }',
    `kubernetes: { enabled: true, kubeconfig: ${join(lab.dir, 'missing-kubeconfig')}, nodeName: ${NODE} }`,
    '',
  ].join('\n'), 'agent')
  t.teardown(() => porter.cleanup())
  const cmd = [process.execPath, '--import', 'tsx', join(import.meta.dirname, '..', '..', 'cmd', 'porter', 'main.ts'), 'agent', '--config', porter.configFile]
  const child = lab.spawn(node, cmd, { logFile: porter.logFile, label: 'porter-agent' })
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)))
  t.not(code, 0, `exit status ${code}`)
  const fatal = porter.logs().find((l) => l.level === 'fatal')
  t.match(fatal, { error: { code: 'PORTER_ERR_CONFIG_READ', message: /Cannot load the kubeconfig ".*missing-kubeconfig"/ } }, readFileSync(porter.logFile, 'utf8').slice(-2000))
  t.same(await loVips(node), [], 'no VIP programmed')
  const nft = await lab.exec(node, ['nft', 'list', 'ruleset'])
  t.equal(nft.stdout.trim(), '', 'no nft table created')
})
