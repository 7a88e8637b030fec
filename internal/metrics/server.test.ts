// The metrics listener over real loopback HTTP: the three paths, 404 for anything else, the
// readiness reason, bind failures as PORTER_ERR_METRICS_LISTEN with errno and address.
import t from 'tap'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { pino } from 'pino'
import { listenMetrics, startMetricsServer, MetricsListenError, type MetricsServer } from './server.ts'
import { createPorterRegistry } from './registry.ts'
import { startMetrics, daemonReadiness, type Phase } from './index.ts'
import { parsePromText, promValue } from '../../test/lib/prom-text.ts'

const log = pino({ level: 'silent' })

interface Res { status: number; body: string; headers: Record<string, string | string[] | undefined> }
function get(port: number, path: string, method = 'GET', host = '127.0.0.1'): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('GET /metrics, /healthz, /readyz; 404 for everything else', async (t) => {
  let ready = { ready: true, reason: 'ok' }
  const reg = createPorterRegistry({ mode: 'controller', status: () => ({ peers: [{ name: 'r4', state: 'Established', uptimeSeconds: 5, prefixesSent: 2, prefixesReceived: 0, flaps: 0 }] }), ready: () => ready })
  const srv = await listenMetrics({ address: '127.0.0.1:0', exposition: reg, ready: () => ready, log }, '127.0.0.1', 0)
  t.teardown(() => srv.close())
  t.ok(srv.port > 0)

  const m = await get(srv.port, '/metrics')
  t.equal(m.status, 200)
  t.match(m.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const p = parsePromText(m.body)
  t.equal(promValue(p, 'porter_bgp_session_state', { peer: 'r4', state: 'Established' }), 1)
  t.equal(promValue(p, 'porter_bgp_prefixes_sent', { peer: 'r4' }), 2)
  t.equal((await get(srv.port, '/metrics?name[]=x')).status, 200, 'a query string is ignored')

  t.same(await get(srv.port, '/healthz').then((r) => [r.status, r.body]), [200, 'ok\n'])
  t.same(await get(srv.port, '/readyz').then((r) => [r.status, r.body]), [200, 'ok\n'])
  ready = { ready: false, reason: 'Kubernetes has not synced yet' }
  t.same(await get(srv.port, '/readyz').then((r) => [r.status, r.body]), [503, 'Kubernetes has not synced yet\n'], '503 with a one-line reason')
  ready = { ready: false, reason: 'first\nsecond' }
  t.same(await get(srv.port, '/readyz').then((r) => [r.status, r.body]), [503, 'first second\n'], 'the reason stays on one line')
  t.equal(promValue(parsePromText((await get(srv.port, '/metrics')).body), 'porter_ready'), 0, 'porter_ready follows')

  for (const path of ['/', '/metricsx', '/metrics/', '/healthz/x', '/debug/pprof', '/../etc/passwd']) {
    t.equal((await get(srv.port, path)).status, 404, `GET ${path}: 404`)
  }
  for (const method of ['POST', 'PUT', 'DELETE']) t.equal((await get(srv.port, '/metrics', method)).status, 404, `${method} /metrics: 404`)
  const head = await get(srv.port, '/healthz', 'HEAD')
  t.same([head.status, head.body], [200, ''], 'HEAD: no body')
})

t.test('a failing collection is a 500 with the reason, the listener keeps serving', async (t) => {
  const srv = await listenMetrics({ address: '127.0.0.1:0', exposition: { contentType: 'text/plain', metrics: async () => { throw new Error('status exploded') } }, ready: () => { throw new Error('no') }, log }, '127.0.0.1', 0)
  t.teardown(() => srv.close())
  t.same(await get(srv.port, '/metrics').then((r) => [r.status, r.body]), [500, 'collecting metrics failed: status exploded\n'])
  t.same(await get(srv.port, '/readyz').then((r) => [r.status, r.body]), [503, 'readiness could not be read: no\n'])
  t.equal((await get(srv.port, '/healthz')).status, 200)
})

t.test('IPv6 loopback in brackets', async (t) => {
  const reg = createPorterRegistry({ mode: 'agent', status: () => ({}), defaultMetrics: false })
  const srv = await listenMetrics({ address: '[::1]:0', exposition: reg, ready: () => ({ ready: true, reason: 'ok' }), log }, '::1', 0)
  t.teardown(() => srv.close())
  t.equal((await get(srv.port, '/healthz', 'GET', '::1')).status, 200)
})

t.test('an address in use: PORTER_ERR_METRICS_LISTEN naming the address and errno', async (t) => {
  const blocker = createServer()
  await new Promise<void>((r) => blocker.listen({ host: '127.0.0.1', port: 0 }, r))
  t.teardown(() => new Promise<void>((r) => blocker.close(() => r())))
  const port = (blocker.address() as { port: number }).port
  const address = `127.0.0.1:${port}`
  const reg = createPorterRegistry({ mode: 'controller', status: () => ({}), defaultMetrics: false })
  const err = await startMetricsServer({ address, exposition: reg, ready: () => ({ ready: true, reason: 'ok' }), log }).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof MetricsListenError, 'a MetricsListenError')
  t.match(err, { code: 'PORTER_ERR_METRICS_LISTEN', errno: 'EADDRINUSE', address })
  t.equal((err as Error).message, `Cannot listen for metrics on admin.metricsAddress "${address}": EADDRINUSE: another process (another porter?) is using this port; stop it or set admin.metricsAddress to a free port`)
  const na = await startMetricsServer({ address: '192.0.2.77:9477', exposition: reg, ready: () => ({ ready: true, reason: 'ok' }), log }).then(() => undefined, (e: unknown) => e)
  t.match(na, { code: 'PORTER_ERR_METRICS_LISTEN', errno: 'EADDRNOTAVAIL', message: /"192\.0\.2\.77:9477": EADDRNOTAVAIL: the address is not on this host/ }, 'an address not on this host')
  const bad = await startMetricsServer({ address: 'localhost:9477', exposition: reg, ready: () => ({ ready: true, reason: 'ok' }), log }).then(() => undefined, (e: unknown) => e)
  t.match(bad, { code: 'PORTER_ERR_METRICS_LISTEN', message: /"localhost" is not an IP address/ }, 'an unvalidated address is refused, not resolved')
})

t.test('close() ends keep-alive connections and frees the port', async (t) => {
  const reg = createPorterRegistry({ mode: 'controller', status: () => ({}), defaultMetrics: false })
  const srv: MetricsServer = await listenMetrics({ address: '127.0.0.1:0', exposition: reg, ready: () => ({ ready: true, reason: 'ok' }), log }, '127.0.0.1', 0)
  const { Agent } = await import('node:http')
  const agent = new Agent({ keepAlive: true })
  await new Promise<void>((resolve, reject) => request({ host: '127.0.0.1', port: srv.port, path: '/healthz', agent }, (res) => { res.resume().on('end', resolve) }).on('error', reject).end())
  const t0 = Date.now()
  await srv.close()
  t.ok(Date.now() - t0 < 1000, 'close does not wait for the idle keep-alive connection')
  agent.destroy()
  const again = createServer()
  await new Promise<void>((resolve, reject) => { again.once('error', reject); again.listen({ host: '127.0.0.1', port: srv.port }, resolve) })
  await new Promise<void>((r) => again.close(() => r()))
  t.pass('the port is free again')
})

t.test('the daemon\'s readiness: phase first, then the mode\'s rule', async (t) => {
  const synced = () => ({ kubernetes: { synced: true } })
  const rows: [Phase, boolean, string][] = [['starting', false, 'the controller is starting'], ['running', true, 'ok'], ['stopping', false, 'the controller is shutting down']]
  for (const [phase, ready, reason] of rows) t.same(daemonReadiness('controller', phase, synced), { ready, reason }, phase)
  t.same(daemonReadiness('controller', 'running', () => ({ kubernetes: { synced: false } })), { ready: false, reason: 'Kubernetes has not synced yet' })

  // startMetrics: the whole seam the daemon uses, on a real port
  const blocker = createServer()
  await new Promise<void>((r) => blocker.listen({ host: '127.0.0.1', port: 0 }, r))
  const port = (blocker.address() as { port: number }).port
  await new Promise<void>((r) => blocker.close(() => r()))
  let phase: Phase = 'starting'
  const m = await startMetrics({ mode: 'agent', address: `127.0.0.1:${port}`, status: () => ({ agent: { lastReconcile: { ok: true }, counters: { changes: 3, failures: 0, driftRepairs: 0, reconciles: 1 } } }), phase: () => phase, log })
  t.teardown(() => m.close())
  t.same(await get(port, '/readyz').then((r) => [r.status, r.body]), [503, 'the agent is starting\n'])
  t.equal(promValue(parsePromText((await get(port, '/metrics')).body), 'porter_ready'), 0)
  phase = 'running'
  t.same(await get(port, '/readyz').then((r) => [r.status, r.body]), [200, 'ok\n'])
  const p = parsePromText((await get(port, '/metrics')).body)
  t.equal(promValue(p, 'porter_ready'), 1)
  t.equal(promValue(p, 'porter_agent_changes_total'), 3)
  t.ok(p.samples.some((s) => s.name === 'porter_process_cpu_seconds_total'), 'default process metrics are on')
})
