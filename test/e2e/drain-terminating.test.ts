// kubernetes.drainTerminating (issue 11: a rollout loses nothing, opt-in), with the built
// dist/porter, a real kube-apiserver and BIRD 2: during a rolling update of a Local Service, a node
// whose endpoints all become serving-terminating while other nodes have ready ones keeps its path,
// tagged GRACEFUL_SHUTDOWN, while they serve and at most `wait`; once its endpoints are gone (or
// the wait is over) the path is withdrawn. The new node's path comes before the old one leaves,
// and the VIP never leaves the router's FIB.
import t from 'tap'
import { waitFor } from './lib/netns.ts'
import { readFileSync } from 'node:fs'
import { gateways } from './lib/bgp-lab.ts'
import { kubeLab, startController, serviceYaml, sliceYaml, eipYaml, bgpObjects, waitIngress, NODES } from './lib/kube-lab.ts'

const GSHUT = '65535:0'
const A = NODES['node-a']!
const B = NODES['node-b']!
const C = NODES['node-c']!

t.test('a rollout\'s leaving nodes: tagged GRACEFUL_SHUTDOWN while their endpoints serve, at most the wait, then withdrawn; the VIP never leaves the FIB', async (t) => {
  const kl = await kubeLab(t, 1)
  await kl.apply(bgpObjects())
  await kl.apply(eipYaml('pool', '203.0.113.10-203.0.113.20'))
  const p = await startController(kl, 0, t, ['drainTerminating: { wait: 3s }'])
  t.match(readFileSync(p.configFile, 'utf8'), /drainTerminating/)
  await kl.apply(serviceYaml('web', { policy: 'Local' }))
  await kl.apply(sliceYaml('web', [{ node: 'node-a', ready: true }, { node: 'node-b', ready: true }]))
  const vip = await waitIngress(kl, 'web')
  const fib = async () => [...new Set(await gateways(kl.r, `${vip}/32`))].sort().join(' ')
  const paths = async () => (await kl.bird.routes(['table', 'master4', 'for', `${vip}/32`])).map((r) => `${r.bgpNextHop?.[0]}${r.communities.includes(GSHUT) ? ' gshut' : ''}`).sort().join(',')
  await waitFor(async () => (await fib()) === `${A} ${B}` || undefined, { timeoutMs: 30_000, what: 'the VIP via node-a and node-b' })

  // the FIB is sampled all along: the VIP must never be missing
  let samples = 0
  let missing = 0
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      samples++
      if ((await fib()) === '') missing++
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  t.teardown(async () => { sampling = false; await sampler })

  // step 1: a new pod on node-c is ready, node-a's pod terminates (still serving)
  await kl.apply(sliceYaml('web', [{ node: 'node-a', ready: false, serving: true, terminating: true }, { node: 'node-b', ready: true }, { node: 'node-c', ready: true }]))
  await waitFor(async () => (await paths()) === `${A} gshut,${B},${C}` || undefined, { timeoutMs: 10_000, intervalMs: 50, what: 'node-a tagged, node-c added' })
  t.pass('node-a (serving-terminating) is kept with GRACEFUL_SHUTDOWN; node-c (ready) is a plain path')
  // still serving after the wait: withdrawn all the same
  await waitFor(async () => (await paths()) === `${B},${C}` || undefined, { timeoutMs: 10_000, intervalMs: 50, what: 'node-a withdrawn after the 3 s wait' })
  t.equal(await fib(), `${B} ${C}`, 'after the wait: node-b and node-c only')
  t.ok(p.logs().some((l) => /^nodes whose endpoints terminate/.test(l.msg)), 'log: the leaving node is drained')

  // step 2: node-a's pod is gone, node-b's terminates; its endpoint leaves before the wait is over
  await kl.apply(sliceYaml('web', [{ node: 'node-b', ready: false, serving: true, terminating: true }, { node: 'node-c', ready: true }]))
  await waitFor(async () => (await paths()) === `${B} gshut,${C}` || undefined, { timeoutMs: 10_000, intervalMs: 50, what: 'node-b tagged' })
  await kl.apply(sliceYaml('web', [{ node: 'node-b', ready: false, serving: false, terminating: true }, { node: 'node-c', ready: true }]))
  await waitFor(async () => (await paths()) === C || undefined, { timeoutMs: 2_500, intervalMs: 50, what: 'node-b withdrawn once its endpoint stops serving (before the wait ends)' })
  t.pass('an endpoint that stops serving takes its node\'s path away at once')

  // the only endpoint terminating: it stays a plain next hop (the fallback), never black-holed
  await kl.apply(sliceYaml('web', [{ node: 'node-c', ready: false, serving: true, terminating: true }]))
  await new Promise((r) => setTimeout(r, 4000)) // past the wait
  t.equal(await paths(), C, 'the last serving endpoints keep their node as a plain next hop')
  sampling = false
  await sampler
  t.ok(samples > 5, `the FIB was sampled all along (${samples} samples)`)
  t.equal(missing, 0, 'the VIP was in the router\'s FIB in every sample of the rollout')
})
