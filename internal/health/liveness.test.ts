// Node liveness (issue 11): the pure BFD-state -> health step table, and the HealthMonitor with
// `bfd` checks over a fake BFD service: one session per next-hop address shared by its VIPs, a
// Down (or the node's AdminDown) takes the next hop off every VIP with one onChange.
import t from 'tap'
import { INITIAL, type HealthState } from './state.ts'
import { observeLiveness, livenessError, type LivenessChange } from './liveness.ts'
import { HealthMonitor, NEXT_HOP_BFD_KEY } from './monitor.ts'
import { parseConfig, type Config } from '../config/index.ts'
import { silentLogger } from '../log/index.ts'
import { ManualClock } from '../../test/lib/clock.ts'
import { FakeBfd } from '../../test/lib/fake-bfd.ts'

t.test('liveness step table: up only while Up, down at once otherwise', async (t) => {
  const steps: [LivenessChange, boolean, boolean, string | undefined][] = [
    // [change, up, changed, lastError]
    [{ to: 'Init', diag: 'No Diagnostic', remoteState: 'Down' }, false, false, 'BFD Init'],
    [{ to: 'Up', diag: 'No Diagnostic', remoteState: 'Up' }, true, true, undefined],
    [{ to: 'Down', diag: 'Control Detection Time Expired', remoteState: 'Up' }, false, true, 'BFD Down: Control Detection Time Expired'],
    [{ to: 'Init', diag: 'No Diagnostic', remoteState: 'Down' }, false, false, 'BFD Init'],
    [{ to: 'Up', diag: 'No Diagnostic', remoteState: 'Init' }, true, true, undefined],
    [{ to: 'Down', diag: 'Neighbor Signaled Session Down', remoteState: 'AdminDown' }, false, true, 'BFD: the node said AdminDown (its agent stopped or left)'],
    [{ to: 'Up', diag: 'No Diagnostic', remoteState: 'Up' }, true, true, undefined],
    [{ to: 'Down', diag: 'Neighbor Signaled Session Down', remoteState: 'Down' }, false, true, 'BFD Down: Neighbor Signaled Session Down'],
    [{ to: 'AdminDown', diag: 'Administratively Down', remoteState: 'Down' }, false, false, 'BFD: stopped here'],
  ]
  let s: HealthState = INITIAL
  steps.forEach(([c, up, changed, err], i) => {
    const r = observeLiveness(s, c)
    t.equal(r.state.up, up, `step ${i} up`)
    t.equal(r.changed, changed, `step ${i} changed`)
    t.equal(r.state.lastError, err, `step ${i} error`)
    s = r.state
  })
  t.equal(s.checks, steps.length)
  t.equal(livenessError({ to: 'Down', diag: '', remoteState: 'Down' }), 'BFD Down')
})

const cfgOf = (bfd2 = '{ type: bfd }', third = ''): Config => parseConfig(`
bgp: { localAs: 64512, routerId: 192.0.2.1 }
vips:
  - name: web
    address: 203.0.113.10
    nextHops: [198.51.100.11, 198.51.100.12]
    check: { type: bfd, minTx: 50, minRx: 50, multiplier: 3 }
  - name: api
    address: 203.0.113.11
    nextHops: [198.51.100.11, { address: 198.51.100.13, check: { type: tcp, port: 80 } }${third}]
    check: ${bfd2.replace('}', ', minTx: 50, minRx: 50 }')}
`)

function setup(opts: { bfd?: boolean } = {}) {
  const clock = new ManualClock()
  const bfd = new FakeBfd()
  let changes = 0
  const probes: string[] = []
  const m = new HealthMonitor({
    clock, log: silentLogger(), onChange: () => changes++, ...(opts.bfd === false ? {} : { bfd }),
    checker: async (target) => { probes.push(target); return { ok: true } },
  })
  t.teardown(() => m.stop())
  return { clock, bfd, m, changes: () => changes, probes }
}

const settle = () => new Promise((r) => setImmediate(r))
const key = (a: string) => `${NEXT_HOP_BFD_KEY}${a}`

t.test('monitor: one session per address for all its VIPs; Down removes it everywhere with one change', async (t) => {
  const { bfd, m, clock, changes, probes } = setup()
  m.configure(cfgOf(), (v, i) => v.name ?? String(i))
  await settle()
  t.same([...bfd.sessions.keys()].sort(), [key('198.51.100.11'), key('198.51.100.12')], 'one session for 198.51.100.11 (web and api)')
  t.same(bfd.calls.filter((c) => c.startsWith('add')).length, 2)
  t.match(m.describe('web', '198.51.100.11'), { bfd: { state: 'Down', downs: 0 } }, 'the session\'s status is shown')
  t.equal(m.describe('web', '198.51.100.11').health, 'pending', 'starts pending (down) until the first Up')
  t.equal(m.healthy('web', '198.51.100.11'), false)
  t.equal(m.healthy('api', '198.51.100.11'), false)
  await clock.advance(0)
  t.same(probes, ['198.51.100.13'], 'only the tcp check is polled')

  bfd.move(key('198.51.100.11'), 'Init')
  t.equal(changes(), 0, 'Init is not up')
  bfd.move(key('198.51.100.11'), 'Up')
  t.equal(changes(), 1, 'one change for both VIPs')
  t.equal(m.healthy('web', '198.51.100.11'), true)
  t.equal(m.healthy('api', '198.51.100.11'), true)
  t.match(m.describe('api', '198.51.100.11'), { health: 'up', bfd: { state: 'Up', txIntervalMs: 50 } })
  t.equal(m.healthy('web', '198.51.100.12'), false, 'another address has its own session')

  bfd.move(key('198.51.100.11'), 'Down')
  t.equal(changes(), 2)
  t.equal(m.healthy('web', '198.51.100.11'), false)
  t.equal(m.healthy('api', '198.51.100.11'), false)
  t.match(m.describe('web', '198.51.100.11'), { health: 'down', lastError: 'BFD Down: Control Detection Time Expired', bfd: { state: 'Down', downs: 1 } })

  bfd.move(key('198.51.100.11'), 'Up')
  bfd.move(key('198.51.100.11'), 'Down', { remoteState: 'AdminDown', diag: 3 })
  t.equal(changes(), 4, 'the node leaving (AdminDown) removes it too')
  t.equal(m.healthy('api', '198.51.100.11'), false)
  t.equal(m.describe('api', '198.51.100.11').lastError, 'BFD: the node said AdminDown (its agent stopped or left)')
})

t.test('monitor: reconfigure keeps a session and its state, retimes, and stops sessions no VIP uses', async (t) => {
  const { bfd, m } = setup()
  m.configure(cfgOf(), (v, i) => v.name ?? String(i))
  await settle()
  bfd.move(key('198.51.100.11'), 'Up')
  bfd.move(key('198.51.100.12'), 'Up')
  bfd.calls = []
  // web loses 198.51.100.12, api's check changes to the same timers spelt out: 198.51.100.11 stays
  m.configure(parseConfig(`
bgp: { localAs: 64512, routerId: 192.0.2.1 }
vips:
  - { name: web, address: 203.0.113.10, nextHops: [198.51.100.11], check: { type: bfd, minTx: 50, minRx: 50, multiplier: 3 } }
  - { name: api, address: 203.0.113.11, nextHops: [198.51.100.11], check: { type: bfd, minTx: 50, minRx: 50 } }
`), (v, i) => v.name ?? String(i))
  await settle()
  t.same(bfd.calls, [`remove ${key('198.51.100.12')}`], 'only the unused session stops')
  t.equal(m.healthy('web', '198.51.100.11'), true, 'state kept')
  t.equal(m.healthy('web', '198.51.100.12'), true, 'not a next hop any more: no check')
  m.configure(parseConfig(`
bgp: { localAs: 64512, routerId: 192.0.2.1 }
vips:
  - { name: web, address: 203.0.113.10, nextHops: [198.51.100.11], check: { type: bfd, minTx: 200, minRx: 200, multiplier: 3 } }
`), (v, i) => v.name ?? String(i))
  await settle()
  t.same(bfd.calls.slice(1), [`configure ${key('198.51.100.11')} tx=200000 rx=200000 x3`], 'new timers: a Poll Sequence on the same session')
  t.equal(m.healthy('web', '198.51.100.11'), true, 'the session stays Up across new timers')
  m.configure(parseConfig(`
bgp: { localAs: 64512, routerId: 192.0.2.1 }
vips:
  - { name: web, address: 203.0.113.10, nextHops: [198.51.100.11], check: { type: bfd, minTx: 200, minRx: 200, multiplier: 3, port: 3785 } }
`), (v, i) => v.name ?? String(i))
  await settle()
  t.same(bfd.calls.slice(-2), [`remove ${key('198.51.100.11')}`, `add ${key('198.51.100.11')} tx=200000 rx=200000 x3 to port 3785`], 'another port: a new session')
  t.equal(m.healthy('web', '198.51.100.11'), false, 'down until the new session is Up')
  bfd.move(key('198.51.100.11'), 'Up')
  t.equal(m.healthy('web', '198.51.100.11'), true)
  await m.stop()
  t.equal(bfd.sessions.size, 0, 'stop ends every session (AdminDown)')
})

t.test('monitor: without a BFD service a bfd next hop stays down and says why', async (t) => {
  const { m } = setup({ bfd: false })
  m.configure(cfgOf(), (v, i) => v.name ?? String(i))
  await settle()
  t.equal(m.healthy('web', '198.51.100.11'), false)
  t.match(m.describe('web', '198.51.100.11'), { health: 'pending', lastError: 'BFD is not available in this process', bfd: { error: 'BFD is not available in this process' } })
})

t.test('monitor: Kubernetes nodes (setNodes) get a session each; live() follows it; the config\'s timers win for a shared address', async (t) => {
  const { bfd, m, changes } = setup()
  m.configure(cfgOf(), (v, i) => v.name ?? String(i))
  m.setNodes(['198.51.100.11', '198.51.100.21', '198.51.100.22'], { minTx: 300, minRx: 300, multiplier: 3 })
  await settle()
  t.same(bfd.calls.filter((c) => c.startsWith('add')).sort(), [
    `add ${key('198.51.100.11')} tx=50000 rx=50000 x3`,
    `add ${key('198.51.100.12')} tx=50000 rx=50000 x3`,
    `add ${key('198.51.100.21')} tx=300000 rx=300000 x3`,
    `add ${key('198.51.100.22')} tx=300000 rx=300000 x3`,
  ], 'one session per address; a config next hop keeps its own timers')
  t.equal(m.live('198.51.100.21'), false, 'not live until Up')
  bfd.move(key('198.51.100.21'), 'Up')
  t.equal(m.live('198.51.100.21'), true)
  t.equal(changes(), 1, 'a node coming Up is a change')
  t.match(m.nodeStatus(), [{ address: '198.51.100.11' }, { address: '198.51.100.21', state: 'Up' }, { address: '198.51.100.22', state: 'Down' }])
  bfd.move(key('198.51.100.21'), 'Down')
  t.equal(m.live('198.51.100.21'), false)
  t.equal(changes(), 2)
  bfd.calls = []
  m.setNodes(['198.51.100.22'], { minTx: 300, minRx: 300, multiplier: 3 })
  await settle()
  t.same(bfd.calls.sort(), [`remove ${key('198.51.100.21')}`], 'a node no Service uses loses its session; a config next hop keeps its one')
  m.setNodes(['198.51.100.22'], undefined)
  await settle()
  t.same(m.nodeStatus(), [], 'nodeLiveness off: no node sessions')
  t.equal(bfd.sessions.has(key('198.51.100.22')), false)
})

t.test('monitor: the sessions are signed with the key given; another key replaces the session (down until Up again)', async (t) => {
  const { bfd, m, changes } = setup()
  const cfg = parseConfig(`
bgp: { localAs: 64512, routerId: 192.0.2.1 }
vips:
  - { name: web, address: 203.0.113.10, nextHops: [198.51.100.11], check: { type: bfd, auth: { keyFile: /etc/porter/liveness.key } } }
`)
  const sessions = (k: string) => new Map([['198.51.100.11', { minTx: 100, minRx: 100, multiplier: 3, port: 3784, auth: { type: 'meticulous-keyed-sha1' as const, keyId: 1, key: new TextEncoder().encode(k) } }]])
  const vipKey = (v: Config['vips'][number], i: number) => v.name ?? String(i)
  m.configure(cfg, vipKey, sessions('k1'))
  await settle()
  t.same(bfd.calls, [`add ${key('198.51.100.11')} tx=100000 rx=100000 x3 auth meticulous-keyed-sha1 1`])
  bfd.move(key('198.51.100.11'), 'Up')
  t.equal(changes(), 1)
  bfd.calls = []
  m.configure(cfg, vipKey, sessions('k1'))
  await settle()
  t.same(bfd.calls, [], 'the same key (read again on reload): the session stays')
  t.equal(m.healthy('web', '198.51.100.11'), true)
  m.configure(cfg, vipKey, sessions('k2'))
  await settle()
  t.same(bfd.calls, [`remove ${key('198.51.100.11')}`, `add ${key('198.51.100.11')} tx=100000 rx=100000 x3 auth meticulous-keyed-sha1 1`], 'another key: a new session')
  t.same(bfd.sessions.get(key('198.51.100.11'))!.opts.auth!.key, new TextEncoder().encode('k2'))
  t.equal(m.healthy('web', '198.51.100.11'), false, 'down until the new session is Up')
  t.equal(changes(), 2, 'one change')
  m.setNodes(['198.51.100.21'], { minTx: 300, minRx: 300, multiplier: 3, auth: { type: 'keyed-sha1', keyId: 4, key: new TextEncoder().encode('nodes') } })
  await settle()
  t.equal(bfd.calls.at(-1), `add ${key('198.51.100.21')} tx=300000 rx=300000 x3 auth keyed-sha1 4`, 'Kubernetes nodes: kubernetes.nodeLiveness\'s key')
})
