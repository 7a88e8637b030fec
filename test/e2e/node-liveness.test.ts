// Node liveness end to end (issue 11): the built dist/porter as controller (a `bfd` check on the
// next hops) and as the agent on three hosts (agent.liveness with the controller), a BIRD 2
// router with ECMP, HTTP on the VIP on every host (test/e2e/lib/liveness-lab.ts has the picture).
// A host's cable cut and, separately, its agent frozen (SIGSTOP): the router's FIB drops that
// next hop while requests from the client through the VIP keep succeeding on the others; the
// next hop comes back with the link / the agent. The agent stopping cleanly (AdminDown) drops it
// too. h3's agent names no controller: it accepts the session from the lan's CIDR
// (agent.liveness.peers: [198.51.100.0/24], as with Kubernetes). Outcomes only, no timing assertions.
import t from 'tap'
import { createLab } from './lib/netns.ts'
import { startLivenessLab, requests, HOSTS } from './lib/liveness-lab.ts'
import { builtPorter } from '../lib/dist.ts'
import { renderStatus } from '../../internal/cli/table.ts'
import type { AgentStatus } from '../../internal/admin/index.ts'

t.test('node liveness: cut link and frozen agent drop the next hop at the router; requests keep succeeding', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  // 100 ms x 10: a 1 s detection time, so a busy test machine (tests run two at a time) does not drop a live node
  const L = await startLivenessLab(lab, { binary, liveness: 'bfd', acceptingHosts: [2], bfd: { interval: 100, multiplier: 10 } })
  t.same(await L.fib(), HOSTS, 'three next hops once every node is live')
  const ctl = L.controller!
  const st = await ctl.status()
  t.same(st.vips![0]!.nextHops.map((n) => [n.address, n.health, n.bfd?.state]), HOSTS.map((h) => [h, 'up', 'Up']), 'every next hop healthy with BFD Up')
  t.match(renderStatus(st), /NEXT HOP\s+HEALTH\s+BFD\s+ANNOUNCED/, 'porter status has a BFD column')
  const agentSt = (await L.agents[0]!.status()) as unknown as AgentStatus
  t.match(agentSt.agent!.liveness, [{ address: '198.51.100.10', state: 'Up' }], 'the agent shows its session with the controller')
  const accepting = (await L.agents[2]!.status()) as unknown as AgentStatus
  t.match(accepting.agent!.liveness, [{ address: '198.51.100.10', accepted: true, state: 'Up' }], 'h3 accepted the controller\'s session from its CIDR')

  const before = await requests(lab, L.c, 30)
  t.equal(before.failures, 0, 'all requests answered')
  t.same(Object.keys(before.spread).sort(), ['h1', 'h2', 'h3'], 'every host got traffic')

  // --- h2's cable cut
  await L.cut(1)
  t.same(await L.waitFib([HOSTS[0]!, HOSTS[2]!], 'FIB without h2 (link down)'), [HOSTS[0], HOSTS[2]], 'h2 dropped from the router\'s FIB')
  const cut = await requests(lab, L.c, 15)
  t.equal(cut.failures, 0, 'requests keep succeeding')
  t.same(Object.keys(cut.spread).sort(), ['h1', 'h3'], 'on the other hosts')
  const down = (await ctl.status()).vips![0]!.nextHops[1]!
  t.match(down, { address: HOSTS[1], health: 'down', announced: false, lastError: 'BFD Down: Control Detection Time Expired', bfd: { state: 'Down', downs: 1 } }, 'status says why')
  await L.heal(1)
  t.same(await L.waitFib(HOSTS, 'FIB with h2 again (link up)'), HOSTS, 'h2 back when its link is')

  // --- h3's agent frozen (its HTTP server still answers: liveness is the node's agent)
  L.freeze(2)
  t.same(await L.waitFib([HOSTS[0]!, HOSTS[1]!], 'FIB without h3 (agent frozen)'), [HOSTS[0], HOSTS[1]], 'h3 dropped from the router\'s FIB')
  const frozen = await requests(lab, L.c, 15)
  t.equal(frozen.failures, 0, 'requests keep succeeding')
  t.same(Object.keys(frozen.spread).sort(), ['h1', 'h2'], 'on the other hosts')
  await L.heal(2)
  t.same(await L.waitFib(HOSTS, 'FIB with h3 again (agent resumed)'), HOSTS, 'h3 back when its agent is')

  // --- h1's agent stops cleanly: AdminDown, the controller drops it at once
  await L.agents[0]!.stop()
  t.same(await L.waitFib([HOSTS[1]!, HOSTS[2]!], 'FIB without h1 (agent stopped)'), [HOSTS[1], HOSTS[2]], 'a stopped agent (AdminDown) takes its next hop away')
  t.match((await ctl.status()).vips![0]!.nextHops[0], { health: 'down', lastError: /AdminDown/ })
  const after = await requests(lab, L.c, 10)
  t.equal(after.failures, 0, 'requests keep succeeding')
})
