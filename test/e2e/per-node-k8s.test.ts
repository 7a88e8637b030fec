// Per-node speaker mode with Kubernetes (issue 11), against a real kube-apiserver: a controller
// only allocates (no BGP of its own); each node's `porter agent` (kubernetes.enabled plus a `bgp`
// section) programs the LoadBalancer VIPs it should serve and announces them itself to BIRD 2,
// next hop self. Local policy: a node whose endpoint stops being ready withdraws its route (before
// the VIP leaves its lo); a stopped agent withdraws too; the router does ECMP over what is left.
//
//   router r 192.0.2.1 [BIRD 2] -- bridge sw -- p1 192.0.2.2 [porter controller: IPs only]
//                                             p2 192.0.2.3 node-x, p3 192.0.2.4 node-y [porter agent + bgp]
import t from 'tap'
import { waitFor } from './lib/netns.ts'
import { PorterProc } from './lib/porter.ts'
import { bgpSection, gateways } from './lib/bgp-lab.ts'
import { kubeLab, createNode, startController, keepLog, serviceYaml, sliceYaml, eipYaml, waitIngress } from './lib/kube-lab.ts'

const NODE_X = { name: 'node-x', ip: '192.0.2.3' }
const NODE_Y = { name: 'node-y', ip: '192.0.2.4' }

const agentYaml = (kubeconfig: string, node: { name: string; ip: string }) => `
agent: { nodeAddresses: [${node.ip}], firewall: none }
kubernetes: { enabled: true, kubeconfig: ${kubeconfig}, nodeName: ${node.name}, drainTerminating: { wait: 3s } }
${bgpSection(node.ip)}`

t.test('per-node speaker with Kubernetes: each node announces the Services it serves, next hop self', async (t) => {
  const kl = await kubeLab(t, 3)
  for (const n of [NODE_X, NODE_Y]) await createNode(kl.kubectl, kl.apply, n.name, [n.ip])
  await kl.apply(eipYaml('pool', '203.0.113.10-203.0.113.20'))
  await startController(kl, 0, t)
  const agents = [NODE_X, NODE_Y].map((n, i) => {
    const p = new PorterProc(kl.lab, kl.porterNs[i + 1]!, agentYaml(kl.kubeconfigs[i + 1]!, n), 'agent', kl.binary)
    t.teardown(async () => { await p.stop(); keepLog(p); p.cleanup() })
    return p
  })
  for (const a of agents) await a.start()
  for (const a of agents) await a.waitPeers('Established')
  t.pass('both agents have their own BGP session with the router')

  await kl.apply(serviceYaml('web', { policy: 'Local' }))
  await kl.apply(sliceYaml('web', [{ node: NODE_X.name, ready: true }, { node: NODE_Y.name, ready: true }]))
  const vip = await waitIngress(kl, 'web')
  t.equal(vip, '203.0.113.10', 'the controller allocated the VIP')
  const fib = async () => [...new Set(await gateways(kl.r, `${vip}/32`))].sort().join(' ')
  await waitFor(async () => (await fib()) === `${NODE_X.ip} ${NODE_Y.ip}` || undefined, { timeoutMs: 30_000, what: 'ECMP over both nodes' })
  const routes = await kl.bird.routes(['table', 'master4', 'for', `${vip}/32`])
  t.same(routes.map((r) => r.bgpNextHop?.[0]).sort(), [NODE_X.ip, NODE_Y.ip], 'one path from each node, each with itself as next hop')
  const st = await agents[0]!.status()
  t.equal(st.peers[0]?.prefixesSent, 1, 'node-x\'s status: one prefix sent')

  // node-y's endpoint not ready: node-y no longer serves it (Local) and withdraws it
  await kl.apply(sliceYaml('web', [{ node: NODE_X.name, ready: true }, { node: NODE_Y.name, ready: false }]))
  await waitFor(async () => (await fib()) === NODE_X.ip || undefined, { timeoutMs: 20_000, what: 'node-y\'s route withdrawn' })
  t.pass('node-y withdrew the VIP when its endpoint stopped being ready')
  await kl.apply(sliceYaml('web', [{ node: NODE_X.name, ready: true }, { node: NODE_Y.name, ready: true }]))
  await waitFor(async () => (await fib()) === `${NODE_X.ip} ${NODE_Y.ip}` || undefined, { timeoutMs: 20_000, what: 'node-y back' })
  t.pass('node-y announced it again once its endpoint was ready')

  // a rollout: node-y's endpoint terminates (still serving) while node-x's is ready: node-y keeps
  // the VIP on lo and announces it with GRACEFUL_SHUTDOWN for the wait (drainTerminating), then withdraws it
  const paths = async () => (await kl.bird.routes(['table', 'master4', 'for', `${vip}/32`])).map((r) => `${r.bgpNextHop?.[0]}${r.communities.includes('65535:0') ? ' gshut' : ''}`).sort().join(',')
  await kl.apply(sliceYaml('web', [{ node: NODE_X.name, ready: true }, { node: NODE_Y.name, ready: false, serving: true, terminating: true }]))
  await waitFor(async () => (await paths()) === `${NODE_X.ip},${NODE_Y.ip} gshut` || undefined, { timeoutMs: 20_000, intervalMs: 50, what: 'node-y\'s path tagged' })
  t.pass('a node whose endpoint terminates announces the VIP with GRACEFUL_SHUTDOWN')
  await waitFor(async () => (await paths()) === NODE_X.ip || undefined, { timeoutMs: 10_000, intervalMs: 50, what: 'node-y\'s path withdrawn after the wait' })
  t.match((await kl.lab.exec(kl.porterNs[2]!, ['ip', '-4', 'addr', 'show', 'dev', 'lo'])).stdout, vip, 'node-y keeps the VIP on lo while its endpoint serves')
  await kl.apply(sliceYaml('web', [{ node: NODE_X.name, ready: true }, { node: NODE_Y.name, ready: true }]))
  await waitFor(async () => (await paths()) === `${NODE_X.ip},${NODE_Y.ip}` || undefined, { timeoutMs: 20_000, what: 'node-y back, untagged' })

  // node-x's agent stops: its route goes (withdrawn, then Cease)
  t.equal(await agents[0]!.stop(), 0, 'node-x\'s agent exits 0')
  await waitFor(async () => (await fib()) === NODE_Y.ip || undefined, { timeoutMs: 10_000, what: 'node-x\'s route gone' })
  t.match((await kl.bird.birdc(['show', 'protocols', 'all', 'porter2'])).stdout, /Administrative shutdown/, 'node-x closed with Cease / Administrative Shutdown')

  // the Service goes: node-y withdraws it
  await kl.kubectl(['delete', 'svc', 'web'])
  await waitFor(async () => (await fib()) === '' || undefined, { timeoutMs: 20_000, what: 'the VIP withdrawn everywhere' })
  t.pass('the deleted Service\'s VIP is withdrawn')
})
