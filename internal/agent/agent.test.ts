// The reconcile loop against a fake kernel and a fake clock: triggers, debouncing, drift
// counting, back-off, stop/cleanup semantics. Read top to bottom as a story.
import t from 'tap'
import { createAgent } from './agent.ts'
import { PORTER_PROTO } from './plan.ts'
import { FirewallError } from '../nft/index.ts'
import { configSchema } from '../config/index.ts'
import { MANUAL_EPOCH, ManualClock } from '../../test/lib/clock.ts'
import { FOREIGN, FakeKernel } from '../../test/lib/fake-kernel.ts'

const silent = { info() {}, warn() {}, error() {}, debug() {} }

function setup(over: Record<string, unknown> = {}) {
  const clock = new ManualClock()
  const kernel = new FakeKernel()
  const config = configSchema.parse({ agent: { firewall: 'none', reconcileInterval: '30s', ...over } })
  const logs: string[] = []
  const log = { info: (_: object, m?: string) => logs.push(`info ${m}`), warn: (_: object, m?: string) => logs.push(`warn ${m}`), error: (_: object, m?: string) => logs.push(`error ${m}`), debug: silent.debug }
  const agent = createAgent({ config, log, clock, kernel, debounceMs: 20 })
  return { clock, kernel, agent, logs }
}

t.test('the story of one agent', async (t) => {
  const { clock, kernel, agent, logs } = setup()

  await agent.start()
  await clock.advance(60_000)
  t.equal(kernel.observes, 0, 'nothing is read or changed before the desired VIPs are known (a restart must not drop VIPs)')
  t.equal(agent.status().desired, undefined)

  agent.setDesired(['192.0.2.1', '192.0.2.2/32', '2001:db8::1'])
  await clock.advance(1)
  t.same(kernel.mine(), ['192.0.2.1', '192.0.2.2', '2001:db8::1'], 'setDesired reconciles at once')
  let st = agent.status()
  t.match(st, { running: true, backend: 'none', programmed: ['192.0.2.1', '192.0.2.2', '2001:db8::1'], counters: { reconciles: 1, changes: 3, failures: 0, driftRepairs: 0 } })
  t.match(st.lastReconcile, { ok: true, changes: 3, triggers: ['desired'], drift: false })
  t.equal(st.lastReconcile?.at, MANUAL_EPOCH + 60_000, 'lastReconcile.at is wall time (ms since the epoch) of the reconcile')
  t.equal(st.lastSuccessAt, MANUAL_EPOCH + 60_000, 'so is lastSuccessAt')
  t.equal(st.lastReconcile?.durationMs, 0, 'the duration is on the monotonic clock (which the fake kernel does not move)')

  // someone deletes one of Porter's addresses
  kernel.addresses = kernel.addresses.filter((a) => a.address !== '192.0.2.2')
  kernel.watchers!.netlink({ kind: 'address', action: 'del', entry: { family: 4, address: '192.0.2.2', prefixLen: 32, ifindex: 1, scope: 0, flags: 0, proto: PORTER_PROTO, label: 'lo:porter' } })
  await clock.advance(19)
  t.notOk(kernel.mine().includes('192.0.2.2'), 'debounced: not yet')
  await clock.advance(1)
  t.ok(kernel.mine().includes('192.0.2.2'), 'repaired 20 ms after the notification')
  st = agent.status()
  t.match(st.counters, { reconciles: 2, changes: 4, driftRepairs: 1 })
  t.ok(logs.some((l) => l.startsWith('warn Repaired drift')), 'drift is logged as a warning')

  // notifications about objects that are not Porter's or not desired are ignored
  kernel.watchers!.netlink({ kind: 'address', action: 'new', entry: { ...FOREIGN, address: '198.51.100.9' } })
  kernel.watchers!.nft({ family: 'ip', table: 'nat' })
  await clock.advance(100)
  t.equal(agent.status().counters.reconciles, 2, 'no reconcile for foreign objects')

  // a burst of notifications becomes one reconcile
  for (let i = 0; i < 50; i++) kernel.watchers!.netlink({ kind: 'address', action: 'new', entry: { family: 4, address: '192.0.2.1', prefixLen: 32, ifindex: 1, scope: 0, flags: 0, proto: PORTER_PROTO } })
  await clock.advance(100)
  t.match(agent.status().counters, { reconciles: 3, changes: 4 }, 'fifty notifications, one no-op reconcile')

  // periodic full check
  await clock.advance(30_000)
  t.match(agent.status().counters, { reconciles: 4, changes: 4 })
  t.equal(agent.status().lastReconcile?.triggers.includes('periodic'), true)
  t.equal(kernel.queries.at(-1)?.routes, 'porter', 'the periodic check reads Porter\'s routes too')

  // invalid input changes nothing
  t.throws(() => agent.setDesired(['192.0.2.1', '192.0.2.0/24']), { code: 'PORTER_ERR_CONFIG_INVALID' })
  await clock.advance(100)
  t.same(agent.status().desired, ['192.0.2.1', '192.0.2.2', '2001:db8::1'], 'the previous desired state stays')
  t.equal(agent.status().counters.reconciles, 4)

  // removing a VIP removes only it
  agent.setDesired(['192.0.2.1', '2001:db8::1'])
  await clock.advance(1)
  t.same(kernel.mine(), ['192.0.2.1', '2001:db8::1'])
  t.ok(kernel.addresses.includes(FOREIGN), 'the foreign address is still there')

  // stop leaves the kernel state in place and stops reacting
  await agent.stop()
  t.same(kernel.mine(), ['192.0.2.1', '2001:db8::1'], 'stop() leaves the VIPs programmed')
  const before = agent.status().counters.reconciles
  await clock.advance(120_000)
  t.equal(agent.status().counters.reconciles, before, 'no periodic reconcile after stop')
  t.equal(agent.status().running, false)

  // cleanup removes everything Porter created, nothing else
  const report = await agent.cleanup()
  t.equal(report.addresses, 2)
  t.same(kernel.mine(), [])
  t.same(kernel.addresses, [FOREIGN])
  t.same(agent.status().programmed, [])
})

t.test('failures back off exponentially and keep the last good state', async (t) => {
  const { clock, kernel, agent, logs } = setup()
  agent.setDesired(['192.0.2.1'])
  await agent.start()
  t.same(kernel.mine(), ['192.0.2.1'])
  agent.setDesired(['192.0.2.1', '192.0.2.2'])
  kernel.failObserve = 4
  await clock.advance(1)
  const fails = () => agent.status().counters.failures
  t.equal(fails(), 1)
  t.match(agent.status().lastReconcile, { ok: false, error: { code: 'PORTER_ERR_FIREWALL', message: 'simulated failure', errno: 5 } })
  t.same(agent.status().programmed, ['192.0.2.1'], 'status keeps the last good state')
  t.same(kernel.mine(), ['192.0.2.1'], 'the kernel keeps it too')
  const at: number[] = []
  let last = fails()
  const t0 = clock.now()
  while (agent.status().lastReconcile?.ok !== true && clock.now() - t0 < 60_000) {
    await clock.advance(50)
    if (fails() !== last) { at.push(clock.now() - t0); last = fails() }
  }
  t.same(at, [500, 1500, 3500], 'retries after 500, 1000, 2000 ms')
  t.equal(clock.now() - t0 >= 7500 && clock.now() - t0 < 7600, true, 'the fifth attempt (after 4000 ms) succeeds')
  t.same(kernel.mine(), ['192.0.2.1', '192.0.2.2'])
  t.equal(logs.filter((l) => l.startsWith('error Reconcile failed')).length, 4, 'each failure is logged')
  t.equal(agent.status().counters.driftRepairs, 0, 'a retry is not drift')
  await agent.stop()
})

t.test('a desired-state change during back-off is tried at once', async (t) => {
  const { clock, kernel, agent } = setup()
  agent.setDesired(['192.0.2.1'])
  kernel.failObserve = 1
  await agent.start()
  t.equal(agent.status().counters.failures, 1)
  agent.setDesired(['192.0.2.5'])
  await clock.advance(1)
  t.same(kernel.mine(), ['192.0.2.5'])
  await agent.stop()
})

t.test('start fails clearly when the firewall backend is unusable, and changes nothing', async (t) => {
  const { kernel, agent } = setup({ firewall: 'nftables' })
  kernel.firewallError = new FirewallError('nft', 'Cannot run "nft": not found (install the nftables package, or set agent.firewall to "iptables" or "none")', { errno: 2 })
  agent.setDesired(['192.0.2.1'])
  await t.rejects(agent.start(), { code: 'PORTER_ERR_FIREWALL', errno: 2, message: /Cannot run "nft": not found/ })
  t.equal(kernel.nWrites, 0)
  t.equal(kernel.observes, 0)
  t.equal(agent.status().running, false)
})

t.test('a missing interface is a clear failure', async (t) => {
  const { clock, kernel, agent } = setup({ interface: 'porter0' })
  agent.setDesired(['192.0.2.1'])
  await agent.start()
  t.match(agent.status().lastReconcile, { ok: false, error: { code: 'PORTER_ERR_NETLINK', errno: 19, message: /interface "porter0".*does not exist/ } })
  t.equal(kernel.nWrites, 0)
  await agent.stop()
  void clock
})

t.test('route notifications let address mode skip the route dump until a Porter route appears', async (t) => {
  const { clock, kernel, agent } = setup()
  agent.setDesired(['192.0.2.1'])
  await agent.start()
  t.equal(kernel.queries.at(-1)?.routes, 'porter', 'the first reconcile reads Porter\'s routes')
  await agent.reconcileNow()
  t.equal(kernel.queries.at(-1)?.routes, 'none', 'no Porter route seen, none appeared since: skipped')
  kernel.watchers!.netlink({ kind: 'route', action: 'new', entry: { family: 4, dst: '192.0.2.9', dstLen: 32, table: 255, protocol: PORTER_PROTO, type: 2, scope: 254, oif: 1 } })
  await clock.advance(50)
  t.equal(kernel.queries.at(-1)?.routes, 'porter', 'a Porter route notification forces the dump')
  kernel.watchers!.netlink({ kind: 'overflow', error: Object.assign(new Error('x'), { errno: 105 }) as never })
  await clock.advance(50)
  t.equal(kernel.queries.at(-1)?.routes, 'porter', 'lost notifications force it too')
  t.equal(agent.status().lastReconcile?.triggers.includes('resync'), true)
  await agent.stop()
})

t.test('bad nftAcceptChain is rejected at construction', async (t) => {
  t.throws(() => setup({ nftAcceptChain: 'filter' }), { code: 'PORTER_ERR_CONFIG_INVALID', message: /agent.nftAcceptChain: "filter" is not a chain/ })
})

t.test('reconcileNow before setDesired is refused', async (t) => {
  const { agent } = setup()
  await t.rejects(agent.reconcileNow(), { message: /before the desired VIPs are known/ })
})

t.test('agent.mode from the config: local-route programs local routes, and no addresses', async (t) => {
  const { kernel, agent } = setup({ mode: 'local-route' })
  agent.setDesired(['192.0.2.1', '2001:db8::1'])
  await agent.start()
  t.equal(agent.status().mode, 'local-route')
  t.match(agent.status().lastReconcile, { ok: true, changes: 2 })
  t.same(kernel.mineRoutes(), ['192.0.2.1', '2001:db8::1'], 'local routes (protocol 0x50)')
  t.same(kernel.mine(), [], 'no addresses')
  t.equal(kernel.queries.at(-1)?.routes, 'local', 'reads the local table for collisions')
  await agent.stop()
})

t.test('the mode option overrides the config', async (t) => {
  const kernel = new FakeKernel()
  const config = configSchema.parse({ agent: { firewall: 'none', mode: 'local-route' } })
  const agent = createAgent({ config, log: silent, clock: new ManualClock(), kernel, mode: 'address' })
  agent.setDesired(['192.0.2.1'])
  await agent.start()
  t.equal(agent.status().mode, 'address')
  t.same(kernel.mine(), ['192.0.2.1'])
  t.same(kernel.mineRoutes(), [])
  await agent.stop()
})
