// The figures behind the resource requests of controller.yaml and agent.yaml (run by hand, as
// root): `node --import tsx build/kubernetes/measure-rss.ts [--services=5000] [--nodes=100] [--settle=30]`
//
// dist/porter as `porter controller` and as `porter agent` (kubernetes.enabled, each in its own
// network namespace of the controller lab: real kube-apiserver, BIRD 2), VmRSS / VmHWM from
// /proc/PID/status:
//   idle   BgpConf, BgpPeer and an Eip, no Service; --settle seconds after start
//   loaded --services LoadBalancer Services (externalTrafficPolicy Local, ready endpoints on 2 of
//          --nodes nodes, like test/bench/controller-k8s.ts), all allocated and announced, the
//          agent's node serving its share; --settle seconds later
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { KubeConfig } from '@kubernetes/client-node'
import { KubeRest } from '../../internal/k8s/rest.ts'
import { forwardIntoNetns } from '../../test/lib/kube-apiserver.ts'
import { kubeLab, bgpObjects, eipYaml, startController, setNodeStatus, USER } from '../../test/e2e/lib/kube-lab.ts'
import { PorterProc } from '../../test/e2e/lib/porter.ts'
import { waitFor } from '../../test/e2e/lib/netns.ts'

const { values } = parseArgs({ options: { services: { type: 'string', default: '5000' }, nodes: { type: 'string', default: '100' }, settle: { type: 'string', default: '30' } } })
const SERVICES = Number(values.services)
const NODES = Number(values.nodes)
const SETTLE_MS = Number(values.settle) * 1000

const teardowns: (() => unknown)[] = []
const host = { teardown: (fn: () => unknown) => { teardowns.push(fn) } }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function mem(pid: number): string {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8')
  const mib = (k: string) => (Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024).toFixed(0)
  return `VmRSS ${mib('VmRSS')} MiB, VmHWM ${mib('VmHWM')} MiB`
}

async function inBatches<T>(items: T[], width: number, fn: (x: T, i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map((x, j) => fn(x, i + j)))
}

async function main(): Promise<void> {
  const kl = await kubeLab(host, 1, { apiserverArgs: ['--service-node-port-range=20000-65000'] })
  const kc = new KubeConfig()
  kc.loadFromFile(kl.api.adminKubeconfig)
  const rest = new KubeRest(kc)
  teardowns.push(() => rest.close())
  await kl.apply(bgpObjects())
  await kl.apply(eipYaml('measure', '198.18.0.0/16'))
  const nodes = Array.from({ length: NODES }, (_, i) => `m-${i}`)
  await inBatches(nodes, 8, async (n, i) => {
    await rest.call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: n } })
    await setNodeStatus(kl.kubectl, n, `192.0.2.${100 + (i % 150)}`, true)
  })

  const controller = await startController(kl, 0, host)
  await kl.bird.waitEstablished(['porter1'])
  const agentNs = await kl.lab.ns('agent')
  const fwd = await forwardIntoNetns(kl.api, agentNs)
  const agent = new PorterProc(kl.lab, agentNs, [
    'agent: { interface: lo, firewall: nftables }',
    `kubernetes: { enabled: true, kubeconfig: ${fwd.kubeconfig(USER)}, nodeName: ${nodes[0]} }`,
    '',
  ].join('\n'), 'agent', kl.binary)
  teardowns.push(async () => { await agent.stop(); agent.cleanup() })
  await agent.start()
  await sleep(SETTLE_MS)
  const out: string[] = []
  out.push(`idle        controller ${mem(controller.child!.pid!)}; agent ${mem(agent.child!.pid!)}`)

  const names = Array.from({ length: SERVICES }, (_, i) => `m-${i}`)
  await inBatches(names, 16, (n, i) => rest.call('POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${n}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': n } }, addressType: 'IPv4',
    endpoints: [nodes[i % NODES]!, nodes[(i + 1) % NODES]!].map((node, j) => ({ addresses: [`198.51.100.${j + 1}`], nodeName: node, conditions: { ready: true } })), ports: [{ port: 8080, protocol: 'TCP' }],
  }))
  await inBatches(names, 16, (n) => rest.call('POST', '/api/v1/namespaces/default/services', {
    apiVersion: 'v1', kind: 'Service', metadata: { name: n, namespace: 'default', annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb' } },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', allocateLoadBalancerNodePorts: false, selector: { app: n }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
  }))
  // the agent's node has endpoints of 2 in NODES Services
  const share = names.filter((_, i) => i % NODES === 0 || (i + 1) % NODES === 0).length
  await waitFor(async () => {
    const s = await controller.status() as unknown as { kubernetes: { allocated: number } }
    const a = await agent.status() as unknown as { agent: { vips: string[] } }
    return s.kubernetes.allocated >= SERVICES && a.agent.vips.length >= share ? true : undefined
  }, { timeoutMs: 900_000, intervalMs: 500, what: `${SERVICES} allocations and ${share} VIPs on the agent's node` })
  out.push(`loaded      controller ${mem(controller.child!.pid!)}; agent ${mem(agent.child!.pid!)} (${SERVICES} Services x ${NODES} nodes, ${share} VIPs on the agent's node)`)
  await sleep(SETTLE_MS)
  out.push(`loaded +${SETTLE_MS / 1000}s controller ${mem(controller.child!.pid!)}; agent ${mem(agent.child!.pid!)}`)
  console.log(`\nRSS of dist/porter (${new Date().toISOString()}, kube-apiserver ${kl.api.version})\n${out.map((l) => `  ${l}`).join('\n')}`)
}

main().then(async () => { for (const f of teardowns.reverse()) await f() }, async (e) => {
  console.error(e)
  for (const f of teardowns.reverse()) await f()
  process.exit(1)
})
