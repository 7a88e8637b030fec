// The agent daemon Service over a fake kernel: config agent.mode decides how VIPs are
// programmed, and a reload that changes it hands over to a new agent.
import type { AgentStatus } from '../admin/index.ts'
import t from 'tap'
import { createAgentService } from './agent-service.ts'
import { configSchema, type Config } from '../config/index.ts'
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
