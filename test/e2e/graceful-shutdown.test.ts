// Planned changes lose nothing (issue 11), with the built dist/porter and BIRD 2:
// - graceful shutdown (RFC 8326): two controller replicas announce the same VIP; one gets SIGTERM
//   with bgp.gracefulShutdown. BIRD (honouring GRACEFUL_SHUTDOWN with LOCAL_PREF 0, as RFC 8326
//   asks receivers to) first sees its paths tagged, then withdrawn, then a Cease (Administrative
//   Shutdown) although graceful restart is on; requests through the VIP never fail and the FIB
//   keeps both next hops throughout.
// - make-before-break: a VIP moved from one next hop to another by SIGHUP reaches the router as
//   the new path first, so its FIB route is never deleted on the way.
//
//   client c (198.51.100.2) -- (198.51.100.1) router r [BIRD 2] (192.0.2.1) -- bridge lan
//     lan: pa 192.0.2.2, pb 192.0.2.3 [porter controllers]; hx 192.0.2.11, hy 192.0.2.12 [HTTP on the VIP]
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLab, waitFor, type Lab } from './lib/netns.ts'
import { Bird } from './lib/bird.ts'
import { PorterProc } from './lib/porter.ts'
import { bgpSection, gateways, routedLan } from './lib/bgp-lab.ts'
import { httpServer } from '../../build/demo/scenario.ts'
import { builtPorter } from '../lib/dist.ts'

const VIP = '203.0.113.10'
const X = '192.0.2.11'
const Y = '192.0.2.12'
const GSHUT_FILTER = 'if (65535, 0) ~ bgp_community then bgp_local_pref = 0; accept;'

const controllerYaml = (self: string, hops: string[], extra = '') => `
${bgpSection(self, extra)}vips:
  - { name: web, address: ${VIP}, nextHops: [${hops.join(', ')}] }
`

async function setup(t: Test): Promise<{ lab: Lab; binary: string; r: string; c: string; bird: Bird; pa: string; pb: string }> {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const { r, c, ns } = await routedLan(lab, { pa: '192.0.2.2', pb: '192.0.2.3', hx: X, hy: Y })
  const { pa, pb } = ns as Record<'pa' | 'pb', string>
  for (const [h, name] of [[ns.hx!, 'x'], [ns.hy!, 'y']] as const) {
    await lab.addr(h, 'lo', `${VIP}/32`)
    httpServer(lab, h, name)
  }
  const bird = new Bird(lab, { ns: r, as: 65001, routerId: '192.0.2.1', peers: [
    { address: '192.0.2.2', as: 65002, passive: true, name: 'pa', gracefulRestart: true, importFilter: GSHUT_FILTER },
    { address: '192.0.2.3', as: 65002, passive: true, name: 'pb', gracefulRestart: true, importFilter: GSHUT_FILTER },
  ] })
  await bird.start()
  return { lab, binary, r, c, bird, pa, pb }
}

/** requests through the VIP, one new connection each, until stop() */
function load(lab: Lab, c: string) {
  const served: Record<string, number> = {}
  const failures: string[] = []
  let running = true
  const done = (async () => {
    while (running) {
      const res = await lab.exec(c, ['curl', '-s', '--max-time', '2', `http://${VIP}/`], { allowFail: true })
      const who = res.stdout.trim()
      if (res.code !== 0 || !who) failures.push(`curl exit ${res.code}`)
      else served[who] = (served[who] ?? 0) + 1
    }
  })()
  const count = () => Object.values(served).reduce((x, y) => x + y, 0) + failures.length
  return { served, failures, count, stop: async () => { running = false; await done } }
}

const uniq = (a: string[]) => [...new Set(a)].sort()

t.test('graceful shutdown: tagged, then withdrawn, then Cease; no request lost while another replica announces the VIP', async (t) => {
  const { lab, binary, r, c, bird, pa, pb } = await setup(t)
  const a = new PorterProc(lab, pa, controllerYaml('192.0.2.2', [X, Y], '  gracefulShutdown: { wait: 2s }\n'), 'controller', binary)
  const b = new PorterProc(lab, pb, controllerYaml('192.0.2.3', [X, Y]), 'controller', binary)
  t.teardown(() => { a.cleanup(); b.cleanup() })
  await a.start()
  await b.start()
  await a.waitPeers('Established')
  await b.waitPeers('Established')
  await waitFor(async () => (await bird.routes(['table', 'master4', 'for', `${VIP}/32`])).length === 4 || undefined, { what: 'BIRD with both replicas\' two paths' })
  await waitFor(async () => uniq(await gateways(r, `${VIP}/32`)).length === 2 || undefined, { what: 'ECMP over both hosts' })

  // the FIB, sampled while it all happens
  const fib: string[][] = []
  let sampling = true
  const sampler = (async () => { while (sampling) fib.push(uniq(await gateways(r, `${VIP}/32`))) })()
  const traffic = load(lab, c)
  await waitFor(() => traffic.count() >= 5 || undefined, { what: 'the first requests' })
  const exited = new Promise<number | null>((res) => a.child!.once('exit', (code) => res(code)))
  a.signal('SIGTERM')
  const atTerm = traffic.count()

  const tagged = await waitFor(async () => {
    const text = (await bird.birdc(['show', 'route', 'all', 'protocol', 'pa'])).stdout
    return /BGP\.community:.*\(65535,0\)/.test(text) ? text : undefined
  }, { timeoutMs: 5000, intervalMs: 50, what: 'replica A\'s paths with GRACEFUL_SHUTDOWN at the router' })
  t.match(tagged, /BGP\.local_pref: 0/, 'the router applied LOCAL_PREF 0 to them (its import filter)')
  t.equal(a.child!.exitCode, null, 'replica A is still running while its paths are tagged (the wait)')
  const best = (await bird.birdc(['show', 'route', 'for', `${VIP}/32`, 'primary'])).stdout
  t.match(best, /\[pb /, 'the router\'s best path is now replica B\'s')

  t.equal(await exited, 0, 'replica A exits 0 after the wait, within shutdownTimeout')
  const atExit = traffic.count()
  t.ok(atExit > atTerm, `${atExit - atTerm} requests between SIGTERM and A's exit`)
  const aRoutes = (await bird.birdc(['show', 'route', 'protocol', 'pa'])).stdout
  t.notMatch(aRoutes, /203\.0\.113\.10/, 'A\'s paths withdrawn, not kept stale by graceful restart')
  const proto = (await bird.birdc(['show', 'protocols', 'all', 'pa'])).stdout
  t.match(proto, /Administrative shutdown/, 'A closed its session with Cease / Administrative Shutdown')
  t.notMatch(proto, /Neighbor graceful restart active/, 'so the router runs no graceful restart for it')
  const logs = a.logs().map((l) => l.msg)
  t.ok(logs.some((m) => m.startsWith('graceful shutdown (RFC 8326)')), 'log: the graceful shutdown began')
  t.ok(logs.includes('graceful shutdown: every route withdrawn'), 'log: every route withdrawn')

  await waitFor(() => traffic.count() >= atExit + 10 || undefined, { what: '10 requests after A left' })
  await traffic.stop()
  sampling = false
  await sampler
  const total = Object.values(traffic.served).reduce((x, y) => x + y, 0)
  t.ok(total >= 15, `${total} requests before, during and after the shutdown`)
  t.same(traffic.failures, [], 'no request failed')
  t.same(Object.keys(traffic.served).sort(), ['x', 'y'], `both hosts served (${JSON.stringify(traffic.served)})`)
  t.ok(fib.length > 0, `${fib.length} FIB samples`)
  t.same(fib.filter((g) => g.join() !== [X, Y].join()), [], 'the VIP\'s FIB route had both next hops in every sample')
  t.equal(await b.stop(), 0)
})

t.test('make-before-break: a VIP moved from one next hop to another by SIGHUP never leaves the router\'s FIB', async (t) => {
  const { lab, binary, r, bird, pb } = await setup(t)
  const p = new PorterProc(lab, pb, controllerYaml('192.0.2.3', [X]), 'controller', binary)
  t.teardown(() => p.cleanup())
  await p.start()
  await p.waitPeers('Established')
  await waitFor(async () => uniq(await gateways(r, `${VIP}/32`)).join() === X || undefined, { what: 'the VIP via X' })
  const monitorLog = join(lab.dir, 'ip-monitor.log')
  const monitor = lab.spawn(r, ['ip', '-4', 'monitor', 'route'], { logFile: monitorLog })
  t.teardown(() => lab.kill(monitor))
  await waitFor(async () => { // a route of our own proves the monitor is listening
    await lab.exec(r, ['ip', 'route', 'replace', '198.51.100.99/32', 'via', '192.0.2.11'])
    return readFileSync(monitorLog, 'utf8').includes('198.51.100.99')
  }, { timeoutMs: 10_000, what: 'ip monitor to report a route' })

  p.writeConfig(controllerYaml('192.0.2.3', [Y]))
  p.signal('SIGHUP')
  await waitFor(async () => uniq(await gateways(r, `${VIP}/32`)).join() === Y || undefined, { what: 'the VIP via Y' })
  await lab.kill(monitor, 'SIGINT')
  const changes = readFileSync(monitorLog, 'utf8').split('\n').filter((l) => l.includes(VIP))
  t.ok(changes.length > 0, `${changes.length} changes of the VIP's route seen`)
  t.same(changes.filter((l) => l.startsWith('Deleted')), [], 'the VIP\'s route was never deleted: Y came before X went')
  t.ok(changes.some((l) => !l.startsWith('Deleted') && !l.includes(' via ')), `on the way the route had several next hops (a multipath route; seen: ${JSON.stringify(changes)})`)
  t.equal((await bird.routes(['table', 'master4', 'for', `${VIP}/32`])).length, 1, 'BIRD has one path left')
  t.equal(await p.stop(), 0)
})
