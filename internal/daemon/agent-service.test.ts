// The agent daemon Service over a fake kernel: config agent.mode decides how VIPs are
// programmed, and a reload that changes it hands over to a new agent.
import type { AgentStatus } from '../admin/index.ts'
import t from 'tap'
import { createAgentService } from './agent-service.ts'
import { configSchema, type Config } from '../config/index.ts'
import { startAdminServer } from '../admin/index.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../log/index.ts'
import { ManualClock } from '../../test/lib/clock.ts'
import { FakeKernel } from '../../test/lib/fake-kernel.ts'

const config = (mode?: 'address' | 'local-route'): Config => configSchema.parse({
  agent: { firewall: 'none', nodeAddresses: ['198.51.100.7'], ...(mode ? { mode } : {}) },
  vips: [{ name: 'web', address: '203.0.113.10', nextHops: ['198.51.100.7'] }, { name: 'v6', address: '2001:db8::10', nextHops: ['198.51.100.7'] }],
})

function setup() {
  const kernel = new FakeKernel()
  const svc = createAgentService({ log: silentLogger(), agentOptions: { kernel, clock: new ManualClock(), watch: false } })
  t.teardown(() => svc.stop())
  return { kernel, svc }
}

const status = (svc: ReturnType<typeof setup>['svc']) => (svc.status() as AgentStatus).agent!

t.test('agent.mode local-route: the VIPs become local routes, not addresses', async (t) => {
  const { kernel, svc } = setup()
  await svc.start(config('local-route'))
  t.same(kernel.mineRoutes(), ['2001:db8::10', '203.0.113.10'])
  t.same(kernel.mine(), [])
  t.match(status(svc), { mode: 'local-route', vips: ['203.0.113.10', '2001:db8::10'] })
})

t.test('agent.mode defaults to address', async (t) => {
  const { kernel, svc } = setup()
  await svc.start(config())
  t.same(kernel.mine(), ['2001:db8::10', '203.0.113.10'])
  t.same(kernel.mineRoutes(), [])
  t.equal(status(svc).mode, 'address')
})

t.test('a reload that changes agent.mode hands over to a new agent, which replaces the addresses with routes and back', async (t) => {
  const { kernel, svc } = setup()
  const address = config('address')
  const local = config('local-route')
  await svc.start(address)
  t.same(kernel.mine(), ['2001:db8::10', '203.0.113.10'])
  await svc.reload(local, address)
  t.equal(status(svc).mode, 'local-route')
  t.same(kernel.mineRoutes(), ['2001:db8::10', '203.0.113.10'], 'routes added')
  t.same(kernel.mine(), [], 'Porter\'s addresses removed')
  await svc.reload(address, local)
  t.equal(status(svc).mode, 'address')
  t.same(kernel.mine(), ['2001:db8::10', '203.0.113.10'], 'addresses back')
  t.same(kernel.mineRoutes(), [], 'Porter\'s routes removed')
})

t.test('cleanup refuses while an agent answers on the admin socket, and removes everything once it is gone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'porter-cleanup-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const socket = join(dir, 'agent.sock')
  const cfg: Config = { ...config(), admin: { socket } }
  const running = setup()
  await running.svc.start(cfg)
  t.same(running.kernel.mine(), ['2001:db8::10', '203.0.113.10'])
  const admin = await startAdminServer(socket, () => ({ mode: 'agent', pid: 4242 }))
  const other = createAgentService({ log: silentLogger(), agentOptions: { kernel: running.kernel, clock: new ManualClock(), watch: false } })
  await t.rejects(other.cleanup(cfg), { code: 'PORTER_ERR_USAGE', message: /^Cannot clean up while porter agent is running \(pid 4242, admin socket ".*agent\.sock"\): it would restore everything at once\. Stop it first .* nothing was removed$/ })
  t.same(running.kernel.mine(), ['2001:db8::10', '203.0.113.10'], 'nothing removed')
  await admin.close()
  await running.svc.stop()
  await other.cleanup(cfg)
  t.same(running.kernel.mine(), [], 'no agent answers: everything removed')
})

t.test('cleanup goes ahead when a controller (not an agent) answers on that socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'porter-cleanup-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const socket = join(dir, 'shared.sock')
  const cfg: Config = { ...config(), admin: { socket } }
  const { kernel, svc } = setup()
  await svc.start(cfg)
  await svc.stop()
  const admin = await startAdminServer(socket, () => ({ mode: 'controller', pid: 1 }))
  t.teardown(() => admin.close())
  await createAgentService({ log: silentLogger(), agentOptions: { kernel, clock: new ManualClock(), watch: false } }).cleanup(cfg)
  t.same(kernel.mine(), [])
})

t.test('agent.liveness: a BFD session with each controller address only, from the node address; reload and stop', async (t) => {
  const { FakeBfd } = await import('../../test/lib/fake-bfd.ts')
  const bfd = new FakeBfd()
  const svc = createAgentService({ log: silentLogger(), agentOptions: { kernel: new FakeKernel(), clock: new ManualClock(), watch: false }, bfd: () => bfd })
  t.teardown(() => svc.stop())
  const withLiveness = (peers: string[]): Config => configSchema.parse({
    agent: { firewall: 'none', nodeAddresses: ['198.51.100.7', '2001:db8::7'], liveness: { peers, minTx: 50 } },
    vips: [{ name: 'web', address: '203.0.113.10', nextHops: ['198.51.100.7'] }],
  })
  await svc.start(withLiveness(['198.51.100.1', '2001:db8::1']))
  await new Promise((r) => setImmediate(r))
  t.same(bfd.calls, [
    'add controller 198.51.100.1 tx=50000 rx=100000 x3 from 198.51.100.7',
    'add controller 2001:db8::1 tx=50000 rx=100000 x3 from 2001:db8::7',
  ], 'each controller address, from this node\'s next-hop address of its family')
  bfd.move('controller 198.51.100.1', 'Up')
  t.match(status(svc).liveness, [{ address: '198.51.100.1', state: 'Up', txIntervalMs: 50 }, { address: '2001:db8::1', state: 'Down' }])
  bfd.calls = []
  await svc.reload(withLiveness(['198.51.100.1']), withLiveness(['198.51.100.1', '2001:db8::1']))
  await new Promise((r) => setImmediate(r))
  t.same(bfd.calls, ['remove controller 2001:db8::1'])
  await svc.stop()
  t.same(bfd.sessions.size, 0, 'stop ends the sessions (AdminDown: the controller drops this node at once)')
  t.ok(bfd.stopped)
  // a CIDR: sessions accepted from inside it (Kubernetes: controller replicas on any node)
  const cidr = createAgentService({ log: silentLogger(), agentOptions: { kernel: new FakeKernel(), clock: new ManualClock(), watch: false }, bfd: () => bfd })
  t.teardown(() => cidr.stop())
  bfd.calls = []
  await cidr.start(withLiveness(['198.51.100.0/24']))
  t.same([...bfd.listening], [4], 'listening for the CIDR\'s family')
  t.equal(await bfd.offer('192.0.2.1'), false, 'a source outside the CIDR is not answered')
  t.equal(await bfd.offer('198.51.100.20'), true, 'one inside gets a session')
  t.same(bfd.calls, ['add accepted controller 198.51.100.20 tx=50000 rx=100000 x3'])
  t.match((cidr.status() as AgentStatus).agent!.liveness, [{ address: '198.51.100.20', accepted: true, state: 'Down' }])
  await cidr.stop()
  t.equal(bfd.acceptor, undefined, 'nothing accepted after stop')
  // another receiving port (a controller on the same node keeps 3784): a new BFD service
  let made = 0
  const ported = createAgentService({ log: silentLogger(), agentOptions: { kernel: new FakeKernel(), clock: new ManualClock(), watch: false }, bfd: () => { made++; return new FakeBfd() } })
  t.teardown(() => ported.stop())
  const onPort = (port: number): Config => configSchema.parse({ agent: { firewall: 'none', nodeAddresses: ['198.51.100.7'], liveness: { peers: ['198.51.100.1'], port } } })
  await ported.start(onPort(3784))
  await ported.reload(onPort(3784), onPort(3784))
  t.equal(made, 1, 'same port: the same service')
  await ported.reload(onPort(3785), onPort(3784))
  t.equal(made, 2, 'another port: a new service')
  await ported.reload(configSchema.parse({ agent: { firewall: 'none' } }), onPort(3785))
  t.equal((ported.status() as AgentStatus).agent!.liveness, undefined, 'liveness removed: no sessions, no section')
  const plain = createAgentService({ log: silentLogger(), agentOptions: { kernel: new FakeKernel(), clock: new ManualClock(), watch: false }, bfd: () => { throw new Error('no BFD without agent.liveness') } })
  t.teardown(() => plain.stop())
  await plain.start(config())
  t.equal((plain.status() as AgentStatus).agent!.liveness, undefined, 'no liveness section without agent.liveness')
})

t.test('agent.liveness.auth: sessions signed with the key file\'s key; a changed key restarts them; a bad key file rejects start and reload before anything changes', async (t) => {
  const { FakeBfd } = await import('../../test/lib/fake-bfd.ts')
  const dir = t.testdir({ 'a.key': 'liveness-one\n', 'b.key': 'liveness-two\n', 'empty.key': '' })
  const bfd = new FakeBfd()
  const kernel = new FakeKernel()
  const svc = createAgentService({ log: silentLogger(), agentOptions: { kernel, clock: new ManualClock(), watch: false }, bfd: () => bfd })
  t.teardown(() => svc.stop())
  const withKey = (file: string, vip = '203.0.113.10'): Config => configSchema.parse({
    agent: { firewall: 'none', nodeAddresses: ['198.51.100.7'], liveness: { peers: ['198.51.100.1'], auth: { keyId: 3, keyFile: join(dir, file) } } },
    vips: [{ name: 'web', address: vip, nextHops: ['198.51.100.7'] }],
  })
  const refused = createAgentService({ log: silentLogger(), agentOptions: { kernel: new FakeKernel(), clock: new ManualClock(), watch: false }, bfd: () => { throw new Error('no BFD service is made') } })
  await t.rejects(refused.start(withKey('missing.key')), { code: 'PORTER_ERR_CONFIG_READ', message: /^agent\.liveness\.auth\.keyFile: Cannot read the BFD key file ".*missing\.key": ENOENT$/ }, 'start refused')
  await svc.start(withKey('a.key'))
  await new Promise((r) => setImmediate(r))
  t.same(bfd.calls, ['add controller 198.51.100.1 tx=100000 rx=100000 x3 from 198.51.100.7 auth meticulous-keyed-sha1 3'])
  t.same(bfd.sessions.get('controller 198.51.100.1')!.opts.auth!.key, new TextEncoder().encode('liveness-one'), 'the key without its newline')
  bfd.calls = []
  await svc.reload(withKey('a.key'), withKey('a.key'))
  await new Promise((r) => setImmediate(r))
  t.same(bfd.calls, [], 'the same key: the session stays')
  for (const bad of ['missing.key', 'empty.key']) {
    await t.rejects(svc.reload(withKey(bad, '203.0.113.99'), withKey('a.key')), { code: 'PORTER_ERR_CONFIG_READ', message: /^agent\.liveness\.auth\.keyFile: / }, `${bad}: reload refused`)
  }
  t.same(kernel.mine(), ['203.0.113.10'], 'the refused reloads\' VIP was never programmed')
  await svc.stop()
  t.same(bfd.calls, ['remove controller 198.51.100.1'], 'nor was the session touched (only the stop ended it)')
})

t.test('agent.liveness.auth: another key in the same file on reload restarts the session', async (t) => {
  const { FakeBfd } = await import('../../test/lib/fake-bfd.ts')
  const { writeFileSync } = await import('node:fs')
  const dir = t.testdir({ 'k.key': 'first-key' })
  const bfd = new FakeBfd()
  const svc = createAgentService({ log: silentLogger(), agentOptions: { kernel: new FakeKernel(), clock: new ManualClock(), watch: false }, bfd: () => bfd })
  t.teardown(() => svc.stop())
  const cfg = configSchema.parse({ agent: { firewall: 'none', nodeAddresses: ['198.51.100.7'], liveness: { peers: ['198.51.100.1', '198.51.100.0/24'], auth: { keyFile: join(dir, 'k.key') } } } })
  await svc.start(cfg)
  const signed = (await import('../bfd/index.ts')).signPacket
  const { encode } = await import('../bfd/index.ts')
  const first = encode({ diag: 0, state: 'Down', poll: false, final: false, cpi: false, demand: false, detectMult: 3, myDiscr: 9, yourDiscr: 0, desiredMinTx: 1_000_000, requiredMinRx: 100_000, requiredMinEchoRx: 0 })
  const enc = (k: string) => new TextEncoder().encode(k)
  t.equal(await bfd.offer('198.51.100.20', signed(first, { type: 'meticulous-keyed-sha1', keyId: 1, key: enc('first-key') }, 1)), true, 'a controller from the CIDR signing with the key is accepted')
  await new Promise((r) => setImmediate(r))
  bfd.calls = []
  writeFileSync(join(dir, 'k.key'), 'second-key\n')
  await svc.reload(cfg, cfg)
  await new Promise((r) => setImmediate(r))
  t.same(bfd.calls.sort(), [
    'add controller 198.51.100.1 tx=100000 rx=100000 x3 from 198.51.100.7 auth meticulous-keyed-sha1 1',
    'remove accepted controller 198.51.100.20',
    'remove controller 198.51.100.1',
  ], 'the same config, another key in its file: both sessions end, the configured one restarts')
  t.equal(await bfd.offer('198.51.100.20', signed(first, { type: 'meticulous-keyed-sha1', keyId: 1, key: enc('first-key') }, 2)), false, 'the old key starts nothing')
  t.equal(await bfd.offer('198.51.100.20', signed(first, { type: 'meticulous-keyed-sha1', keyId: 1, key: enc('second-key') }, 3)), true, 'the new one does')
})
