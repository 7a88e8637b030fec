// Node liveness end to end (issue 11): the built dist/porter as controller (a `bfd` check on the
// next hops) and as the agent on three hosts (agent.liveness with the controller), a BIRD 2
// router with ECMP, HTTP on the VIP on every host (test/e2e/lib/liveness-lab.ts has the picture).
// A host's cable cut and, separately, its agent frozen (SIGSTOP): the router's FIB drops that
// next hop while requests from the client through the VIP keep succeeding on the others; the
// next hop comes back with the link / the agent. The agent stopping cleanly (AdminDown) drops it
// too. h3's agent names no controller: it accepts the session from the lan's CIDR
// (agent.liveness.peers: [198.51.100.0/24], as with Kubernetes). With BFD authentication (the
// same `auth` block on the controller's check and the agents' agent.liveness): keyed on both
// sides the next hop works; an agent with another key, or with none, is never a next hop; the key
// is in no log line nor in `porter status`; a reload with a missing key file is refused with the
// field's path; the right key written to the agent's file and a reload bring it in. Outcomes only,
// no timing assertions.
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { createLab, waitFor } from './lib/netns.ts'
import { startLivenessLab, controllerYaml, requests, HOSTS, type LivenessLab } from './lib/liveness-lab.ts'
import type { PorterProc } from './lib/porter.ts'
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

const KEY = 'liveness-s3cret-k1'
const OTHER = 'another-key-k2'

/** `porter status` and `porter status --json` of a running porter, as a user sees them */
async function statusOutput(binary: string, p: PorterProc): Promise<string> {
  const run = async (...extra: string[]) => (await promisify(execFile)(binary, ['status', '--socket', p.socket, ...extra])).stdout
  return (await run()) + (await run('--json'))
}

/** Neither key appears in any log line of the lab's porters, nor in their `porter status` output. */
async function keysHidden(t: Test, binary: string, L: LivenessLab): Promise<void> {
  for (const [name, p] of [['controller', L.controller!], ...L.agents.map((a, i) => [`h${i + 1}'s agent`, a] as const)] as const) {
    const logs = p.logs()
    t.ok(logs.length > 0, `${name} logged`)
    const out = await statusOutput(binary, p)
    t.ok(out.includes('BFD') || out.includes('liveness'), `${name}: porter status shows the BFD sessions`)
    for (const k of [KEY, OTHER]) {
      t.notOk(logs.some((l) => JSON.stringify(l).includes(k)), `${name}: the key is in no log line`)
      t.notOk(out.includes(k), `${name}: nor in porter status`)
    }
  }
}

t.test('node liveness with BFD authentication: both sides keyed, the next hop works and a cut drops it', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const keyFile = `${lab.dir}/liveness.key`
  writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 })
  // h3 accepts the controller's session from the lan's CIDR: only a first packet signed with the key starts it
  const L = await startLivenessLab(lab, { binary, liveness: 'bfd', acceptingHosts: [2], bfd: { interval: 100, multiplier: 10 }, auth: { controller: keyFile, hosts: [keyFile, keyFile, keyFile] } })
  t.same(await L.fib(), HOSTS, 'three next hops once every keyed node is live')
  t.same((await L.controller!.status()).vips![0]!.nextHops.map((n) => [n.address, n.health, n.bfd?.state]), HOSTS.map((h) => [h, 'up', 'Up']), 'every session Up with the key')
  t.match(((await L.agents[2]!.status()) as unknown as AgentStatus).agent!.liveness, [{ address: '198.51.100.10', accepted: true, state: 'Up' }], 'h3 accepted the signed session')
  await L.cut(1)
  t.same(await L.waitFib([HOSTS[0]!, HOSTS[2]!], 'FIB without h2 (link down)'), [HOSTS[0], HOSTS[2]], 'h2 dropped from the router\'s FIB')
  const cut = await requests(lab, L.c, 15)
  t.equal(cut.failures, 0, 'requests keep succeeding on the others')
  await L.heal(1)
  t.same(await L.waitFib(HOSTS, 'FIB with h2 again (link up)'), HOSTS, 'h2 back when its link is')
  await keysHidden(t, binary, L)
})

t.test('node liveness with BFD authentication: an agent with another key or none is never a next hop; key files checked on reload', async (t) => {
  const lab = createLab(t)
  const binary = builtPorter(lab.dir)
  const keyFile = `${lab.dir}/liveness.key`
  const otherFile = `${lab.dir}/other.key`
  writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 })
  writeFileSync(otherFile, `${OTHER}\n`, { mode: 0o600 })
  // h1 keyed like the controller; h2 accepts from the CIDR without a key; h3 signs with another key
  const L = await startLivenessLab(lab, { binary, liveness: 'bfd', acceptingHosts: [1], bfd: { interval: 100, multiplier: 10 }, auth: { controller: keyFile, hosts: [keyFile, undefined, otherFile] }, live: [0] })
  const ctl = L.controller!
  // each agent (h2 accepting) has had a second since the controller's sessions began: a detection time of 1 s
  await waitFor(async () => ((await ctl.status()).vips![0]!.nextHops[0]!.bfd?.sinceSeconds ?? 0) >= 2 || undefined, { what: 'h1 Up for 2 s', timeoutMs: 30_000 })
  t.same(await L.fib(), [HOSTS[0]], 'the router has h1 only')
  const hops = (await ctl.status()).vips![0]!.nextHops
  t.match(hops, [
    { address: HOSTS[0], health: 'up', bfd: { state: 'Up' } },
    { address: HOSTS[1], health: 'pending', announced: false, bfd: { state: 'Down', downs: 0 } },
    { address: HOSTS[2], health: 'pending', announced: false, bfd: { state: 'Down', downs: 0 } },
  ], 'the controller never took h2 (no key) nor h3 (another key)')
  t.same(((await L.agents[1]!.status()) as unknown as AgentStatus).agent!.liveness, [], 'h2 accepted no session: the controller\'s packets are signed and it has no key')
  t.match(((await L.agents[2]!.status()) as unknown as AgentStatus).agent!.liveness, [{ address: '198.51.100.10', state: 'Down', downs: 0 }], 'h3\'s session with the controller never came Up either')
  const spread = await requests(lab, L.c, 10)
  t.equal(spread.failures, 0, 'requests succeed')
  t.same(Object.keys(spread.spread), ['h1'], 'on h1 only')
  await keysHidden(t, binary, L)

  // a reload whose key file is missing is refused, naming the field; nothing changes
  ctl.writeConfig(controllerYaml({ liveness: 'bfd', hosts: HOSTS, bfd: { interval: 100, multiplier: 10 }, keyFile: `${lab.dir}/missing.key` }))
  ctl.signal('SIGHUP')
  const refused = await waitFor(async () => { const r = (await ctl.status()).lastReload; return r && !r.ok ? r : undefined }, { what: 'the reload refused', timeoutMs: 20_000 })
  t.match(refused.error, /^vips\[0\]\.check\.auth\.keyFile: Cannot read the BFD key file ".*missing\.key": ENOENT$/, 'the reload is refused with the field path')
  t.match((await ctl.status()).vips![0]!.nextHops[0], { health: 'up', bfd: { state: 'Up', downs: 0 } }, 'h1\'s session untouched')
  t.same(await L.fib(), [HOSTS[0]], 'the router still has h1')

  // h3's key file gets the controller's key: on reload its session restarts with it and comes Up
  writeFileSync(otherFile, `${KEY}\n`)
  L.agents[2]!.signal('SIGHUP')
  t.same(await L.waitFib([HOSTS[0]!, HOSTS[2]!], 'FIB with h3 (the right key)'), [HOSTS[0], HOSTS[2]], 'h3 is a next hop once it signs with the controller\'s key')
})
