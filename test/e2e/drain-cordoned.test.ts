// kubernetes.drainCordoned (issue 11: node drain/cordon loses nothing, opt-in), with the built
// dist/porter, a real kube-apiserver and BIRD 2: `kubectl cordon` tags the node's paths with
// GRACEFUL_SHUTDOWN for the wait (the node still serves), then withdraws them; a VIP whose only
// node is cordoned keeps it (tagged), never black-holed; `kubectl uncordon` brings it back.
import t from 'tap'
import { waitFor } from './lib/netns.ts'
import { readFileSync } from 'node:fs'
import { gateways } from './lib/bgp-lab.ts'
import { kubeLab, startController, serviceYaml, sliceYaml, eipYaml, bgpObjects, waitIngress, NODES } from './lib/kube-lab.ts'

const GSHUT = '65535:0'
const A = NODES['node-a']!
const B = NODES['node-b']!

t.test('a cordoned node: its paths tagged GRACEFUL_SHUTDOWN for the wait, then withdrawn, never a VIP\'s last; uncordoned, back', async (t) => {
  const kl = await kubeLab(t, 1)
  await kl.apply(bgpObjects())
  await kl.apply(eipYaml('pool', '203.0.113.10-203.0.113.20'))
  const p = await startController(kl, 0, t, ['drainCordoned: { wait: 2s }'])
  t.match(readFileSync(p.configFile, 'utf8'), /drainCordoned/)
  await kl.apply(serviceYaml('web'))
  await kl.apply(sliceYaml('web', [{ node: 'node-a', ready: true }, { node: 'node-b', ready: true }]))
  await kl.apply(serviceYaml('solo'))
  await kl.apply(sliceYaml('solo', [{ node: 'node-a', ready: true }]))
  const web = await waitIngress(kl, 'web')
  const solo = await waitIngress(kl, 'solo')
  const fib = async (ip: string) => [...new Set(await gateways(kl.r, `${ip}/32`))].sort().join(' ')
  const paths = async (ip: string) => (await kl.bird.routes(['table', 'master4', 'for', `${ip}/32`])).map((r) => `${r.bgpNextHop?.[0]}${r.communities.includes(GSHUT) ? ' gshut' : ''}`).sort()
  await waitFor(async () => (await fib(web)) === `${A} ${B}` && (await fib(solo)) === A || undefined, { timeoutMs: 30_000, what: 'both Services in the FIB' })
  t.same(await paths(web), [A, B], 'web: a path per node, untagged')

  await kl.kubectl(['cordon', 'node-a'])
  await waitFor(async () => (await paths(web)).join() === `${A} gshut,${B}` || undefined, { timeoutMs: 10_000, intervalMs: 50, what: 'node-a\'s path tagged' })
  t.pass('cordoned: node-a\'s path of web carries GRACEFUL_SHUTDOWN, node-b\'s does not')
  t.same(await paths(solo), [`${A} gshut`], 'solo: its only path tagged too')
  await waitFor(async () => (await paths(web)).join() === B || undefined, { timeoutMs: 10_000, intervalMs: 50, what: 'node-a\'s path of web withdrawn after the wait' })
  t.equal(await fib(web), B, 'after the wait: web forwards to node-b only')
  t.same(await paths(solo), [`${A} gshut`], 'solo keeps its only node (tagged): never black-holed')
  t.equal(await fib(solo), A)
  t.ok(p.logs().some((l) => /^cordoned nodes/.test(l.msg)), 'log: the cordoned node is drained')

  await kl.kubectl(['uncordon', 'node-a'])
  await waitFor(async () => (await paths(web)).join() === `${A},${B}` && (await paths(solo)).join() === A || undefined, { timeoutMs: 10_000, intervalMs: 50, what: 'node-a back, untagged' })
  t.equal(await fib(web), `${A} ${B}`, 'uncordoned: web over both nodes again')
})
