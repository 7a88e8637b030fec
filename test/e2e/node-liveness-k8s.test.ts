// Node liveness on Kubernetes (issue 11): `porter controller` (the built dist/porter) with
// kubernetes.nodeLiveness against a real kube-apiserver and a BIRD 2 router; the three nodes
// (their InternalIPs on the router's link) each run `porter agent` with agent.liveness.peers
// (authenticated: node-c's agent has another key and is never live)
// naming the controllers' CIDR (the agent accepts the controller's session: replica addresses
// are not known in advance) and receiving on UDP 3785, as beside a controller replica on the
// same node (the controller has 3784). A Service with externalTrafficPolicy Cluster has every Ready node as
// a next hop; with node liveness only the nodes whose BFD session is Up are announced: a node
// without an agent never is, a node whose agent is frozen (SIGSTOP) is dropped from the router's
// FIB while Kubernetes still calls it Ready, and comes back when the agent resumes. BFD at
// 100 ms x 10 (1 s): tests run two at a time, and a busy machine must not drop a live node.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { waitFor } from './lib/netns.ts'
import { gateways } from './lib/bgp-lab.ts'
import { PorterProc } from './lib/porter.ts'
import { kubeLab, nodeNs, startController, serviceYaml, sliceYaml, bgpObjects, eipYaml, waitIngress, NODES, type KubeLab } from './lib/kube-lab.ts'

const VIP = '203.0.113.10'
const hops = (...names: string[]) => names.map((n) => NODES[n]!).sort()
async function waitRoute(kl: KubeLab, want: string[], what: string): Promise<string[]> {
  return waitFor(async () => { const g = await gateways(kl.r, `${VIP}/32`); return JSON.stringify(g) === JSON.stringify(want) ? g : undefined }, { timeoutMs: 60_000, intervalMs: 50, what })
}

t.test('kubernetes.nodeLiveness: only nodes with a live agent are next hops; a frozen agent drops out and comes back', async (t) => {
  const kl = await kubeLab(t, 1)
  const { lab } = kl
  // the nodes as namespaces on the router's segment (kubeLab's bridge "sw", ports p0 router, p1 porter)
  // authenticated sessions (meticulous keyed SHA1): node-a and node-b share the controller's key,
  // node-c's agent has another one and is never taken as a next hop
  const KEY = 'pt-k8s-liveness-key', OTHER = 'pt-k8s-other-key'
  const keyFile = (name: string, key: string) => { const f = join(lab.dir, name); writeFileSync(f, key, { mode: 0o600 }); return f }
  const good = keyFile('liveness.key', KEY)
  const bad = keyFile('other.key', OTHER)
  const agents: Record<string, PorterProc> = {}
  for (const [i, name] of ['node-a', 'node-b', 'node-c'].entries()) {
    const ns = await nodeNs(kl, i, name)
    const a = new PorterProc(lab, ns, `agent: { firewall: none, nodeAddresses: [${NODES[name]}], liveness: { peers: [192.0.2.0/28], multiplier: 10, port: 3785, auth: { keyFile: ${name === 'node-c' ? bad : good} } } }\n`, 'agent', kl.binary)
    t.teardown(async () => { await a.stop(); a.cleanup() })
    await a.start()
    agents[name] = a
  }
  await kl.apply(bgpObjects())
  await kl.apply(eipYaml('pool', '203.0.113.10-203.0.113.20'))
  const porter = await startController(kl, 0, t, [`nodeLiveness: { minTx: 100, minRx: 100, multiplier: 10, port: 3785, auth: { keyFile: ${good} } }`])
  await kl.bird.waitEstablished(['porter1'])

  await kl.apply(serviceYaml('web', { policy: 'Cluster' }))
  t.equal(await waitIngress(kl, 'web'), VIP)
  await kl.apply(sliceYaml('web', [{ node: 'node-a', ready: true }]))
  t.same(await waitRoute(kl, hops('node-a', 'node-b'), 'via node-a and node-b (node-c\'s agent has another key)'), hops('node-a', 'node-b'), 'only the nodes with a live agent')
  const st = await porter.status()
  t.match(st.kubernetes!.vips.find((v) => v.prefix === `${VIP}/32`), { nextHops: hops('node-a', 'node-b', 'node-c'), notLive: [NODES['node-c']] }, 'status: node-c left out, not live')
  t.match(st.kubernetes!.nodeLiveness!.find((n) => n.address === NODES['node-a']), { state: 'Up' })
  const agentSt = await agents['node-a']!.status() as unknown as { agent: { liveness: { address: string; accepted?: boolean; state: string }[] } }
  t.match(agentSt.agent.liveness, [{ address: '192.0.2.2', accepted: true, state: 'Up' }], 'node-a accepted the controller\'s session from its CIDR')

  process.kill(agents['node-a']!.child!.pid!, 'SIGSTOP')
  t.teardown(() => { try { process.kill(agents['node-a']!.child!.pid!, 'SIGCONT') } catch {} })
  t.same(await waitRoute(kl, hops('node-b'), 'node-a dropped (agent frozen; still Ready in Kubernetes)'), hops('node-b'), 'a frozen agent drops its node at the router')
  process.kill(agents['node-a']!.child!.pid!, 'SIGCONT')
  t.same(await waitRoute(kl, hops('node-a', 'node-b'), 'node-a back'), hops('node-a', 'node-b'), 'back when the agent resumes')
  const peer = (await porter.status()).peers[0]!
  t.equal(peer.state, 'Established', 'the BGP session stayed up')
  const cSt = await agents['node-c']!.status() as unknown as { agent: { liveness?: { state: string }[] } }
  t.notOk((cSt.agent.liveness ?? []).some((l) => l.state === 'Up'), 'node-c (another key) never had a session Up')
  const logs = [porter, ...Object.values(agents)].flatMap((p) => p.logs().map((l) => JSON.stringify(l)))
  t.ok(logs.length > 0, 'logs were read')
  t.notOk(logs.some((l) => l.includes(KEY) || l.includes(OTHER)), 'no key in any log line')
})
