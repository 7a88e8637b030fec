// The dashboard on the metrics listener over real loopback HTTP (listenMetrics with `dashboard`):
// the page and its assets with the CSP, the Host guard, the server-sent event stream following
// the status on the ManualClock, the watcher limit, and close() ending open streams.
import t, { type Test } from 'tap'
import { request, type IncomingMessage } from 'node:http'
import { pino } from 'pino'
import { listenMetrics, type MetricsServer } from '../metrics/server.ts'
import { ManualClock } from '../../test/lib/clock.ts'
import { CONTENT_SECURITY_POLICY, PAGE_HTML, PAGE_JS } from './page.ts'
import type { DashboardUpdate } from './feed.ts'
import type { ControllerStatus } from '../admin/index.ts'

const log = pino({ level: 'silent' })

interface Res { status: number; body: string; headers: IncomingMessage['headers'] }
function get(port: number, path: string, o: { method?: string; host?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', agent: false, headers: o.host ? { Host: o.host } : {} }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** An open /events stream: its headers and the updates received so far. */
interface Stream { res: IncomingMessage; updates: DashboardUpdate[]; raw: string; ended: Promise<void>; close(): void }
function openEvents(port: number): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/events', agent: false, headers: { Accept: 'text/event-stream' } }, (res) => {
      const s: Stream = { res, updates: [], raw: '', ended: new Promise((r) => res.once('close', () => r())), close: () => req.destroy() }
      let buf = ''
      res.setEncoding('utf8').on('data', (d: string) => {
        s.raw += d
        buf += d
        let i
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i)
          buf = buf.slice(i + 2)
          const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')
          if (data) s.updates.push(JSON.parse(data))
        }
      })
      resolve(s)
    })
    req.on('error', reject)
    req.end()
  })
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

function setup(t: Test, status: () => object): Promise<{ srv: MetricsServer; clock: ManualClock }> {
  const clock = new ManualClock()
  return listenMetrics({
    address: '127.0.0.1:0', exposition: { contentType: 'text/plain', metrics: async () => 'porter_ready 1\n' }, ready: () => ({ ready: true, reason: 'ok' }), log,
    dashboard: { status, clock, intervalMs: 1000 },
  }, '127.0.0.1', 0).then((srv) => {
    t.teardown(() => srv.close())
    return { srv, clock }
  })
}

const controller = (state: string, hop12: 'up' | 'down'): ControllerStatus => ({
  peers: [{ name: 'r4', address: '192.0.2.1', peerAs: 65001, state, prefixesReceived: 0, updatesReceived: 0, flaps: 0, prefixesSent: 2 }],
  refusedConnections: 0,
  vips: [{ name: 'web', address: '203.0.113.10', announced: true, nextHops: [
    { address: '192.0.2.11', health: 'up', announced: true },
    { address: '192.0.2.12', health: hop12, announced: hop12 === 'up', ...(hop12 === 'down' ? { lastError: 'exec check: exit 1' } : {}) },
  ] }],
})

t.test('the page, its script and style, with the CSP; /metrics alongside', async (t) => {
  const { srv } = await setup(t, () => controller('Established', 'up'))
  const page = await get(srv.port, '/')
  t.equal(page.status, 200)
  t.equal(page.headers['content-type'], 'text/html; charset=utf-8')
  t.equal(page.body, PAGE_HTML)
  const js = await get(srv.port, '/dashboard.js?v=1')
  t.same([js.status, js.headers['content-type'], js.body], [200, 'text/javascript; charset=utf-8', PAGE_JS], 'a query string is ignored')
  for (const path of ['/', '/dashboard.js', '/dashboard.css', '/favicon.svg']) {
    const r = await get(srv.port, path)
    t.equal(r.headers['content-security-policy'], CONTENT_SECURITY_POLICY, `${path}: CSP`)
    t.equal(r.headers['x-content-type-options'], 'nosniff', `${path}: nosniff`)
    t.equal(r.headers['cache-control'], 'no-store')
  }
  const head = await get(srv.port, '/', { method: 'HEAD' })
  t.same([head.status, head.body, head.headers['content-length']], [200, '', String(Buffer.byteLength(PAGE_HTML))], 'HEAD: headers, no body')
  t.equal((await get(srv.port, '/', { method: 'POST' })).status, 404, 'POST: 404')
  t.equal((await get(srv.port, '/index.html')).status, 404)
  t.same(await get(srv.port, '/metrics').then((r) => [r.status, r.body]), [200, 'porter_ready 1\n'], '/metrics still served')
  t.equal((await get(srv.port, '/healthz')).status, 200)
})

t.test('a Host that is a name other than localhost is refused (DNS rebinding)', async (t) => {
  const { srv } = await setup(t, () => controller('Established', 'up'))
  for (const path of ['/', '/events', '/dashboard.js']) {
    const r = await get(srv.port, path, { host: `rebind.example:${srv.port}` })
    t.equal(r.status, 403, `${path}: 403`)
    t.match(r.body, /IP address or localhost/)
  }
  t.equal((await get(srv.port, '/', { host: `localhost:${srv.port}` })).status, 200, 'localhost is fine')
  t.equal((await get(srv.port, '/metrics', { host: `rebind.example:${srv.port}` })).status, 200, '/metrics is not the dashboard: Prometheus scrapes by any name')
})

t.test('/events: the latest update at once, then one per sample as the status changes', async (t) => {
  let state = 'Active'
  let hop12: 'up' | 'down' = 'up'
  const { srv, clock } = await setup(t, () => ({ ...controller(state, hop12), peers: [{ ...controller(state, hop12).peers[0]!, password: 'md5-secret' }] }))
  const s = await openEvents(srv.port)
  t.equal(s.res.statusCode, 200)
  t.equal(s.res.headers['content-type'], 'text/event-stream; charset=utf-8')
  t.equal(s.res.headers['content-security-policy'], CONTENT_SECURITY_POLICY)
  await until(() => s.updates.length === 1, 'the first update')
  t.match(s.raw, /^retry: 2000\n\n/, 'the reconnect delay first')
  t.equal(s.updates[0]!.status?.peers?.[0]?.state, 'Active')
  t.same(s.updates[0]!.events.map((e) => e.kind), ['vip-announced', 'nexthop-announced', 'nexthop-announced'], 'what was up at the first sample')

  state = 'Established'
  await clock.advance(1000)
  await until(() => s.updates.length === 2, 'the second update')
  t.equal(s.updates[1]!.status?.peers?.[0]?.state, 'Established')
  t.same(s.updates[1]!.events.map((e) => e.kind).slice(3), ['session-up'])

  hop12 = 'down'
  await clock.advance(1000)
  await until(() => s.updates.length === 3, 'the third update')
  const u = s.updates[2]!
  t.match(u.status?.vips?.[0]?.nextHops[1], { address: '192.0.2.12', health: 'down', announced: false, lastError: 'exec check: exit 1' })
  t.same(u.events.slice(4).map((e) => `${e.kind} ${e.subject}`), ['health-down 203.0.113.10 via 192.0.2.12', 'nexthop-withdrawn 203.0.113.10 via 192.0.2.12'])
  t.notMatch(s.raw, /md5-secret|password/, 'secrets never leave the process')

  const late = await openEvents(srv.port)
  await until(() => late.updates.length === 1, 'a late watcher\'s first update')
  t.same(late.updates[0], u, 'a late watcher starts with the latest update, events included')
  s.close()
  late.close()
})

t.test('at most 16 streams at once; close() ends the open ones and stops sampling', async (t) => {
  let reads = 0
  const { srv, clock } = await setup(t, () => { reads++; return controller('Established', 'up') })
  const streams: Stream[] = []
  for (let i = 0; i < 16; i++) streams.push(await openEvents(srv.port))
  await until(() => streams.every((s) => s.updates.length === 1), 'every stream\'s first update')
  const extra = await get(srv.port, '/events')
  t.same([extra.status, extra.headers['retry-after']], [503, '5'], 'the 17th: 503')
  t.equal((await get(srv.port, '/events', { method: 'HEAD' })).status, 503, 'HEAD says so too')
  streams.pop()!.close()
  for (let i = 0; i < 500 && (await get(srv.port, '/events', { method: 'HEAD' })).status !== 200; i++) await new Promise((r) => setTimeout(r, 10))
  const again = await openEvents(srv.port)
  await until(() => again.updates.length === 1, 'a stream after one closed')
  t.equal(again.res.statusCode, 200, 'a closed stream frees its place')
  streams.push(again)
  const before = reads
  await srv.close()
  await Promise.all(streams.map((s) => s.ended))
  t.pass('every stream ended')
  await clock.advance(5000)
  t.equal(reads, before, 'no sample after close')
  t.equal(clock.pending, 0)
})
