// The fake kube-apiserver (test/fake-apiserver) kept honest: the real kubectl (/usr/bin/kubectl)
// drives it over HTTP on 127.0.0.1 (apply, get -o json, patch --type=merge, patch of the status
// subresource, delete, get --watch), and the wire protocol is checked request by request (list
// chunking with consistent snapshots, watch replay / bookmarks / 410 Gone, create / update /
// status / patch / delete semantics and their Status errors). Plus the patch formats (pure).
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { FakeApiServer, writeKubeconfig, mergePatch, strategicMergePatch, jsonPatch, services as serviceDef, type Json } from '../fake-apiserver/index.ts'

const KUBECTL = '/usr/bin/kubectl'
const SVC = '/api/v1/namespaces/default/services'
const EPS = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices'
type Obj = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

interface Env { srv: FakeApiServer; url: string; kc: string; dir: string }

async function serve(t: { teardown(fn: () => unknown): void }, opts: ConstructorParameters<typeof FakeApiServer>[0] = {}): Promise<Env> {
  const srv = new FakeApiServer(opts)
  const url = await srv.listen(0, '127.0.0.1')
  const dir = mkdtempSync(join(tmpdir(), 'porter-fakeapi-'))
  const kc = writeKubeconfig(join(dir, 'kubeconfig'), url)
  t.teardown(async () => { await srv.close(); rmSync(dir, { recursive: true, force: true }) })
  return { srv, url, kc, dir }
}

function kubectl(e: Env, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(KUBECTL, ['--kubeconfig', e.kc, '--cache-dir', join(e.dir, 'cache'), ...args], { timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr })
    })
    if (input !== undefined) child.stdin!.end(input)
  })
}

/** A raw HTTP request: status, headers, parsed JSON body. */
function http(e: Env, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Obj }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, e.url)
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
    const req = httpRequest(u, { method, headers: { 'Content-Type': contentType, ...(data ? { 'Content-Length': Buffer.byteLength(data) } : {}) } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => {
        let parsed: Obj
        try { parsed = JSON.parse(text) } catch { parsed = { text } }
        resolve({ status: res.statusCode!, headers: res.headers, body: parsed })
      })
    })
    req.on('error', reject)
    req.end(data)
  })
}

/** An open watch: its response headers and events as they arrive. */
async function watch(e: Env, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; events: Obj[]; ended: Promise<void>; next(n: number, timeoutMs?: number): Promise<Obj[]>; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, e.url), { method: 'GET' }, (res) => {
      const events: Obj[] = []
      const waiters: (() => void)[] = []
      const ended = new Promise<void>((r) => res.on('close', () => r()))
      res.on('error', () => { /* aborted by close(): ended resolves */ })
      if (res.statusCode === 200) {
        const rl = createInterface({ input: res })
        rl.on('error', () => { /* as above */ })
        rl.on('line', (l) => { if (l.trim()) { events.push(JSON.parse(l)); for (const w of waiters.splice(0)) w() } })
      } else {
        let text = ''
        res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => events.push(JSON.parse(text)))
      }
      resolve({
        status: res.statusCode!, headers: res.headers, events, ended,
        async next(n, timeoutMs = 5000) {
          const deadline = Date.now() + timeoutMs
          while (events.length < n) {
            if (Date.now() > deadline) throw new Error(`only ${events.length} of ${n} watch events: ${JSON.stringify(events)}`)
            await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 50) })
          }
          return events.slice(0, n)
        },
        close: () => req.destroy(),
      })
    })
    req.on('error', (err) => { if (!(err as { code?: string }).code?.includes('ECONNRESET')) reject(err) })
    req.end()
  })
}

const svc = (name: string, extra: Obj = {}) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, ...(extra.metadata ?? {}) }, spec: { ports: [{ name: 'http', port: 80 }], ...(extra.spec ?? {}) } })

const SERVICE_YAML = `apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 8080
`
const SLICE_YAML = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
endpoints:
- addresses: [198.51.100.7]
  conditions: {ready: true}
  nodeName: node-a
ports:
- name: http
  port: 8080
`

// ---------------------------------------------------------------- kubectl

t.test('kubectl: version and discovery', async (t) => {
  t.ok(existsSync(KUBECTL), `kubectl is installed at ${KUBECTL} (the kubectl tests need it)`)
  const e = await serve(t)
  const v = await kubectl(e, ['version', '-o', 'json'])
  t.equal(v.code, 0, v.stderr)
  t.equal(JSON.parse(v.stdout).serverVersion.gitVersion, 'v1.32.0-porter-fake')
  const r = await kubectl(e, ['api-resources', '--no-headers'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^services\s+svc\s+v1\s+true\s+Service$/m, 'services with its short name')
  t.match(r.stdout, /^endpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice$/m, 'endpointslices')
})

t.test('kubectl apply -f: create, unchanged, configure (strategic merge), strict field validation', async (t) => {
  const e = await serve(t)
  let r = await kubectl(e, ['apply', '-f', '-'], SERVICE_YAML)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.trim(), 'service/web created')
  r = await kubectl(e, ['apply', '-f', '-'], SLICE_YAML)
  t.equal(r.stdout.trim(), 'endpointslice.discovery.k8s.io/web-abc created', r.stderr)
  t.ok(e.srv.log.some((l) => l.method === 'POST' && l.query.fieldValidation === 'Strict'), 'kubectl asked for server-side strict validation (found it in /openapi/v3)')

  const got = await kubectl(e, ['get', 'service', 'web', '-o', 'json'])
  t.equal(got.code, 0, got.stderr)
  const o = JSON.parse(got.stdout)
  t.match(o, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', generation: 1, labels: { app: 'web' } },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', sessionAffinity: 'None', clusterIP: /^192\.0\.2\.\d+$/, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: Number }], healthCheckNodePort: Number },
    status: { loadBalancer: {} },
  }, 'the server defaulted the Service')
  t.match(o.metadata.resourceVersion, /^\d+$/)
  t.match(o.metadata.uid, /^[0-9a-f-]{36}$/)
  t.ok(o.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], 'kubectl kept its last-applied annotation')

  r = await kubectl(e, ['apply', '-f', '-'], SERVICE_YAML)
  t.equal(r.stdout.trim(), 'service/web unchanged', r.stderr)

  const before = e.srv.log.length
  r = await kubectl(e, ['apply', '-f', '-'], SERVICE_YAML.replace('port: 80', 'port: 81').replace('{app: web}\nspec', '{app: web, tier: front}\nspec'))
  t.equal(r.stdout.trim(), 'service/web configured', r.stderr)
  t.equal(r.stderr, '', 'no warnings (kubectl found the patch metadata)')
  const patchReq = e.srv.log.slice(before).find((l) => l.method === 'PATCH')
  t.ok(patchReq, 'apply patched')
  const after = (await e.srv.request('GET', `${SVC}/web`)).body as Obj
  t.same(after.spec.ports.map((p: Obj) => p.port), [81], 'port 80 replaced by 81 (merged on the port key, old one deleted)')
  t.same(after.metadata.labels, { app: 'web', tier: 'front' })
  t.equal(after.metadata.generation, 2, 'generation bumped by the spec change')

  r = await kubectl(e, ['apply', '-f', '-'], SERVICE_YAML.replace('  type: LoadBalancer', '  type: LoadBalancer\n  bogusField: 1'))
  t.not(r.code, 0, 'an unknown field is refused')
  t.match(r.stderr, /unknown field "spec\.bogusField"/)
  r = await kubectl(e, ['apply', '-f', '-'], SERVICE_YAML.replace('port: 80', 'port: 70000'))
  t.not(r.code, 0, 'an invalid port is refused')
  t.match(r.stderr, /Service "web" is invalid: spec\.ports\[0\]\.port: Invalid value: 70000/)
})

t.test('kubectl patch: --type=merge, the status subresource, strategic merge, a stale resourceVersion', async (t) => {
  const e = await serve(t)
  await kubectl(e, ['apply', '-f', '-'], SERVICE_YAML)
  let r = await kubectl(e, ['patch', 'svc', 'web', '--subresource=status', '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.50"}]}}}'])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.trim(), 'service/web patched')
  let o = (await e.srv.request('GET', `${SVC}/web`)).body as Obj
  t.same(o.status, { loadBalancer: { ingress: [{ ip: '203.0.113.50' }] } }, 'status set through the subresource')

  r = await kubectl(e, ['patch', 'svc', 'web', '--type=merge', '-p', '{"spec":{"externalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}}'])
  t.equal(r.code, 0, r.stderr)
  o = (await e.srv.request('GET', `${SVC}/web`)).body as Obj
  t.equal(o.spec.externalTrafficPolicy, 'Cluster', 'spec changed')
  t.equal(o.spec.healthCheckNodePort, undefined, 'healthCheckNodePort released with policy Cluster')
  t.same(o.status.loadBalancer.ingress, [{ ip: '203.0.113.50' }], 'the main resource cannot change status')

  r = await kubectl(e, ['patch', 'svc', 'web', '--subresource=status', '--type=merge', '-p', '{"spec":{"type":"ClusterIP"}}'])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.trim(), 'service/web patched (no change)', 'the status subresource cannot change spec')

  r = await kubectl(e, ['patch', 'svc', 'web', '-p', '{"spec":{"ports":[{"port":80,"name":"http","targetPort":9090}]}}'])
  t.equal(r.code, 0, r.stderr)
  o = (await e.srv.request('GET', `${SVC}/web`)).body as Obj
  t.same(o.spec.ports.map((p: Obj) => [p.port, p.targetPort, p.nodePort > 0]), [[80, 9090, true]], 'strategic merge (default patch type) merged the port by its key and kept its nodePort')

  r = await kubectl(e, ['patch', 'svc', 'web', '--type=merge', '-p', '{"metadata":{"resourceVersion":"1"},"spec":{"sessionAffinity":"ClientIP"}}'])
  t.not(r.code, 0)
  t.match(r.stderr, /Operation cannot be fulfilled on services "web": the object has been modified/, 'a stale resourceVersion in a patch is a conflict')

  r = await kubectl(e, ['patch', 'svc', 'web', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/x","value":"y"}]'])
  t.equal(r.code, 0, r.stderr)
  t.equal(((await e.srv.request('GET', `${SVC}/web`)).body as Obj).metadata.labels.x, 'y', 'JSON patch')
})

t.test('kubectl delete and get of a missing object', async (t) => {
  const e = await serve(t)
  await kubectl(e, ['apply', '-f', '-'], SERVICE_YAML)
  let r = await kubectl(e, ['delete', 'service', 'web'])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.trim(), 'service "web" deleted')
  r = await kubectl(e, ['get', 'service', 'web'])
  t.not(r.code, 0)
  t.match(r.stderr, /Error from server \(NotFound\): services "web" not found/)
  r = await kubectl(e, ['delete', 'service', 'web'])
  t.match(r.stderr, /NotFound/)
  r = await kubectl(e, ['get', 'services', '-o', 'json'])
  t.same(JSON.parse(r.stdout).items, [], 'empty list')
})

t.test('kubectl get --watch sees ADDED, MODIFIED and DELETED', async (t) => {
  const e = await serve(t)
  await e.srv.request('POST', SVC, svc('before'))
  const child = spawn(KUBECTL, ['--kubeconfig', e.kc, '--cache-dir', join(e.dir, 'cache'), 'get', 'services', '--watch', '--output-watch-events', '-o', 'jsonpath={.type} {.object.metadata.name}{"\\n"}'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  const lines: string[] = []
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l.trim()))
  const until = async (n: number) => {
    const deadline = Date.now() + 15_000
    while (lines.length < n) {
      if (Date.now() > deadline) throw new Error(`kubectl printed ${JSON.stringify(lines)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  await until(1)
  t.same(lines, ['ADDED before'], 'the list, as ADDED')
  await e.srv.request('POST', SVC, svc('w1'))
  await e.srv.request('PATCH', `${SVC}/w1`, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json')
  await e.srv.request('DELETE', `${SVC}/w1`)
  await until(4)
  t.same(lines, ['ADDED before', 'ADDED w1', 'MODIFIED w1', 'DELETED w1'])
  const w = e.srv.log.find((l) => l.watch)
  t.ok(w && /^\d+$/.test(w.query.resourceVersion ?? ''), 'kubectl watched from the list\'s resourceVersion')
})

// ---------------------------------------------------------------- wire protocol

t.test('create, get, conflicts and Status errors', async (t) => {
  const e = await serve(t)
  const c = await http(e, 'POST', SVC, svc('a'))
  t.equal(c.status, 201)
  t.equal(c.headers['content-type'], 'application/json')
  const again = await http(e, 'POST', SVC, svc('a'))
  t.equal(again.status, 409)
  t.same(again.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'services "a" already exists', reason: 'AlreadyExists', details: { name: 'a', kind: 'services' }, code: 409 })
  const nf = await http(e, 'GET', `${EPS}/nope`)
  t.same(nf.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'endpointslices.discovery.k8s.io "nope" not found', reason: 'NotFound', details: { name: 'nope', group: 'discovery.k8s.io', kind: 'endpointslices' }, code: 404 })
  t.equal((await http(e, 'POST', SVC, { ...svc('b'), metadata: { name: 'b', namespace: 'other' } })).status, 400, 'namespace mismatch')
  t.equal((await http(e, 'POST', SVC, svc('Bad_Name'))).body.reason, 'Invalid')
  t.equal((await http(e, 'POST', SVC, '{not json')).status, 400)
  t.equal((await http(e, 'POST', '/api/v1/services', svc('x'))).status, 405, 'no create across namespaces')
  t.equal((await http(e, 'GET', '/api/v1/namespaces/default/pods')).status, 404, 'unknown resource')
  const gen = await http(e, 'POST', SVC, { metadata: { generateName: 'gen-' }, spec: { ports: [{ port: 1 }] } })
  t.match(gen.body.metadata.name, /^gen-[a-z0-9]{5}$/, 'generateName')
  const dry = await http(e, 'POST', `${SVC}?dryRun=All`, svc('dry'))
  t.equal(dry.status, 201)
  t.equal((await http(e, 'GET', `${SVC}/dry`)).status, 404, 'dryRun stores nothing')

  const cur = (await http(e, 'GET', `${SVC}/a`)).body
  const put = await http(e, 'PUT', `${SVC}/a`, { ...cur, metadata: { ...cur.metadata, resourceVersion: '1' }, spec: { ...cur.spec, sessionAffinity: 'ClientIP' } })
  t.equal(put.status, 409, 'update with a stale resourceVersion')
  t.equal(put.body.message, 'Operation cannot be fulfilled on services "a": the object has been modified; please apply your changes to the latest version and try again')
  const ok = await http(e, 'PUT', `${SVC}/a`, { ...cur, spec: { ...cur.spec, sessionAffinity: 'ClientIP' }, status: { loadBalancer: { ingress: [{ ip: '203.0.113.1' }] } } })
  t.equal(ok.status, 200)
  t.ok(Number(ok.body.metadata.resourceVersion) > Number(cur.metadata.resourceVersion), 'resourceVersion moved on')
  t.same(ok.body.status, { loadBalancer: {} }, 'a main-resource update keeps the old status')
  const noop = await http(e, 'PUT', `${SVC}/a`, ok.body)
  t.equal(noop.body.metadata.resourceVersion, ok.body.metadata.resourceVersion, 'an update that changes nothing is no write')
  const st = await http(e, 'PUT', `${SVC}/a/status`, { ...ok.body, spec: { ...ok.body.spec, type: 'NodePort' }, status: { loadBalancer: { ingress: [{ ip: '203.0.113.1' }] } } })
  t.equal(st.status, 200)
  t.equal(st.body.spec.type, 'ClusterIP', 'a status update keeps the spec')
  t.same(st.body.status.loadBalancer.ingress, [{ ip: '203.0.113.1' }])
  const badIp = await http(e, 'PUT', `${SVC}/a/status`, { ...st.body, status: { loadBalancer: { ingress: [{ ip: '203.0.113.300' }] } } })
  t.equal(badIp.status, 422, 'status is validated')
  t.equal((await http(e, 'PATCH', `${SVC}/a`, 'x: 1', 'application/apply-patch+yaml')).status, 415, 'server-side apply is not served')
  t.equal((await http(e, 'GET', `${SVC}?resourceVersion=99999`)).status, 504, 'a resourceVersion from the future')
})

t.test('delete: preconditions, finalizers, deletecollection', async (t) => {
  const e = await serve(t)
  const a = (await http(e, 'POST', SVC, svc('a', { metadata: { finalizers: ['example.com/hold'] } }))).body
  t.equal((await http(e, 'DELETE', `${SVC}/a`, { preconditions: { uid: 'wrong' } })).status, 409, 'uid precondition')
  const d = await http(e, 'DELETE', `${SVC}/a`)
  t.equal(d.status, 200)
  t.match(d.body.metadata, { deletionTimestamp: String, finalizers: ['example.com/hold'] }, 'a finalizer keeps it: marked for deletion')
  t.equal((await http(e, 'GET', `${SVC}/a`)).status, 200, 'still there')
  await http(e, 'PATCH', `${SVC}/a`, { metadata: { finalizers: null } }, 'application/merge-patch+json')
  t.equal((await http(e, 'GET', `${SVC}/a`)).status, 404, 'gone once the last finalizer is removed')
  t.ok(a.metadata.uid)
  for (const n of ['x1', 'x2', 'y1']) await http(e, 'POST', SVC, svc(n, { metadata: { labels: { g: n[0]! } } }))
  const dc = await http(e, 'DELETE', `${SVC}?labelSelector=g%3Dx`)
  t.same(dc.body.items.map((i: Obj) => i.metadata.name), ['x1', 'x2'])
  t.same((await http(e, 'GET', SVC)).body.items.map((i: Obj) => i.metadata.name), ['y1'])
  const gone = await http(e, 'DELETE', `${SVC}/y1`)
  t.match(gone.body, { kind: 'Status', status: 'Success', details: { name: 'y1', kind: 'services', uid: String } })
})

t.test('list: limit/continue over a consistent snapshot, selectors, 410 for an expired token', async (t) => {
  const e = await serve(t)
  for (const n of ['a', 'b', 'c', 'd', 'e']) await http(e, 'POST', SVC, svc(n, { metadata: { labels: { tier: n < 'c' ? 'front' : 'back' } } }))
  await http(e, 'POST', '/api/v1/namespaces/other/services', svc('z'))
  const p1 = (await http(e, 'GET', `${SVC}?limit=2`)).body
  t.equal(p1.kind, 'ServiceList')
  t.same(p1.items.map((i: Obj) => i.metadata.name), ['a', 'b'])
  t.equal(p1.items[0].kind, undefined, 'list items carry no kind')
  t.equal(p1.metadata.remainingItemCount, 3)
  t.ok(p1.metadata.continue, 'a continue token')
  t.same(JSON.parse(Buffer.from(p1.metadata.continue, 'base64').toString()), { v: 'meta.k8s.io/v1', rv: Number(p1.metadata.resourceVersion), start: 'default/b\u0000' }, 'the token is kube-apiserver\'s format')
  // a write between pages is not in the snapshot
  await http(e, 'DELETE', `${SVC}/c`)
  await http(e, 'POST', SVC, svc('bb'))
  const p2 = (await http(e, 'GET', `${SVC}?limit=2&continue=${encodeURIComponent(p1.metadata.continue)}`)).body
  t.same(p2.items.map((i: Obj) => i.metadata.name), ['c', 'd'], 'page 2 from the snapshot (c deleted since, bb created since)')
  t.equal(p2.metadata.resourceVersion, p1.metadata.resourceVersion, 'same resourceVersion on every page')
  const p3 = (await http(e, 'GET', `${SVC}?limit=2&continue=${encodeURIComponent(p2.metadata.continue)}`)).body
  t.same(p3.items.map((i: Obj) => i.metadata.name), ['e'])
  t.equal(p3.metadata.continue, undefined, 'last page')
  t.same((await http(e, 'GET', '/api/v1/services?limit=500')).body.items.map((i: Obj) => `${i.metadata.namespace}/${i.metadata.name}`), ['default/a', 'default/b', 'default/bb', 'default/d', 'default/e', 'other/z'], 'all namespaces, sorted')
  t.same((await http(e, 'GET', `${SVC}?labelSelector=${encodeURIComponent('tier in (front)')}`)).body.items.map((i: Obj) => i.metadata.name), ['a', 'b'])
  t.same((await http(e, 'GET', `${SVC}?labelSelector=!tier`)).body.items.map((i: Obj) => i.metadata.name), ['bb'])
  t.same((await http(e, 'GET', `/api/v1/services?fieldSelector=metadata.namespace%3Dother`)).body.items.map((i: Obj) => i.metadata.name), ['z'])
  t.equal((await http(e, 'GET', `${SVC}?fieldSelector=spec.bogus%3Dx`)).status, 400, 'unsupported field selector')
  t.same((await http(e, 'GET', `${SVC}?limit=1&resourceVersion=0`)).body.items.length, 5, 'resourceVersion=0 (the watch cache) ignores limit')
  const exact = await http(e, 'GET', `${SVC}?resourceVersion=${p1.metadata.resourceVersion}&resourceVersionMatch=Exact`)
  t.same(exact.body.items.map((i: Obj) => i.metadata.name), ['a', 'b', 'c', 'd', 'e'], 'an exact read of a past revision')
  const q1 = (await http(e, 'GET', `${SVC}?limit=2`)).body
  e.srv.compact()
  const expired = await http(e, 'GET', `${SVC}?limit=2&continue=${encodeURIComponent(q1.metadata.continue)}`)
  t.equal(expired.status, 200, 'a token at the compaction revision is still readable')
  await http(e, 'POST', SVC, svc('f'))
  e.srv.compact()
  const gone = await http(e, 'GET', `${SVC}?limit=2&continue=${encodeURIComponent(q1.metadata.continue)}`)
  t.equal(gone.status, 410, 'an expired continue token')
  t.equal(gone.body.reason, 'Expired')
})

t.test('watch: replay from a resourceVersion, chunked JSON lines, selector transitions', async (t) => {
  const e = await serve(t)
  const a = (await http(e, 'POST', SVC, svc('a'))).body
  const rv0 = a.metadata.resourceVersion
  await http(e, 'PATCH', `${SVC}/a`, { metadata: { labels: { x: '1' } } }, 'application/merge-patch+json')
  await http(e, 'POST', SVC, svc('b'))
  const w = await watch(e, `${SVC}?watch=true&resourceVersion=${rv0}`)
  t.teardown(() => w.close())
  t.equal(w.status, 200)
  t.equal(w.headers['transfer-encoding'], 'chunked')
  t.equal(w.headers['content-type'], 'application/json')
  const ev = await w.next(2)
  t.same(ev.map((x) => [x.type, x.object.metadata.name]), [['MODIFIED', 'a'], ['ADDED', 'b']], 'history after the resourceVersion')
  t.equal(ev[0]!.object.kind, 'Service', 'watch objects carry kind')
  await http(e, 'DELETE', `${SVC}/a`)
  const del = (await w.next(3))[2]!
  t.equal(del.type, 'DELETED')
  t.ok(Number(del.object.metadata.resourceVersion) > Number(ev[1]!.object.metadata.resourceVersion), 'the DELETED object carries the deletion revision')

  const sel = await watch(e, `${SVC}?watch=1&labelSelector=tier%3Dfront`)
  t.teardown(() => sel.close())
  await http(e, 'PATCH', `${SVC}/b`, { metadata: { labels: { tier: 'front' } } }, 'application/merge-patch+json')
  await http(e, 'PATCH', `${SVC}/b`, { metadata: { labels: { tier: 'back' } } }, 'application/merge-patch+json')
  t.same((await sel.next(2)).map((x) => [x.type, x.object.metadata.name]), [['ADDED', 'b'], ['DELETED', 'b']], 'entering and leaving the selection')

  const all = await watch(e, '/api/v1/services?watch=true')
  t.teardown(() => all.close())
  t.same((await all.next(1)).map((x) => [x.type, x.object.metadata.name]), [['ADDED', 'b']], 'no resourceVersion: synthetic ADDED for the current state')
  t.equal(e.srv.closeWatches(), 3, 'three watches open')
  await Promise.all([w.ended, sel.ended, all.ended])
  t.pass('closeWatches ends the streams')
})

t.test('watch: 410 Gone for a compacted resourceVersion (ERROR event or HTTP status), bookmarks, initial events', async (t) => {
  const e = await serve(t, { bookmarkIntervalMs: 100 })
  const a = (await http(e, 'POST', SVC, svc('a'))).body
  await http(e, 'POST', SVC, svc('b'))
  e.srv.compact()
  const old = await watch(e, `${SVC}?watch=true&resourceVersion=${a.metadata.resourceVersion}`)
  t.equal(old.status, 200, 'the watch cache answers 200 ...')
  await old.ended
  t.equal(old.events.length, 1)
  t.match(old.events[0], { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: /^too old resource version: \d+ \(\d+\)$/ } }, '... with one ERROR event, then ends')
  e.srv.expiredWatch = 'status'
  const old2 = await watch(e, `${SVC}?watch=true&resourceVersion=${a.metadata.resourceVersion}`)
  await old2.ended
  t.equal(old2.status, 410, 'or an HTTP 410')
  t.match(old2.events[0], { kind: 'Status', code: 410, reason: 'Expired' })

  const bm = await watch(e, `${SVC}?watch=true&allowWatchBookmarks=true&resourceVersion=${e.srv.store.rev}`)
  t.teardown(() => bm.close())
  const b = (await bm.next(1, 3000))[0]!
  t.match(b, { type: 'BOOKMARK', object: { kind: 'Service', apiVersion: 'v1', metadata: { resourceVersion: String(e.srv.store.rev) } } }, 'a bookmark with the current resourceVersion')

  const init = await watch(e, `${SVC}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`)
  t.teardown(() => init.close())
  const ie = await init.next(3)
  t.same(ie.map((x) => x.type), ['ADDED', 'ADDED', 'BOOKMARK'])
  t.same(ie[2]!.object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' }, 'the end of the initial events is marked')
  t.equal((await http(e, 'GET', `${SVC}?watch=true&sendInitialEvents=true`)).status, 422, 'sendInitialEvents needs NotOlderThan and bookmarks')
  const timed = await watch(e, `${SVC}?watch=true&timeoutSeconds=1&resourceVersion=${e.srv.store.rev}`)
  await timed.ended
  t.pass('timeoutSeconds ends the watch')
})

t.test('restart: close() cuts every connection, listen() again on the same port', async (t) => {
  const e = await serve(t)
  await http(e, 'POST', SVC, svc('a'))
  const w = await watch(e, `${SVC}?watch=true&resourceVersion=${e.srv.store.rev}`)
  const port = Number(new URL(e.url).port)
  await e.srv.close()
  await w.ended
  await t.rejects(http(e, 'GET', SVC), 'nothing listens')
  await e.srv.listen(port)
  t.same((await http(e, 'GET', SVC)).body.items.map((i: Obj) => i.metadata.name), ['a'], 'state kept')
})

// ---------------------------------------------------------------- patch formats (pure)

t.test('patch formats', async (t) => {
  // RFC 7386 appendix A examples
  t.same(mergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' })
  t.same(mergePatch({ a: 'b' }, { a: null }), {})
  t.same(mergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] })
  t.same(mergePatch({ e: null }, { a: 1 }), { e: null, a: 1 })
  t.same(mergePatch({ a: { b: 'c' } }, { a: { b: 'd', c: null } }), { a: { b: 'd' } })

  const meta = serviceDef.patchMeta
  const base = { metadata: { finalizers: ['a'], labels: { x: '1', y: '2' } }, spec: { ports: [{ port: 80, name: 'http' }, { port: 443, name: 'https' }], externalIPs: ['192.0.2.1'] } } as Json
  t.same(strategicMergePatch(base, { spec: { ports: [{ port: 80, targetPort: 8080 }] } }, meta), { ...base as Obj, spec: { ports: [{ port: 80, name: 'http', targetPort: 8080 }, { port: 443, name: 'https' }], externalIPs: ['192.0.2.1'] } }, 'list merged on its key')
  t.same((strategicMergePatch(base, { spec: { ports: [{ port: 443, $patch: 'delete' }] } }, meta) as Obj).spec.ports, [{ port: 80, name: 'http' }], '$patch: delete of an element')
  t.same((strategicMergePatch(base, { spec: { $setElementOrder: undefined, ports: [{ port: 22, name: 'ssh' }], '$setElementOrder/ports': [{ port: 22 }, { port: 443 }, { port: 80 }] } } as unknown as Json, meta) as Obj).spec.ports.map((p: Obj) => p.port), [22, 443, 80], '$setElementOrder')
  t.same((strategicMergePatch(base, { spec: { externalIPs: ['192.0.2.2'] } }, meta) as Obj).spec.externalIPs, ['192.0.2.2'], 'an untagged list is replaced')
  t.same((strategicMergePatch(base, { metadata: { finalizers: ['b'] } }, meta) as Obj).metadata.finalizers, ['a', 'b'], 'a merge-tagged primitive list is a set union')
  t.same((strategicMergePatch(base, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, meta) as Obj).metadata.finalizers, [], '$deleteFromPrimitiveList')
  t.same((strategicMergePatch(base, { metadata: { labels: { $patch: 'replace', z: '3' } } }, meta) as Obj).metadata.labels, { z: '3' }, '$patch: replace of a map')
  t.same((strategicMergePatch(base, { spec: { ports: [{ $patch: 'replace' }, { port: 1 }] } }, meta) as Obj).spec.ports, [{ port: 1 }], '$patch: replace of a list')
  t.same((strategicMergePatch(base, { metadata: { labels: { x: null } } }, meta) as Obj).metadata.labels, { y: '2' }, 'null deletes')
  t.throws(() => strategicMergePatch(base, { spec: { ports: [{ name: 'nokey' }] } }, meta), { name: 'PatchError' }, 'an element without its merge key')

  // RFC 6902
  const doc = { a: { b: [1, 2] }, c: 'x' } as Json
  t.same(jsonPatch(doc, [{ op: 'add', path: '/a/b/1', value: 9 }, { op: 'remove', path: '/c' }, { op: 'replace', path: '/a/b/0', value: 0 }]), { a: { b: [0, 9, 2] } })
  t.same(jsonPatch(doc, [{ op: 'move', from: '/c', path: '/d' }, { op: 'copy', from: '/d', path: '/e' }, { op: 'add', path: '/a/b/-', value: 3 }]), { a: { b: [1, 2, 3] }, d: 'x', e: 'x' })
  t.throws(() => jsonPatch(doc, [{ op: 'test', path: '/c', value: 'y' }]), { name: 'PatchError' }, 'test fails')
  t.throws(() => jsonPatch(doc, [{ op: 'remove', path: '/nope' }]), { name: 'PatchError', status: 422 })
  t.same(doc, { a: { b: [1, 2] }, c: 'x' }, 'inputs are not mutated')
})
