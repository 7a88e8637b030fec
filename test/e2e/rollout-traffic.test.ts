// A rolling update of a Local Service's pods under continuous requests (issue 11: planned changes
// lose nothing), with the built dist/porter controller, a real kube-apiserver and BIRD 2 (which
// honours GRACEFUL_SHUTDOWN with LOCAL_PREF 0, as RFC 8326 asks). The nodes are namespaces on the
// router's segment, each with the VIP on lo and an HTTP server (standing for kube-proxy and its
// pods); a client behind the router sends one request per connection all along.
//   1. new pods on the same nodes (surge), then the old ones terminate and go: the next-hop set
//      never changes, so the router's route never changes and no request fails;
//   2. the pods move from node-a/node-b to node-c (kubernetes.drainTerminating): node-c comes
//      before the others leave, each leaving node is tagged, then withdrawn; the VIP is in the
//      FIB in every sample and no request fails to connect. A request in flight on a flow that the
//      router's ECMP hash moves to another node when the set changes can be reset (Linux's
//      hash-threshold multipath has no resilient hashing): those are counted and printed.
import t from 'tap'
import { waitFor } from './lib/netns.ts'
import { gateways } from './lib/bgp-lab.ts'
import { httpServer } from '../../build/demo/scenario.ts'
import { kubeLab, nodeNs, startController, serviceYaml, sliceYaml, eipYaml, bgpObjects, waitIngress, NODES } from './lib/kube-lab.ts'

const VIP = '203.0.113.10'
const [A, B, C] = ['node-a', 'node-b', 'node-c'].map((n) => NODES[n]!) as [string, string, string]
const GSHUT_FILTER = 'if (65535, 0) ~ bgp_community then bgp_local_pref = 0; accept;'

t.test('a rolling update under continuous requests: same nodes, nothing changes; across nodes, make-before-break and no failed connection', async (t) => {
  const kl = await kubeLab(t, 1, { birdImport: GSHUT_FILTER })
  const { lab } = kl
  // nodes on the router's segment (kubeLab's bridge), each with the VIP and an HTTP server
  for (const [i, name] of ['node-a', 'node-b', 'node-c'].entries()) {
    const ns = await nodeNs(kl, i, name)
    await lab.addr(ns, 'lo', `${VIP}/32`)
    httpServer(lab, ns, name)
  }
  // the client, behind the router
  const c = await lab.ns('c')
  await lab.veth({ ns: kl.r, ifname: 'eth1' }, { ns: c, ifname: 'eth0' })
  await lab.addr(kl.r, 'eth1', '198.51.100.1/24')
  await lab.addr(c, 'eth0', '198.51.100.2/24')
  await lab.exec(c, ['ip', 'route', 'add', 'default', 'via', '198.51.100.1'])

  await kl.apply(bgpObjects())
  await kl.apply(eipYaml('pool', '203.0.113.10-203.0.113.20'))
  await startController(kl, 0, t, ['drainTerminating: { wait: 5s }'])
  await kl.apply(serviceYaml('web', { policy: 'Local' }))
  const ep = (node: string, i: number, s: 'ready' | 'terminating') => ({ node, ready: s === 'ready', serving: true, terminating: s === 'terminating', i })
  const slice = (...e: ReturnType<typeof ep>[]) => kl.apply(sliceYaml('web', e.map(({ node, ready, serving, terminating }) => ({ node, ready, serving, terminating }))))
  await slice(ep('node-a', 1, 'ready'), ep('node-b', 2, 'ready'))
  t.equal(await waitIngress(kl, 'web'), VIP)
  const fib = async () => (await gateways(kl.r, `${VIP}/32`)).join(' ')
  await waitFor(async () => (await fib()) === `${A} ${B}` || undefined, { timeoutMs: 30_000, what: 'the VIP via node-a and node-b' })

  // continuous requests (one connection each) and FIB samples, per phase
  type Tally = { ok: number; connect: number; reset: number; other: number; fibs: Set<string>; missing: number }
  const tally = (): Tally => ({ ok: 0, connect: 0, reset: 0, other: 0, fibs: new Set(), missing: 0 })
  let cur = tally()
  let running = true
  const client = (async () => {
    while (running) {
      const r = await lab.exec(c, ['curl', '-s', '--max-time', '2', `http://${VIP}/`], { allowFail: true })
      const k = r.code === 0 && r.stdout.trim() ? 'ok' : r.code === 7 || r.code === 28 ? 'connect' : r.code === 52 || r.code === 56 ? 'reset' : 'other'
      cur[k]++
    }
  })()
  const sampler = (async () => {
    while (running) {
      const f = await fib()
      cur.fibs.add(f)
      if (f === '') cur.missing++
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  t.teardown(async () => { running = false; await Promise.all([client, sampler]) })
  const phase = async (what: string, steps: (() => Promise<unknown>)[]) => {
    cur = tally()
    for (const s of steps) { await s(); await new Promise((r) => setTimeout(r, 1500)) }
    const done = cur
    t.comment(`${what}: ${done.ok} requests ok, ${done.connect} failed to connect, ${done.reset} reset in flight, ${done.other} other; FIB ${[...done.fibs].map((f) => `[${f}]`).join(' ')}`)
    return done
  }

  const same = await phase('same-node rollout', [
    () => slice(ep('node-a', 1, 'ready'), ep('node-b', 2, 'ready'), ep('node-a', 3, 'ready'), ep('node-b', 4, 'ready')),
    () => slice(ep('node-a', 1, 'terminating'), ep('node-b', 2, 'terminating'), ep('node-a', 3, 'ready'), ep('node-b', 4, 'ready')),
    () => slice(ep('node-a', 3, 'ready'), ep('node-b', 4, 'ready')),
  ])
  t.ok(same.ok >= 5, `requests went through (${same.ok})`)
  t.same([same.connect, same.reset, same.other], [0, 0, 0], 'same-node rollout: no request failed')
  t.same([...same.fibs], [`${A} ${B}`], 'the router\'s route never changed')

  const move = await phase('rollout to node-c', [
    () => slice(ep('node-a', 3, 'ready'), ep('node-b', 4, 'ready'), ep('node-c', 5, 'ready')),
    () => slice(ep('node-a', 3, 'terminating'), ep('node-b', 4, 'ready'), ep('node-c', 5, 'ready')),
    () => slice(ep('node-b', 4, 'ready'), ep('node-c', 5, 'ready')),
    () => slice(ep('node-b', 4, 'terminating'), ep('node-c', 5, 'ready'), ep('node-c', 6, 'ready')),
    () => slice(ep('node-c', 5, 'ready'), ep('node-c', 6, 'ready')),
  ])
  running = false
  await Promise.all([client, sampler])
  t.ok(move.ok >= 5, `requests went through (${move.ok})`)
  t.equal(move.missing, 0, 'the VIP was in the router\'s FIB in every sample')
  t.ok(move.fibs.has(`${A} ${B} ${C}`), 'node-c was added before node-a left (make-before-break)')
  t.equal(move.connect, 0, 'no request failed to connect (no gap, never a next hop that no longer serves)')
  t.equal(move.other, 0, 'no other failure')
  t.equal(await fib(), C, 'the rollout ended on node-c')
})
