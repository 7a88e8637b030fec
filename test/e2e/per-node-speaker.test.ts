// Per-node speaker mode (issue 11), with the built dist/porter and BIRD 2: each host runs
// `porter agent` with a `bgp` section, so it peers with the router itself and announces the VIP
// it serves with itself as the next hop (no controller, no ADD-PATH needed), with BFD to the
// router and a health check of its own service.
// - both hosts announce: the router does ECMP over them, requests spread;
// - a host's HTTP server stops: its health check fails, its route goes, requests keep working;
// - a host's agent freezes (SIGSTOP): BFD drops the session and the router flushes its route at
//   once, although graceful restart is on (no C-bit: a dead node must not be kept 120 s);
// - a host's agent stops (SIGTERM, bgp.gracefulShutdown): its route is tagged GRACEFUL_SHUTDOWN,
//   then withdrawn, then Cease: the router keeps nothing stale.
//
//   client c (198.51.100.2) -- (198.51.100.1) router r [BIRD 2] (192.0.2.1) -- bridge lan
//     lan: hx 192.0.2.11, hy 192.0.2.12 [porter agent + HTTP on the VIP]
import t from 'tap'
import { createLab, waitFor } from './lib/netns.ts'
import { Bird, birdBfdProtocol } from './lib/bird.ts'
import { PorterProc } from './lib/porter.ts'
import { bgpSection, gateways, routedLan } from './lib/bgp-lab.ts'
import { httpServer, requests } from '../../build/demo/scenario.ts'
import { builtPorter } from '../lib/dist.ts'

const VIP = '203.0.113.10'
const X = '192.0.2.11'
const Y = '192.0.2.12'

const agentYaml = (self: string, extra = '') => `
agent: { nodeAddresses: [${self}], firewall: none }
${bgpSection(self, extra, 'bfd: { minTx: 100, minRx: 100, multiplier: 3 }')}vips:
  - name: web
    address: ${VIP}
    nextHops: [${X}, ${Y}]
    check: { type: tcp, port: 80, interval: 200ms, timeout: 200ms, rise: 1, fall: 1 }
`

t.test('per-node speaker: each host announces the VIP itself; health, BFD and graceful shutdown each take its route away', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const { r, c, ns } = await routedLan(lab, { hx: X, hy: Y })
  const { hx, hy } = ns as Record<'hx' | 'hy', string>
  const servers = { x: httpServer(lab, hx, 'x'), y: httpServer(lab, hy, 'y') }
  const bird = new Bird(lab, { ns: r, as: 65001, routerId: '192.0.2.1', extra: [birdBfdProtocol('eth0')], peers: [
    { address: X, as: 65002, passive: true, name: 'hx', gracefulRestart: true, holdTime: 9, extra: ['bfd on;'] },
    { address: Y, as: 65002, passive: true, name: 'hy', gracefulRestart: true, holdTime: 9, extra: ['bfd on;'] },
  ] })
  await bird.start()
  const ax = new PorterProc(lab, hx, agentYaml(X), 'agent', binary)
  const ay = new PorterProc(lab, hy, agentYaml(Y, '  gracefulShutdown: { wait: 1s }\n'), 'agent', binary)
  t.teardown(() => { ax.signal('SIGCONT'); ax.cleanup(); ay.cleanup() })
  await ax.start()
  await ay.start()
  const fib = async () => [...new Set(await gateways(r, `${VIP}/32`))].sort().join(' ')

  // both announce
  const st = await ax.waitPeers('Established')
  t.equal(st.mode, 'agent', 'porter status of an agent shows its own BGP sessions')
  // BGP does not wait for BFD, and BFD comes Up after its slow-start exchange (1 s packets until
  // Up, RFC 5880 6.8.3): the session may be Established a moment before BFD is Up
  const bfd = await waitFor(async () => ((await ax.status()).peers[0]?.bfd?.state === 'Up' ? 'Up' : undefined), { timeoutMs: 15_000, what: 'BFD Up with the router' }).catch(() => undefined)
  t.equal(bfd ?? (await ax.status()).peers[0]?.bfd?.state, 'Up', 'BFD with the router comes Up')
  await waitFor(async () => (await fib()) === `${X} ${Y}` || undefined, { what: 'ECMP over both hosts' })
  const routes = await bird.routes(['table', 'master4', 'for', `${VIP}/32`])
  t.same(routes.map((x) => x.bgpNextHop?.[0]).sort(), [X, Y], 'one path from each host, each with itself as next hop')
  const vx = (await ax.status()).vips
  t.match(vx, [{ name: 'web', address: VIP, announced: true, peers: ['r'], nextHops: [{ address: X, health: 'up', announced: true, peers: ['r'] }] }], 'status: the VIP this node serves, healthy, held by the router')
  t.equal(vx?.[0]?.nextHops.length, 1, 'only this node\'s own next hop')
  const text = (await lab.exec(hx, [binary, 'status', '--socket', ax.socket])).stdout
  t.match(text, /PEERS[\s\S]*r\s+65001\s+Established[\s\S]*VIPS[\s\S]*203\.0\.113\.10\s+192\.0\.2\.11\s+up/, 'porter status of the agent: its session and its VIP')
  const both = await requests(lab, c, 30)
  t.equal(both.failures, 0, 'requests succeed')
  t.same(Object.keys(both.spread).sort(), ['x', 'y'], `spread over both hosts (${JSON.stringify(both.spread)})`)

  // health: x's service stops
  await lab.kill(servers.x!)
  await waitFor(async () => (await fib()) === Y || undefined, { what: 'x\'s route gone after its health check failed' })
  t.match((await ax.status()).vips?.[0], { announced: false, nextHops: [{ health: 'down', announced: false, peers: [] }] }, 'status: x\'s check down, not announced, no peer has it')
  const onlyY = await requests(lab, c, 10)
  t.same(onlyY, { spread: { y: 10 }, failures: 0 }, 'requests go to y only, and succeed')
  servers.x = httpServer(lab, hx, 'x')
  await waitFor(async () => (await fib()) === `${X} ${Y}` || undefined, { what: 'x back once its service is' })
  t.pass('x announced again once its service answered')

  // BFD: x's agent frozen; graceful restart is on (120 s) but the route must go at once
  ax.signal('SIGSTOP')
  await waitFor(async () => (await fib()) === Y || undefined, { timeoutMs: 10_000, intervalMs: 50, what: 'x\'s route flushed after BFD went down' })
  const proto = (await bird.birdc(['show', 'protocols', 'all', 'hx'])).stdout
  t.notMatch(proto, /Neighbor graceful restart active/, 'the router runs no graceful restart for the frozen node (BFD down, no C-bit)')
  t.equal((await requests(lab, c, 10)).failures, 0, 'requests succeed on y')
  ax.signal('SIGCONT')
  await waitFor(async () => (await fib()) === `${X} ${Y}` || undefined, { timeoutMs: 30_000, what: 'x back after SIGCONT' })
  t.pass('x announced again after it thawed')

  // graceful shutdown of y's agent
  const exited = new Promise<number | null>((res) => ay.child!.once('exit', (code) => res(code)))
  ay.signal('SIGTERM')
  await waitFor(async () => /BGP\.community:.*\(65535,0\)/.test((await bird.birdc(['show', 'route', 'all', 'protocol', 'hy'])).stdout) || undefined,
    { timeoutMs: 5000, intervalMs: 50, what: 'y\'s route tagged GRACEFUL_SHUTDOWN' })
  t.equal(ay.child!.exitCode, null, 'y\'s agent still runs while its route is tagged (the wait)')
  t.equal(await exited, 0, 'y\'s agent exits 0')
  t.equal(await fib(), X, 'the router forwards to x only')
  const hyProto = (await bird.birdc(['show', 'protocols', 'all', 'hy'])).stdout
  t.match(hyProto, /Administrative shutdown/, 'y closed with Cease / Administrative Shutdown')
  t.notMatch((await bird.birdc(['show', 'route', 'protocol', 'hy'])).stdout, /203\.0\.113\.10/, 'no stale route from y')
  t.same(await requests(lab, c, 10), { spread: { x: 10 }, failures: 0 }, 'requests go to x and succeed')
  t.equal(await ax.stop(), 0, 'x\'s agent stops cleanly too')
  await waitFor(async () => (await fib()) === '' || undefined, { what: 'no route left once both left' })
  t.pass('a stopped agent withdraws its route (no graceful-shutdown wait configured: at once)')
})
