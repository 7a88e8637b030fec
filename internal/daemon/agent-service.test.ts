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
