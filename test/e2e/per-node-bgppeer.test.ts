// Per-node speaker chosen per BgpPeer (issue 11), against a real kube-apiserver: a BgpPeer
// annotated porter.kubesphere.io/speaker: node is peered by the agent of every node its
// spec.nodeSelector selects (OpenELB's speaker model), never by the controller; the agents
// (`kubernetes.bgpPeers: true`, no `bgp` section) run with the agent's RBAC plus
// build/kubernetes/per-node/agent-bgp-rbac.yaml only. Labelling a node starts its session, unlabelling it
// withdraws its routes and closes it (Cease); the router does ECMP over the selected nodes.
//
//   router r 192.0.2.1 [BIRD 2] -- bridge sw -- p1 192.0.2.2 [porter controller: IPs only]
//                                             p2 192.0.2.3 node-x, p3 192.0.2.4 node-y [porter agent]
import t from 'tap'
import { join } from 'node:path'
import { waitFor } from './lib/netns.ts'
import { PorterProc } from './lib/porter.ts'
import { gateways } from './lib/bgp-lab.ts'
import { ROOT } from '../lib/cli.ts'
import { kubeLab, createNode, startController, keepLog, serviceYaml, sliceYaml, eipYaml, waitIngress, list, AGENT_USER, PORTER_AS, ROUTER_AS } from './lib/kube-lab.ts'

const NODE_X = { name: 'node-x', ip: '192.0.2.3' }
const NODE_Y = { name: 'node-y', ip: '192.0.2.4' }
const LABEL = 'porter.kubesphere.io/bgp'

const agentYaml = (kubeconfig: string, node: { name: string; ip: string }) => `
agent: { nodeAddresses: [${node.ip}], firewall: none }
kubernetes: { enabled: true, kubeconfig: ${kubeconfig}, nodeName: ${node.name}, bgpPeers: true }
`

t.test('per-node speaker chosen by a BgpPeer: the nodes its nodeSelector selects peer, next hop self', async (t) => {
  const kl = await kubeLab(t, 3)
  // the agents' identity: the agent's roles and the per-node addition, nothing else
  await kl.kubectl(['apply', '-f', join(ROOT, 'build', 'kubernetes', 'per-node', 'agent-bgp-rbac.yaml')])
  await kl.kubectl(['create', 'clusterrolebinding', 'porter-agent-user', '--clusterrole=porter-agent', `--user=${AGENT_USER}`])
  await kl.kubectl(['create', 'clusterrolebinding', 'porter-agent-bgp-user', '--clusterrole=porter-agent-bgp', `--user=${AGENT_USER}`])
  await kl.kubectl(['create', 'rolebinding', 'porter-agent-bgp-user', '-n', 'porter-system', '--role=porter-agent-bgp', `--user=${AGENT_USER}`])
  for (const n of [NODE_X, NODE_Y]) await createNode(kl.kubectl, kl.apply, n.name, [n.ip])
  await kl.apply(eipYaml('pool', '203.0.113.10-203.0.113.20'))
  await kl.apply(list([
    { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpConf', metadata: { name: 'default' }, spec: { as: PORTER_AS, routerId: '192.0.2.2', listenPort: 0 } },
    {
      apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'BgpPeer',
      metadata: { name: 'leaf', annotations: { 'porter.kubesphere.io/speaker': 'node' } },
      spec: { conf: { peerAs: ROUTER_AS, neighborAddress: '192.0.2.1' }, timers: { config: { holdTime: 9 } }, nodeSelector: { matchLabels: { [LABEL]: 'on' } } },
    },
  ]))
  const ctl = await startController(kl, 0, t)
  const agents = [NODE_X, NODE_Y].map((n, i) => {
    const p = new PorterProc(kl.lab, kl.porterNs[i + 1]!, agentYaml(kl.agentKubeconfigs[i + 1]!, n), 'agent', kl.binary)
    t.teardown(async () => { await p.stop(); keepLog(p); p.cleanup() })
    return p
  })
  for (const a of agents) await a.start()

  await kl.apply(serviceYaml('web', { policy: 'Local' }))
  await kl.apply(sliceYaml('web', [{ node: NODE_X.name, ready: true }, { node: NODE_Y.name, ready: true }]))
  const vip = await waitIngress(kl, 'web')
  t.equal(vip, '203.0.113.10', 'the controller allocated the VIP')
  const fib = async () => [...new Set(await gateways(kl.r, `${vip}/32`))].sort().join(' ')
  const birdState = async (proto: string) => (await kl.bird.birdc(['show', 'protocols', proto])).stdout

  // no node selected yet: nobody peers (the controller leaves a per-node BgpPeer alone)
  await waitFor(async () => (await kl.kubectl(['get', 'bgppeer', 'leaf', '-o', 'jsonpath={.status.sessionState}'])) === 'PerNode' || undefined, { timeoutMs: 20_000, what: 'BgpPeer status PerNode' })
  t.pass('the BgpPeer\'s status says its sessions are the nodes\'')
  t.same((await ctl.status()).peers ?? [], [], 'the controller has no session of its own')
  t.same((await agents[0]!.status()).peers ?? [], [], 'node-x (not selected) has no session')

  // node-x labelled: its agent peers and announces the VIP with itself as next hop
  await kl.kubectl(['label', 'node', NODE_X.name, `${LABEL}=on`])
  await agents[0]!.waitPeers('Established')
  await waitFor(async () => (await fib()) === NODE_X.ip || undefined, { timeoutMs: 30_000, what: 'the VIP via node-x' })
  t.pass('node-x, once selected, peers and announces the VIP; node-y (not selected) does not')
  const sx = await agents[0]!.status()
  t.same(sx.agent?.bgpPeers?.peers, ['leaf'], 'node-x\'s status: its BgpPeer')
  t.equal(sx.peers?.[0]?.prefixesSent, 1, 'node-x sent one prefix')
  t.notMatch(await birdState('porter1'), /Established/, 'no session from the controller')

  // node-y labelled too: ECMP over both, each path with its node as next hop
  await kl.kubectl(['label', 'node', NODE_Y.name, `${LABEL}=on`])
  await waitFor(async () => (await fib()) === `${NODE_X.ip} ${NODE_Y.ip}` || undefined, { timeoutMs: 30_000, what: 'ECMP over both nodes' })
  const routes = await kl.bird.routes(['table', 'master4', 'for', `${vip}/32`])
  t.same(routes.map((r) => r.bgpNextHop?.[0]).sort(), [NODE_X.ip, NODE_Y.ip], 'one path from each selected node, next hop self')

  // node-x unlabelled: its agent withdraws and closes the session (Cease), node-y stays
  await kl.kubectl(['label', 'node', NODE_X.name, `${LABEL}-`])
  await waitFor(async () => (await fib()) === NODE_Y.ip || undefined, { timeoutMs: 20_000, what: 'node-x\'s route withdrawn' })
  await waitFor(async () => /Administrative shutdown/.test((await kl.bird.birdc(['show', 'protocols', 'all', 'porter2'])).stdout) || undefined, { timeoutMs: 10_000, what: 'node-x\'s Cease' })
  t.pass('an unselected node withdraws its route and sends Cease / Administrative Shutdown')
  t.same((await agents[0]!.status()).peers ?? [], [], 'node-x has no session any more')

  // the annotation back to the controller: the agents close, the controller peers
  await kl.kubectl(['annotate', '--overwrite', 'bgppeer', 'leaf', 'porter.kubesphere.io/speaker=controller'])
  await ctl.waitPeers('Established')
  await waitFor(async () => ((await agents[1]!.status()).peers ?? []).length === 0 || undefined, { timeoutMs: 20_000, what: 'node-y\'s session closed' })
  t.pass('back to "controller": the controller peers, the nodes do not')
})
