import t from 'tap'
import { createServer as netServer } from 'node:net'
import { createServer as httpServer } from 'node:http'
import { observe, INITIAL, type HealthState } from './state.ts'
import { HealthMonitor } from './monitor.ts'
import { execCheck, tcpCheck, httpCheck } from './checks.ts'
import { parseConfig } from '../config/index.ts'
import { silentLogger } from '../log/index.ts'
import { ManualClock } from '../../test/lib/clock.ts'

t.test('rise/fall step table', async (t) => {
  // rise 2, fall 3: [result, expected up, changed]
  const steps: [boolean, boolean, boolean][] = [
    [true, false, false], // 1st success: still down (rise 2)
    [false, false, false], // a failure resets the rise streak
    [true, false, false],
    [true, true, true], // 2 in a row: up, one change
    [true, true, false],
    [false, true, false], // 1st failure
    [false, true, false], // 2nd
    [true, true, false], // success resets the fall streak
    [false, true, false],
    [false, true, false],
    [false, false, true], // 3 in a row: down
    [false, false, false],
  ]
  let s: HealthState = INITIAL
  steps.forEach(([ok, up, changed], i) => {
    const r = observe(s, ok, 2, 3, ok ? undefined : 'refused')
    t.equal(r.state.up, up, `step ${i} up`)
    t.equal(r.changed, changed, `step ${i} changed`)
    s = r.state
  })
  t.equal(s.checks, steps.length)
  t.equal(s.lastError, 'refused')
})

t.test('a flapping check never changes state more than once per rise/fall run', async (t) => {
  let s: HealthState = INITIAL
  let changes = 0
  for (let i = 0; i < 100; i++) {
    const r = observe(s, i % 2 === 0, 2, 2)
    s = r.state
    if (r.changed) changes++
  }
  t.equal(changes, 0, 'alternating results never reach rise 2 or fall 2')
})

t.test('monitor: checks on the interval with an injected clock, reports each change once', async (t) => {
  const cfg = parseConfig(`
bgp: { localAs: 64512, routerId: 192.0.2.1 }
vips:
  - name: web
    address: 203.0.113.10
    nextHops: [198.51.100.1, 198.51.100.2, { address: 198.51.100.3 }]
    check: { type: tcp, port: 80, interval: 2s, timeout: 1s, rise: 2, fall: 2 }
  - name: nocheck
    address: 203.0.113.11
    nextHops: [198.51.100.1]
`)
  const clock = new ManualClock()
  const results = new Map<string, boolean>([['198.51.100.1', true], ['198.51.100.2', true], ['198.51.100.3', false]])
  const calls: string[] = []
  let changes = 0
  const m = new HealthMonitor({
    clock, log: silentLogger(), onChange: () => changes++,
    checker: async (target) => { calls.push(target); return results.get(target) ? { ok: true } : { ok: false, error: 'refused' } },
  })
  m.configure(cfg, (v, i) => v.name ?? String(i))
  t.equal(m.healthy('nocheck', '198.51.100.1'), true, 'no check = healthy')
  t.equal(m.describe('web', '198.51.100.1').health, 'pending')
  await clock.advance(0)
  t.equal(calls.length, 3, 'first round at once')
  t.equal(m.healthy('web', '198.51.100.1'), false, 'rise 2: not yet')
  await clock.advance(1999)
  t.equal(calls.length, 3, 'nothing before the interval')
  await clock.advance(1)
  t.equal(calls.length, 6)
  t.equal(m.healthy('web', '198.51.100.1'), true)
  t.equal(m.healthy('web', '198.51.100.2'), true)
  t.equal(m.healthy('web', '198.51.100.3'), false)
  t.equal(changes, 2)
  results.set('198.51.100.2', false)
  await clock.advance(2000)
  t.equal(m.healthy('web', '198.51.100.2'), true, 'fall 2: one failure is not enough')
  await clock.advance(2000)
  t.equal(m.healthy('web', '198.51.100.2'), false)
  t.equal(changes, 3)
  t.same(m.describe('web', '198.51.100.2'), { health: 'down', lastError: 'refused' })
  // reconfigure: unchanged checks keep state, a removed next hop stops being checked
  const cfg2 = parseConfig(`
bgp: { localAs: 64512, routerId: 192.0.2.1 }
vips:
  - name: web
    address: 203.0.113.10
    nextHops: [198.51.100.1, 198.51.100.2]
    check: { type: tcp, port: 80, interval: 2s, timeout: 1s, rise: 2, fall: 2 }
`)
  m.configure(cfg2, (v, i) => v.name ?? String(i))
  t.equal(m.healthy('web', '198.51.100.1'), true, 'state kept across reconfigure')
  const before = calls.length
  await clock.advance(2000)
  t.equal(calls.length - before, 2, 'only the two remaining next hops are checked')
  m.stop()
  t.equal(clock.pending, 0, 'no timers left after stop')
})

t.test('exec check: exit 0 ok, non-zero fails, timeout kills', async (t) => {
  const base = { type: 'exec' as const, interval: 1000, rise: 1, fall: 1 }
  t.same(await execCheck('192.0.2.1', { ...base, command: ['true'], timeout: 2000 }), { ok: true })
  const f = await execCheck('192.0.2.1', { ...base, command: ['false'], timeout: 2000 })
  t.same(f, { ok: false, error: 'exec false: exit 1' })
  const started = Date.now()
  const s = await execCheck('192.0.2.1', { ...base, command: ['sleep', '30'], timeout: 200 })
  t.same(s, { ok: false, error: 'exec sleep: killed after 200 ms' })
  t.ok(Date.now() - started < 10_000, 'did not wait for the command')
  const env = await execCheck('192.0.2.7', { ...base, command: ['sh', '-c', 'test "$PORTER_TARGET" = 192.0.2.7'], timeout: 2000 })
  t.same(env, { ok: true }, 'the target is passed in PORTER_TARGET')
  const missing = await execCheck('192.0.2.1', { ...base, command: ['/nonexistent/check'], timeout: 2000 })
  t.same(missing, { ok: false, error: 'exec /nonexistent/check: ENOENT' })
})

t.test('tcp and http checks against loopback servers', async (t) => {
  const tcp = netServer((s) => s.end())
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r))
  t.teardown(() => tcp.close())
  const port = (tcp.address() as { port: number }).port
  t.same(await tcpCheck('127.0.0.1', port, 1000), { ok: true })
  tcp.close()
  await new Promise((r) => setTimeout(r, 50))
  const refused = await tcpCheck('127.0.0.1', port, 1000)
  t.equal(refused.ok, false)
  t.match(refused.error, 'ECONNREFUSED')

  let status = 200
  const http = httpServer((req, res) => { res.statusCode = req.url === '/healthz' ? status : 404; res.end('x') })
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  t.teardown(() => http.close())
  const hp = (http.address() as { port: number }).port
  const c = { type: 'http' as const, port: hp, path: '/healthz', expectStatus: 200, insecure: false, interval: 1000, timeout: 1000, rise: 1, fall: 1 }
  t.same(await httpCheck('127.0.0.1', c), { ok: true })
  status = 503
  t.same(await httpCheck('127.0.0.1', c), { ok: false, error: `http ${hp}/healthz: status 503, expected 200` })
})
