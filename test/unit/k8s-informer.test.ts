// internal/k8s against the fake kube-apiserver on 127.0.0.1: client-node's informer wrapped by
// ResilientInformer (chunked lists, restart after errors with back-off, re-list after 410 Gone
// from a watch event, an HTTP 410 or an expired continue token), and the Kubernetes VIP source
// (debounced full sets, nothing before sync, status).
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node'
import { FakeApiServer, writeKubeconfig } from '../fake-apiserver/index.ts'
import { ResilientInformer, apiClients, loadKubeConfig, createKubernetesVipSource, type ListPage, type InformerStatus } from '../../internal/k8s/index.ts'
import { realClock } from '../../internal/base/index.ts'
import { ManualClock } from '../lib/clock.ts'
import { isPorterError } from '../../internal/errors/index.ts'

const SVC = '/api/v1/namespaces/default/services'
const EPS = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices'
const MERGE = 'application/merge-patch+json'
const quiet = { info() {}, warn() {}, debug() {}, error() {} }
// Porter's timers (realClock) do not keep a process alive (in the daemon the admin socket does):
// hold this one open while a test waits on them alone, e.g. waitSynced against a closed server
const keepAlive = setInterval(() => {}, 60_000)
t.teardown(() => clearInterval(keepAlive))

async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function env(t: { teardown(fn: () => unknown): void }, opts: ConstructorParameters<typeof FakeApiServer>[0] = {}, token?: string) {
  const srv = new FakeApiServer(opts)
  const url = await srv.listen(0)
  const dir = mkdtempSync(join(tmpdir(), 'porter-k8s-'))
  const kubeconfig = writeKubeconfig(join(dir, 'kubeconfig'), url, token !== undefined ? { token } : {})
  t.teardown(async () => { await srv.close(); rmSync(dir, { recursive: true, force: true }) })
  const clients = apiClients(loadKubeConfig({ inCluster: false, kubeconfig }))
  return { srv, url, dir, kubeconfig, clients }
}

const svc = (name: string, ip?: string, policy: 'Local' | 'Cluster' = 'Cluster') => ({
  metadata: { name, annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb' } }, spec: { type: 'LoadBalancer', externalTrafficPolicy: policy, ports: [{ port: 80 }] },
  ...(ip ? { status: { loadBalancer: { ingress: [{ ip }] } } } : {}),
})
async function lbService(srv: FakeApiServer, name: string, ip: string, policy: 'Local' | 'Cluster' = 'Cluster', node = 'node-a', ready = true): Promise<void> {
  await srv.request('POST', SVC, svc(name, undefined, policy))
  await srv.request('PATCH', `${SVC}/${name}/status`, { status: { loadBalancer: { ingress: [{ ip }] } } }, MERGE)
  await srv.request('POST', EPS, { metadata: { name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', endpoints: [{ addresses: ['198.51.100.7'], nodeName: node, conditions: { ready } }] })
}

function informer(e: Awaited<ReturnType<typeof env>>, opts: { chunkSize?: number; listPage?: (limit: number, cont?: string) => Promise<ListPage<KubernetesObject>> } = {}) {
  let changes = 0
  const inf = new ResilientInformer<KubernetesObject>({
    name: 'services', path: '/api/v1/services', kubeConfig: e.clients.kubeConfig, clock: realClock, log: quiet,
    listPage: opts.listPage ?? ((limit, cont) => e.clients.core.listServiceForAllNamespaces({ limit, ...(cont ? { _continue: cont } : {}) }) as Promise<ListPage<KubernetesObject>>),
    onChange: () => { changes++ },
    chunkSize: opts.chunkSize ?? 2,
    backoff: { initialMs: 50, maxMs: 400 },
  })
  return { inf, changes: () => changes }
}

const names = (inf: ResilientInformer<KubernetesObject>) => inf.list().map((o) => o.metadata!.name).sort()

t.test('chunked list, then watch from its resourceVersion', async (t) => {
  const e = await env(t)
  for (const n of ['a', 'b', 'c', 'd', 'e']) await e.srv.request('POST', SVC, svc(n))
  const { inf, changes } = informer(e)
  t.teardown(() => inf.stop())
  inf.start()
  await until(() => inf.status().synced && inf.list().length === 5, 'synced')
  const lists = e.srv.log.filter((l) => !l.watch && l.path === '/api/v1/services')
  t.same(lists.map((l) => [l.query.limit, !!l.query.continue]), [['2', false], ['2', true], ['2', true]], 'three pages of two')
  const w = await until(() => e.srv.log.find((l) => l.watch), 'a watch')
  t.equal(w.query.resourceVersion, String(e.srv.store.rev), 'watching from the list\'s resourceVersion')
  await e.srv.request('POST', SVC, svc('f'))
  await e.srv.request('DELETE', `${SVC}/a`)
  await until(() => names(inf).join() === 'b,c,d,e,f', 'the watch events in the cache')
  t.ok(changes() >= 7, `onChange after every change (${changes()})`)
  t.match(inf.status(), { connected: true, synced: true, lists: 1, restarts: 0, failures: 0, objects: 5 })
})

t.test('an expired continue token restarts the list from the beginning', async (t) => {
  const e = await env(t)
  for (const n of ['a', 'b', 'c']) await e.srv.request('POST', SVC, svc(n))
  let pages = 0
  const { inf } = informer(e, {
    listPage: async (limit, cont) => {
      const page = await e.clients.core.listServiceForAllNamespaces({ limit, ...(cont ? { _continue: cont } : {}) }) as ListPage<KubernetesObject>
      if (++pages === 1) {
        // between the first and second page: a write, then compaction past the token's revision
        await e.srv.request('POST', SVC, svc('late'))
        e.srv.compact()
      }
      return page
    },
  })
  t.teardown(() => inf.stop())
  inf.start()
  await until(() => inf.status().synced, 'synced')
  t.same(names(inf), ['a', 'b', 'c', 'late'], 'a consistent list that includes the late write')
  t.ok(e.srv.log.some((l) => l.status === 410 && l.query.continue), 'the server answered 410 to the old token')
  t.equal(inf.status().expired, 1)
})

t.test('the API server goes away and comes back: restarts with back-off, no events lost', async (t) => {
  const e = await env(t)
  await e.srv.request('POST', SVC, svc('a'))
  const { inf } = informer(e)
  t.teardown(() => inf.stop())
  inf.start()
  await until(() => e.srv.openWatches === 1, 'watching')
  const port = Number(new URL(e.url).port)
  await e.srv.close()
  const down = await until(() => { const s = inf.status(); return s.failures >= 3 ? s : undefined }, 'failures')
  t.equal(down.connected, false)
  t.match(down.lastError?.message, /ECONNREFUSED|other side closed|fetch failed/, `last error: ${down.lastError?.message}`)
  t.ok(Math.abs(down.lastError!.at - Date.now()) < 60_000, 'lastError.at is wall time (ms since the epoch)')
  // a write while it is down is delivered after the reconnect (history kept: no re-list needed)
  await e.srv.request('POST', SVC, svc('b'))
  await e.srv.listen(port)
  await until(() => names(inf).join() === 'a,b', 'the write made while down')
  const up = inf.status()
  t.match(up, { connected: true, failures: 0, lists: 1 })
  t.ok(up.restarts >= 2, `restarted ${up.restarts} times`)
})

t.test('410 Gone: an ERROR event, then an HTTP 410, each followed by a re-list that converges', async (t) => {
  const e = await env(t)
  await e.srv.request('POST', SVC, svc('a'))
  await e.srv.request('POST', SVC, svc('b'))
  const { inf } = informer(e)
  t.teardown(() => inf.stop())
  inf.start()
  await until(() => e.srv.openWatches === 1 && inf.list().length === 2, 'watching')
  e.srv.stallWatches(true)
  await e.srv.request('DELETE', `${SVC}/a`)
  await e.srv.request('POST', SVC, svc('c'))
  t.same(names(inf), ['a', 'b'], 'stalled: the cache has not seen the changes')
  t.equal(e.srv.expireWatches(), 1)
  await until(() => names(inf).join() === 'b,c', 're-listed after the ERROR event')
  let s: InformerStatus = inf.status()
  t.match(s, { expired: 1, lists: 2, connected: true })
  t.ok(e.srv.log.some((l) => l.watch && l.status === 200) && s.restarts === 0, 'no restart needed: client-node re-lists by itself')

  await until(() => e.srv.openWatches === 1, 'watching again')
  e.srv.expiredWatch = 'status'
  e.srv.stallWatches(true)
  await e.srv.request('DELETE', `${SVC}/b`)
  e.srv.expireWatches()
  await until(() => names(inf).join() === 'c', 're-listed after the HTTP 410')
  s = inf.status()
  t.match(s, { expired: 2, lists: 3 })
})

t.test('stop() ends the watch and nothing restarts', async (t) => {
  const e = await env(t)
  const { inf } = informer(e)
  inf.start()
  await until(() => e.srv.openWatches === 1, 'watching')
  await inf.stop()
  await until(() => e.srv.openWatches === 0, 'the watch closed')
  const n = e.srv.log.length
  await new Promise((r) => setTimeout(r, 300))
  t.equal(e.srv.log.length, n, 'no request after stop')
  t.equal(inf.status().failures, 0, 'the abort is not an error')
})

t.test('stop() during the list or the watch request opens no watch (client-node keeps the watch only once it answered)', async (t) => {
  const e = await env(t)
  let release!: () => void
  const gate = new Promise<void>((r) => { release = r })
  let listing = false
  const { inf } = informer(e, {
    listPage: async (limit, cont) => {
      listing = true
      await gate
      return e.clients.core.listServiceForAllNamespaces({ limit, ...(cont ? { _continue: cont } : {}) }) as Promise<ListPage<KubernetesObject>>
    },
  })
  inf.start()
  await until(() => listing, 'the list began')
  const stopped = inf.stop()
  release()
  await stopped
  await new Promise((r) => setTimeout(r, 300))
  t.equal(e.srv.log.filter((l) => l.watch).length, 0, 'no watch request after stop')
  t.equal(e.srv.openWatches, 0, 'no watch open')

  // stop() right after the server accepted the watch, before client-node stored its controller
  const { inf: inf2 } = informer(e)
  inf2.start()
  await until(() => e.srv.openWatches === 1, 'watching')
  await inf2.stop()
  await until(() => e.srv.openWatches === 0, 'the watch closed')
})

t.test('VIP source: nothing before sync, full debounced sets, only on change', async (t) => {
  const e = await env(t)
  await lbService(e.srv, 'local-here', '203.0.113.1', 'Local', 'node-a')
  await lbService(e.srv, 'local-elsewhere', '203.0.113.2', 'Local', 'node-b')
  await lbService(e.srv, 'cluster', '2001:db8:5::3', 'Cluster', 'node-b')
  const sets: string[][] = []
  const src = createKubernetesVipSource({
    config: { enabled: true, inCluster: false, kubeconfig: e.kubeconfig, nodeName: 'node-a' }, log: quiet,
    onChange: (v) => sets.push(v), debounceMs: 100, chunkSize: 2,
  })
  t.teardown(() => src.stop())
  t.equal(src.vips(), undefined, 'nothing before start')
  src.start()
  t.equal(await src.waitSynced(10_000), true)
  t.same(sets, [['203.0.113.1', '2001:db8:5::3']], 'the first full set, once')
  t.match(src.status(), { nodeName: 'node-a', connected: true, synced: true, services: 3, announced: 2, reasons: { noLocalEndpoints: 1 }, endpointSlices: 3 })

  // a burst of ten Services: merged into few full sets
  for (let i = 10; i < 20; i++) await lbService(e.srv, `burst-${i}`, `203.0.113.${i}`)
  await until(() => sets.at(-1)!.length === 12, 'the burst')
  t.ok(sets.length <= 4, `the burst was debounced into ${sets.length - 1} update(s)`)
  t.same(sets.at(-1), ['203.0.113.1', ...Array.from({ length: 10 }, (_, i) => `203.0.113.${10 + i}`), '2001:db8:5::3'], 'always the full set')
  const n = sets.length
  await e.srv.request('PATCH', `${SVC}/cluster`, { metadata: { labels: { unrelated: 'change' } } }, MERGE)
  await new Promise((r) => setTimeout(r, 300))
  t.equal(sets.length, n, 'a change that does not move a VIP reports nothing')
  await e.srv.request('PATCH', `${EPS}/local-here-1`, { endpoints: [{ addresses: ['198.51.100.7'], nodeName: 'node-a', conditions: { ready: false } }] }, MERGE)
  await until(() => sets.length === n + 1, 'the not-ready endpoint')
  t.notOk(sets.at(-1)!.includes('203.0.113.1'), 'withdrawn')
})

t.test('VIP source: an unreachable API server is reported, never synced', async (t) => {
  const e = await env(t)
  await e.srv.close()
  const src = createKubernetesVipSource({
    config: { enabled: true, inCluster: false, kubeconfig: e.kubeconfig, nodeName: 'n' }, log: quiet,
    onChange: () => t.fail('no VIPs without a sync'), backoff: { initialMs: 50, maxMs: 100 },
  })
  t.teardown(() => src.stop())
  src.start()
  t.equal(await src.waitSynced(500), false)
  const s = src.status()
  t.match(s, { connected: false, synced: false, vips: [] })
  t.match(s.lastError?.message, /ECONNREFUSED/)
  t.ok(Math.abs(Date.parse(s.lastError!.at) - Date.now()) < 60_000, `lastError.at is the wall time of the error: ${s.lastError!.at}`)
})

t.test('bearer token from the kubeconfig reaches the API server', async (t) => {
  const e = await env(t, { token: 's3cret' }, 's3cret')
  await e.srv.request('POST', SVC, svc('a'))
  const { inf } = informer(e)
  t.teardown(() => inf.stop())
  inf.start()
  await until(() => inf.status().synced, 'synced with the token')
  t.same(names(inf), ['a'])
  const bad = await env(t, { token: 'other' }, 'wrong')
  const { inf: inf2 } = informer(bad)
  t.teardown(() => inf2.stop())
  inf2.start()
  const s = await until(() => { const x = inf2.status(); return x.lastError ? x : undefined }, 'an error')
  t.equal(s.lastError?.status, 401, '401 Unauthorized with a wrong token')
})

t.test('kubeconfig errors are PORTER_ERR_CONFIG_READ', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'porter-k8s-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const missing = join(dir, 'nope')
  try {
    loadKubeConfig({ inCluster: false, kubeconfig: missing })
    t.fail('should throw')
  } catch (err) {
    t.ok(isPorterError(err) && err.code === 'PORTER_ERR_CONFIG_READ', 'a PorterError')
    t.match((err as Error).message, `Cannot load the kubeconfig "${missing}"`)
  }
  const empty = join(dir, 'empty')
  writeFileSync(empty, 'apiVersion: v1\nkind: Config\n')
  t.throws(() => loadKubeConfig({ inCluster: false, kubeconfig: empty }), { code: 'PORTER_ERR_CONFIG_READ', message: /no current cluster/ })
  const saved = { h: process.env.KUBERNETES_SERVICE_HOST, p: process.env.KUBERNETES_SERVICE_PORT }
  delete process.env.KUBERNETES_SERVICE_HOST
  delete process.env.KUBERNETES_SERVICE_PORT
  t.teardown(() => { if (saved.h !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved.h; if (saved.p !== undefined) process.env.KUBERNETES_SERVICE_PORT = saved.p })
  t.throws(() => loadKubeConfig({ inCluster: true }), { code: 'PORTER_ERR_CONFIG_READ', message: /not running in a pod/ })
})

t.test('restart back-off runs on the injected clock: it doubles up to the cap; status times are wall time', async (t) => {
  const clock = new ManualClock()
  const kubeConfig = new KubeConfig()
  kubeConfig.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' })
  const lists: number[] = []
  const inf = new ResilientInformer<KubernetesObject>({
    name: 'services', path: '/api/v1/services', kubeConfig, clock, log: quiet, onChange: () => {},
    listPage: async () => { lists.push(clock.now()); throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) },
    backoff: { initialMs: 50, maxMs: 400 },
  })
  t.teardown(() => inf.stop())
  inf.start()
  await clock.advance(2000)
  const gaps = lists.slice(1).map((x, i) => x - lists[i]!)
  t.same(gaps.slice(0, 6), [50, 100, 200, 400, 400, 400], `gaps between list attempts: ${gaps.join(', ')}`)
  const s = inf.status()
  t.match(s, { connected: false, synced: false })
  t.equal(s.failures, lists.length, 'one failure per attempt')
  t.equal(s.lastError?.at, clock.wallNow() - (clock.now() - lists.at(-1)!), 'lastError.at is the wall time of the last failure')
})
