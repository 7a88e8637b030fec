// A fake kube-apiserver over node:http for the resources Porter reads (core/v1 services,
// discovery.k8s.io/v1 endpointslices), speaking the real wire protocol closely enough that the
// real kubectl and @kubernetes/client-node work against it:
//   - discovery: /version, /api, /apis, /api/v1, /apis/discovery.k8s.io[/v1] (legacy format;
//     clients asking for aggregated discovery fall back to it, as with an older server)
//   - list: resourceVersion ("", "0", N; resourceVersionMatch=Exact), limit/continue chunking over
//     a consistent snapshot (continue tokens expire with compaction: 410), label and field selectors
//   - watch: chunked JSON lines from a resourceVersion (history replay), synthetic ADDED events
//     without one, BOOKMARK events with allowWatchBookmarks (and the initial-events-end bookmark of
//     sendInitialEvents), ERROR 410 Expired (or an HTTP 410) for a compacted resourceVersion,
//     timeoutSeconds; selector transitions become ADDED / DELETED like the watch cache does
//   - create (201, 409 AlreadyExists, 422 Invalid), get, update (409 Conflict on a stale
//     resourceVersion), the status subresource (only status changes), patch (merge, strategic
//     merge, JSON patch; 415 for others), delete (preconditions, finalizers -> deletionTimestamp),
//     deletecollection, dryRun=All
//   - optional bearer token (401 Unauthorized)
// Test controls: closeWatches() (server-side end of every watch), stallWatches() (events held back
// as on a stuck connection), compact(), close()/listen() (a restart), and a request log.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { randomUUID, randomBytes } from 'node:crypto'
import { Store, type StoreEvent } from './store.ts'
import { RESOURCES, apiVersionOf, type ResourceDef, type Cause } from './resources.ts'
import { mergePatch, strategicMergePatch, jsonPatch, PatchError, type Json, type JsonObject } from './patch.ts'
import { SCHEMAS, unknownFields, openApiGroupVersion, openApiIndex, gvPath, type Field } from './schema.ts'
import { parseLabelSelector, parseFieldSelector, matchLabels, matchFields, SelectorError, type Requirement, type FieldRequirement } from './selectors.ts'

export interface FakeApiServerOptions {
  store?: Store
  /** require `Authorization: Bearer <token>` */
  token?: string
  /** a watch from a compacted resourceVersion: an ERROR event in a 200 stream (the watch cache, default) or an HTTP 410 */
  expiredWatch?: 'event' | 'status'
  /** BOOKMARK interval for watches that allow them (default 60 s, like kube-apiserver) */
  bookmarkIntervalMs?: number
  /** server-side end of a watch without timeoutSeconds (default 30 min) */
  watchTimeoutMs?: number
  /** called after every write (persistence) */
  onWrite?: (store: Store) => void
  gitVersion?: string
}

export interface RequestLogEntry { method: string; path: string; query: Record<string, string>; status: number; watch: boolean; userAgent?: string }

export interface Reply { status: number; body: Json; contentType?: string; warnings?: string[] }

type Obj = JsonObject
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const meta = (o: Obj): Obj => (isObj(o.metadata) ? o.metadata : (o.metadata = {}))
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v))
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z')

export function statusBody(code: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code }
}

class HttpError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: Obj) { super(message) }
}

const resourceKey = (d: ResourceDef) => (d.group ? `${d.plural}.${d.group}` : d.plural)
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/

interface Route {
  def: ResourceDef
  /** undefined: all namespaces */
  namespace?: string
  name?: string
  subresource?: string
  /** legacy /watch/ path prefix */
  legacyWatch: boolean
}

interface WatchSpec {
  def: ResourceDef
  namespace?: string
  labels: Requirement[]
  fields: FieldRequirement[]
  bookmarks: boolean
  timeoutMs: number
  /** history to replay, or 'initial' for synthetic ADDED events of the current state */
  from: 'initial' | number
  initialEventsEnd: boolean
}

class WatchStream {
  private pending: string[] = []
  private ended = false
  private timers: NodeJS.Timeout[] = []
  constructor(private readonly res: ServerResponse, readonly spec: WatchSpec, private readonly owner: FakeApiServer) {}

  line(type: string, object: Obj): void {
    if (this.ended) return
    const text = `${JSON.stringify({ type, object })}\n`
    if (this.owner.stalled) this.pending.push(text)
    else this.res.write(text)
  }

  flush(): void {
    if (this.ended) return
    for (const t of this.pending.splice(0)) this.res.write(t)
  }

  timer(t: NodeJS.Timeout): void { this.timers.push(t) }

  end(): void {
    if (this.ended) return
    this.ended = true
    for (const t of this.timers) clearTimeout(t)
    this.res.end()
  }

  get done(): boolean { return this.ended }
}

function prune(o: Json, f: Field): void {
  if (Array.isArray(f)) { if (Array.isArray(o)) for (const x of o) prune(x, f[0]); return }
  if (typeof f === 'string' || !isObj(o)) return
  for (const k of Object.keys(o)) {
    const sub = f[k]
    if (sub === undefined) delete o[k]
    else prune(o[k]!, sub)
  }
}

export class FakeApiServer {
  store: Store
  readonly log: RequestLogEntry[] = []
  stalled = false
  expiredWatch: 'event' | 'status'
  private http: Server | undefined
  private readonly sockets = new Set<Socket>()
  private readonly watches = new Set<WatchStream>()
  private unsubscribe: () => void
  private address: { host: string; port: number } | undefined

  constructor(readonly opts: FakeApiServerOptions = {}) {
    this.store = opts.store ?? new Store()
    this.expiredWatch = opts.expiredWatch ?? 'event'
    this.unsubscribe = this.store.subscribe((ev) => this.onEvent(ev))
  }

  /** Replace the store (e.g. one loaded from a snapshot); open watches are ended. */
  setStore(store: Store): void {
    this.closeWatches()
    this.unsubscribe()
    this.store = store
    this.unsubscribe = this.store.subscribe((ev) => this.onEvent(ev))
  }

  get url(): string {
    if (!this.address) throw new Error('the fake API server is not listening')
    const h = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host
    return `http://${h}:${this.address.port}`
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    const srv = createServer((req, res) => { void this.serve(req, res) })
    srv.keepAliveTimeout = 60_000
    srv.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)) })
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject)
      srv.listen(port, host, () => { srv.off('error', reject); resolve() })
    })
    const a = srv.address()
    if (!a || typeof a === 'string') throw new Error('no address')
    this.http = srv
    this.address = { host, port: a.port }
    return this.url
  }

  /** Stop listening and cut every connection (watches included) at once. */
  async close(): Promise<void> {
    const srv = this.http
    this.http = undefined
    for (const w of this.watches) w.end()
    this.watches.clear()
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    if (srv) await new Promise<void>((r) => srv.close(() => r()))
  }

  /** End every open watch from the server side (what a kube-apiserver restart or timeout does). */
  closeWatches(): number {
    const n = this.watches.size
    for (const w of this.watches) w.end()
    this.watches.clear()
    return n
  }

  /** Hold back watch events (a stuck connection) until stallWatches(false). */
  stallWatches(on: boolean): void {
    this.stalled = on
    if (!on) for (const w of this.watches) w.flush()
  }

  compact(): void { this.store.compact() }

  /**
   * What a watcher that fell behind experiences: the history is compacted, every open watch is
   * ended with its held-back events lost, and the next watch from its resourceVersion gets 410.
   */
  expireWatches(): number {
    this.compact()
    const n = this.closeWatches()
    this.stallWatches(false)
    return n
  }

  get openWatches(): number { return this.watches.size }

  // ---------------------------------------------------------------- in-process requests

  /** Serve one non-watch request without a socket (same code path as HTTP). */
  async request(method: string, path: string, body?: Json | string, contentType = 'application/json'): Promise<Reply> {
    const url = new URL(path, 'http://fake')
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
    const r = await this.handle(method, url, { 'content-type': contentType }, text)
    if ('watch' in r) throw new Error('watch requests need HTTP')
    return r
  }

  // ---------------------------------------------------------------- HTTP

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    const chunks: Buffer[] = []
    let size = 0
    for await (const c of req) {
      size += (c as Buffer).length
      if (size > 3 * 1024 * 1024) { this.reply(req, res, url, { status: 413, body: statusBody(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728') }); return }
      chunks.push(c as Buffer)
    }
    const entry = (status: number, watch: boolean) => {
      const ua = req.headers['user-agent']
      this.log.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), status, watch, ...(ua ? { userAgent: ua } : {}) })
    }
    if (this.opts.token !== undefined && req.headers.authorization !== `Bearer ${this.opts.token}`) {
      entry(401, false)
      this.send(res, { status: 401, body: statusBody(401, 'Unauthorized', 'Unauthorized') })
      return
    }
    let r: Reply | { watch: WatchSpec }
    try {
      r = await this.handle(req.method ?? 'GET', url, req.headers as Record<string, string | undefined>, Buffer.concat(chunks).toString('utf8'))
    } catch (e) {
      r = { status: 500, body: statusBody(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`) }
    }
    if ('watch' in r) {
      entry(200, true)
      this.startWatch(res, r.watch)
      return
    }
    entry(r.status, false)
    this.send(res, r)
  }

  private reply(req: IncomingMessage, res: ServerResponse, url: URL, r: Reply): void {
    this.log.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), status: r.status, watch: false })
    this.send(res, r)
  }

  private send(res: ServerResponse, r: Reply): void {
    const text = typeof r.body === 'string' && r.contentType?.startsWith('text/') ? r.body : JSON.stringify(r.body)
    const headers: Record<string, string | string[]> = { 'Content-Type': r.contentType ?? 'application/json', 'Content-Length': String(Buffer.byteLength(text)), 'Cache-Control': 'no-cache, private' }
    if (r.warnings?.length) headers.Warning = r.warnings.map((w) => `299 - ${JSON.stringify(w)}`)
    res.writeHead(r.status, headers)
    res.end(text)
  }

  // ---------------------------------------------------------------- routing

  private async handle(method: string, url: URL, headers: Record<string, string | undefined>, body: string): Promise<Reply | { watch: WatchSpec }> {
    try {
      return await this.route(method, url, headers, body)
    } catch (e) {
      if (e instanceof HttpError) return { status: e.code, body: statusBody(e.code, e.reason, e.message, e.details) }
      if (e instanceof SelectorError) return { status: 400, body: statusBody(400, 'BadRequest', e.message) }
      if (e instanceof PatchError) return { status: e.status, body: statusBody(e.status, e.status === 422 ? 'Invalid' : 'BadRequest', e.message) }
      throw e
    }
  }

  private async route(method: string, url: URL, headers: Record<string, string | undefined>, body: string): Promise<Reply | { watch: WatchSpec }> {
    const p = url.pathname.replace(/\/+$/, '') || '/'
    const get = method === 'GET'
    if (p === '/version' && get) {
      return { status: 200, body: { major: '1', minor: '32', gitVersion: this.opts.gitVersion ?? 'v1.32.0-porter-fake', gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean', buildDate: '2025-01-01T00:00:00Z', goVersion: 'go1.23.0', compiler: 'gc', platform: 'linux/amd64' } }
    }
    if ((p === '/healthz' || p === '/livez' || p === '/readyz') && get) return { status: 200, body: 'ok', contentType: 'text/plain; charset=utf-8' }
    if (p === '/api' && get) {
      const server = this.address ? `${this.address.host}:${this.address.port}` : '127.0.0.1:0'
      return { status: 200, body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: server }] } }
    }
    if (p === '/openapi/v3' && get) return { status: 200, body: openApiIndex(this.byGv()) }
    if (p.startsWith('/openapi/v3/') && get) {
      const defs = this.byGv().get(p.slice('/openapi/v3/'.length))
      if (defs) return { status: 200, body: openApiGroupVersion(defs) }
    }
    const groups = [...new Set(RESOURCES.filter((d) => d.group).map((d) => d.group))]
    const groupBody = (g: string): Obj => ({ name: g, versions: [{ groupVersion: `${g}/v1`, version: 'v1' }], preferredVersion: { groupVersion: `${g}/v1`, version: 'v1' } })
    if (p === '/apis' && get) return { status: 200, body: { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupBody) } }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)(?:\/([^/]+))?)(\/.*)?$/.exec(p)
    if (!m) return { status: 404, body: '404 page not found\n', contentType: 'text/plain; charset=utf-8' }
    const group = m[2] ?? ''
    const version = m[1] ?? m[3]
    const rest = (m[4] ?? '').split('/').filter(Boolean)
    if (group && !groups.includes(group)) return { status: 404, body: '404 page not found\n', contentType: 'text/plain; charset=utf-8' }
    if (group && version === undefined) {
      if (!get) throw new HttpError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`)
      return { status: 200, body: { kind: 'APIGroup', apiVersion: 'v1', ...groupBody(group) } }
    }
    const defs = RESOURCES.filter((d) => d.group === group && d.version === version)
    if (defs.length === 0) return { status: 404, body: '404 page not found\n', contentType: 'text/plain; charset=utf-8' }
    if (rest.length === 0) {
      if (!get) throw new HttpError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`)
      return { status: 200, body: this.resourceList(group, version!, defs) }
    }
    const route = this.parseRoute(rest, defs)
    return this.dispatch(method, route, url.searchParams, headers, body)
  }

  private byGv(): Map<string, ResourceDef[]> {
    const m = new Map<string, ResourceDef[]>()
    for (const d of RESOURCES) m.set(gvPath(d), [...(m.get(gvPath(d)) ?? []), d])
    return m
  }

  /**
   * Field validation of a decoded object: unknown fields are an error (Strict), a warning (Warn,
   * the default) or silently dropped (Ignore); they are never stored, as decoding into the Go
   * types drops them.
   */
  private fieldCheck(d: ResourceDef, o: Obj, q: URLSearchParams): string[] {
    const mode = q.get('fieldValidation') ?? 'Warn'
    if (!['Strict', 'Warn', 'Ignore'].includes(mode)) throw new HttpError(400, 'BadRequest', `fieldValidation: Unsupported value: ${JSON.stringify(mode)}: supported values: "Ignore", "Strict", "Warn"`)
    const schema = SCHEMAS[d.kind]!
    const unknown = unknownFields(o, schema)
    if (unknown.length === 0) return []
    if (mode === 'Strict') throw new HttpError(400, 'BadRequest', `strict decoding error: ${unknown.map((u) => `unknown field ${JSON.stringify(u)}`).join(', ')}`)
    prune(o, schema)
    return mode === 'Warn' ? unknown.map((u) => `unknown field ${JSON.stringify(u)}`) : []
  }

  private resourceList(group: string, version: string, defs: ResourceDef[]): Obj {
    const resources: Json[] = []
    for (const d of defs) {
      resources.push({
        name: d.plural, singularName: d.singular, namespaced: d.namespaced, kind: d.kind,
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        ...(d.shortNames.length ? { shortNames: d.shortNames } : {}), ...(d.categories.length ? { categories: d.categories } : {}),
        storageVersionHash: Buffer.from(`${group}/${version}/${d.kind}`).toString('base64').slice(0, 11),
      })
      if (d.status) resources.push({ name: `${d.plural}/status`, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: ['get', 'patch', 'update'] })
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources }
  }

  private parseRoute(rest: string[], defs: ResourceDef[]): Route {
    const notFound = () => new HttpError(404, 'NotFound', 'the server could not find the requested resource')
    let legacyWatch = false
    let i = 0
    if (rest[0] === 'watch') { legacyWatch = true; i = 1 }
    let namespace: string | undefined
    if (rest[i] === 'namespaces' && rest.length > i + 2) { namespace = rest[i + 1]; i += 2 }
    const def = defs.find((d) => d.plural === rest[i])
    if (!def) throw notFound()
    const name = rest[i + 1]
    const subresource = rest[i + 2]
    if (rest.length > i + 3) throw notFound()
    if (subresource !== undefined && !(subresource === 'status' && def.status)) throw notFound()
    if (name !== undefined && namespace === undefined && def.namespaced) throw notFound()
    return { def, ...(namespace !== undefined ? { namespace } : {}), ...(name !== undefined ? { name } : {}), ...(subresource !== undefined ? { subresource } : {}), legacyWatch }
  }

  private async dispatch(method: string, r: Route, q: URLSearchParams, headers: Record<string, string | undefined>, body: string): Promise<Reply | { watch: WatchSpec }> {
    const notAllowed = () => new HttpError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
    const isWatch = r.legacyWatch || q.get('watch') === 'true' || q.get('watch') === '1'
    if (r.name === undefined) {
      if (method === 'GET') return isWatch ? { watch: this.watchSpec(r, q) } : this.list(r, q)
      if (method === 'POST' && r.namespace !== undefined) return this.create(r, q, body)
      if (method === 'DELETE' && r.namespace !== undefined) return this.deleteCollection(r, q, body)
      throw notAllowed()
    }
    if (isWatch) {
      // a watch of one object: /watch/namespaces/NS/PLURAL/NAME
      const fs = q.get('fieldSelector')
      q.set('fieldSelector', [fs, `metadata.name=${r.name}`].filter(Boolean).join(','))
      return { watch: this.watchSpec({ ...r, name: undefined } as Route, q) }
    }
    if (r.subresource === 'status') {
      if (method === 'GET') return this.getOne(r)
      if (method === 'PUT') return this.update(r, q, body, true)
      if (method === 'PATCH') return this.patch(r, q, headers['content-type'] ?? '', body, true)
      throw notAllowed()
    }
    switch (method) {
      case 'GET': return this.getOne(r)
      case 'PUT': return this.update(r, q, body, false)
      case 'PATCH': return this.patch(r, q, headers['content-type'] ?? '', body, false)
      case 'DELETE': return this.deleteOne(r, q, body)
      default: throw notAllowed()
    }
  }

  // ---------------------------------------------------------------- helpers

  private key(ns: string | undefined, name: string): string { return `${ns ?? ''}/${name}` }

  private qualified(d: ResourceDef): string { return d.group ? `${d.plural}.${d.group}` : d.plural }

  private notFound(d: ResourceDef, name: string): HttpError {
    return new HttpError(404, 'NotFound', `${this.qualified(d)} "${name}" not found`, { name, ...(d.group ? { group: d.group } : {}), kind: d.plural })
  }

  private conflict(d: ResourceDef, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): HttpError {
    return new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${this.qualified(d)} "${name}": ${why}`, { name, ...(d.group ? { group: d.group } : {}), kind: d.plural })
  }

  private invalid(d: ResourceDef, name: string, causes: Cause[]): HttpError {
    const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ')
    return new HttpError(422, 'Invalid', `${d.kind} "${name}" is invalid: ${causes.length > 1 ? `[${text}]` : text}`, { name, ...(d.group ? { group: d.group } : {}), kind: d.kind, causes: causes as unknown as Json })
  }

  private parseBody(body: string): Obj {
    let o: unknown
    try { o = JSON.parse(body) } catch (e) {
      throw new HttpError(400, 'BadRequest', `the body of the request could not be decoded: ${(e as Error).message}`)
    }
    if (!isObj(o)) throw new HttpError(400, 'BadRequest', 'the body of the request is not a JSON object')
    return o
  }

  private checkKind(d: ResourceDef, o: Obj): void {
    const av = apiVersionOf(d)
    if (o.apiVersion !== undefined && o.apiVersion !== av) throw new HttpError(400, 'BadRequest', `the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${av})`)
    if (o.kind !== undefined && o.kind !== d.kind) throw new HttpError(400, 'BadRequest', `${d.kind} in version "${d.version}" cannot be handled as a ${String(o.kind)}: no kind "${String(o.kind)}" is registered for version "${av}"`)
    o.apiVersion = av
    o.kind = d.kind
  }

  private checkNamespace(r: Route, o: Obj): void {
    const m = meta(o)
    if (m.namespace !== undefined && m.namespace !== '' && m.namespace !== r.namespace) throw new HttpError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request')
    m.namespace = r.namespace!
  }

  private alloc() {
    const svcs = this.store.list('services')
    const ips = new Set(svcs.map((s) => String((s.spec as Obj | undefined)?.clusterIP ?? '')))
    const ports = new Set<number>()
    for (const s of svcs) {
      const sp = (s.spec ?? {}) as Obj
      for (const p of (sp.ports ?? []) as Obj[]) if (typeof p.nodePort === 'number') ports.add(p.nodePort)
      if (typeof sp.healthCheckNodePort === 'number') ports.add(sp.healthCheckNodePort)
    }
    return {
      clusterIP: () => {
        // the fake's service CIDR is a documentation range: cluster IPs are only strings here
        for (let i = 1; i < 255; i++) if (!ips.has(`192.0.2.${i}`)) { ips.add(`192.0.2.${i}`); return `192.0.2.${i}` }
        throw new HttpError(500, 'InternalError', 'Internal error occurred: failed to allocate a serviceIP: range is full')
      },
      nodePort: () => {
        for (let p = 30000; p <= 32767; p++) if (!ports.has(p)) { ports.add(p); return p }
        throw new HttpError(500, 'InternalError', 'Internal error occurred: failed to allocate a nodePort: range is full')
      },
    }
  }

  private checkName(d: ResourceDef, name: unknown): void {
    const ok = typeof name === 'string' && (d.nameRule === 'dns1035' ? DNS1035.test(name) && name.length <= 63 : DNS1123_SUBDOMAIN.test(name) && name.length <= 253)
    if (!ok) {
      const detail = d.nameRule === 'dns1035'
        ? 'a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character, and end with an alphanumeric character'
        : 'a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character'
      throw this.invalid(d, String(name), [{ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: ${JSON.stringify(name)}: ${detail}` }])
    }
  }

  private commit(d: ResourceDef, key: string, o: Obj | undefined): StoreEvent | undefined {
    const ev = this.store.write(resourceKey(d), key, o)
    if (ev) this.opts.onWrite?.(this.store)
    return ev
  }

  private dryRun(q: URLSearchParams): boolean {
    const v = q.getAll('dryRun')
    if (v.some((x) => x !== 'All')) throw new HttpError(400, 'BadRequest', `Invalid dry run value: ${v.join(',')}`)
    return v.length > 0
  }

  // ---------------------------------------------------------------- verbs

  private getOne(r: Route): Reply {
    const o = this.store.get(resourceKey(r.def), this.key(r.namespace, r.name!))
    if (!o) throw this.notFound(r.def, r.name!)
    return { status: 200, body: o }
  }

  private create(r: Route, q: URLSearchParams, body: string): Reply {
    const d = r.def
    const o = this.parseBody(body)
    const warnings = this.fieldCheck(d, o, q)
    this.checkKind(d, o)
    this.checkNamespace(r, o)
    const m = meta(o)
    if ((m.name === undefined || m.name === '') && typeof m.generateName === 'string' && m.generateName !== '') {
      const alphabet = 'bcdfghjklmnpqrstvwxz2456789'
      m.name = `${m.generateName}${[...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('')}`
    }
    if (m.name === undefined || m.name === '') throw this.invalid(d, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }])
    this.checkName(d, m.name)
    if (m.resourceVersion !== undefined && m.resourceVersion !== '') throw new HttpError(500, 'InternalError', 'Internal error occurred: resourceVersion should not be set on objects to be created')
    const key = this.key(r.namespace, String(m.name))
    if (this.store.get(resourceKey(d), key)) {
      throw new HttpError(409, 'AlreadyExists', `${this.qualified(d)} "${String(m.name)}" already exists`, { name: m.name, ...(d.group ? { group: d.group } : {}), kind: d.plural })
    }
    m.uid = randomUUID()
    m.creationTimestamp = now()
    m.generation = 1
    delete m.deletionTimestamp
    delete m.deletionGracePeriodSeconds
    delete m.selfLink
    delete m.managedFields
    if (d.status) delete o.status
    d.defaults(o, undefined, this.alloc())
    const causes = d.validate(o, undefined)
    if (causes.length) throw this.invalid(d, String(m.name), causes)
    if (this.dryRun(q)) return { status: 201, body: o, warnings }
    const ev = this.commit(d, key, o)
    return { status: 201, body: ev!.object, warnings }
  }

  /** Shared by PUT and PATCH: `next` is the whole proposed object. */
  private replace(r: Route, q: URLSearchParams, next: Obj, statusOnly: boolean, checkRv: boolean): Reply {
    const d = r.def
    const key = this.key(r.namespace, r.name!)
    const old = this.store.get(resourceKey(d), key)
    if (!old) throw this.notFound(d, r.name!)
    const warnings = this.fieldCheck(d, next, q)
    this.checkKind(d, next)
    this.checkNamespace(r, next)
    const m = meta(next)
    if (m.name !== r.name) throw new HttpError(400, 'BadRequest', `the name of the object (${String(m.name)}) does not match the name on the URL (${r.name})`)
    const om = old.metadata as Obj
    if (checkRv && m.resourceVersion !== undefined && m.resourceVersion !== '' && m.resourceVersion !== om.resourceVersion) throw this.conflict(d, r.name!)
    if (m.uid !== undefined && m.uid !== '' && m.uid !== om.uid) {
      throw this.conflict(d, r.name!, `Precondition failed: UID in precondition: ${String(m.uid)}, UID in object meta: ${String(om.uid)}`)
    }
    let o: Obj
    if (statusOnly) {
      // the status strategy: spec and metadata stay as they are
      o = clone(old)
      if (next.status !== undefined) o.status = clone(next.status)
    } else {
      o = next
      for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) {
        if (om[k] !== undefined) m[k] = om[k]!
        else delete m[k]
      }
      delete m.selfLink
      delete m.managedFields
      if (d.status) o.status = old.status !== undefined ? clone(old.status) : {}
      d.defaults(o, old, this.alloc())
      if (d.generationChanged(o, old)) m.generation = Number(om.generation ?? 1) + 1
    }
    meta(o).resourceVersion = om.resourceVersion!
    const causes = d.validate(o, old)
    if (causes.length) throw this.invalid(d, r.name!, causes)
    if (this.dryRun(q)) return { status: 200, body: o, warnings }
    const fins = (meta(o).finalizers ?? []) as Json[]
    if (meta(o).deletionTimestamp !== undefined && fins.length === 0) {
      const ev = this.commit(d, key, undefined)
      return { status: 200, body: ev!.object, warnings }
    }
    const ev = this.commit(d, key, o)
    return { status: 200, body: ev ? ev.object : old, warnings }
  }

  private update(r: Route, q: URLSearchParams, body: string, statusOnly: boolean): Reply {
    return this.replace(r, q, this.parseBody(body), statusOnly, true)
  }

  private patch(r: Route, q: URLSearchParams, contentType: string, body: string, statusOnly: boolean): Reply {
    const d = r.def
    const old = this.store.get(resourceKey(d), this.key(r.namespace, r.name!))
    if (!old) throw this.notFound(d, r.name!)
    const type = contentType.split(';')[0]!.trim()
    if (!['application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json'].includes(type)) {
      throw new HttpError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`)
    }
    let doc: Json
    try { doc = JSON.parse(body) } catch (e) {
      throw new HttpError(400, 'BadRequest', `error decoding patch: ${(e as Error).message}`)
    }
    let next: Json
    if (type === 'application/merge-patch+json') next = mergePatch(old, doc)
    else if (type === 'application/strategic-merge-patch+json') next = strategicMergePatch(old, doc, d.patchMeta)
    else next = jsonPatch(old, doc)
    if (!isObj(next)) throw new HttpError(422, 'Invalid', 'the patch result is not an object')
    // a resourceVersion in the patch is a precondition (optimistic concurrency)
    const prv = isObj(doc) && isObj(doc.metadata) ? doc.metadata.resourceVersion : undefined
    if (typeof prv === 'string' && prv !== '' && prv !== (old.metadata as Obj).resourceVersion) throw this.conflict(d, r.name!)
    meta(next).resourceVersion = (old.metadata as Obj).resourceVersion!
    return this.replace(r, q, next, statusOnly, false)
  }

  private deleteOne(r: Route, q: URLSearchParams, body: string): Reply {
    const d = r.def
    const key = this.key(r.namespace, r.name!)
    const old = this.store.get(resourceKey(d), key)
    if (!old) throw this.notFound(d, r.name!)
    const opts = body.trim() ? this.parseBody(body) : {}
    const pre = isObj(opts.preconditions) ? opts.preconditions : {}
    const om = old.metadata as Obj
    if (pre.uid !== undefined && pre.uid !== om.uid) throw this.conflict(d, r.name!, `Precondition failed: UID in precondition: ${String(pre.uid)}, UID in object meta: ${String(om.uid)}`)
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== om.resourceVersion) {
      throw this.conflict(d, r.name!, `Precondition failed: ResourceVersion in precondition: ${String(pre.resourceVersion)}, ResourceVersion in object meta: ${String(om.resourceVersion)}`)
    }
    const dry = this.dryRun(q) || (Array.isArray(opts.dryRun) && opts.dryRun.includes('All'))
    const fins = (om.finalizers ?? []) as Json[]
    if (fins.length > 0) {
      // graceful: the object stays until its finalizers are removed
      if (om.deletionTimestamp !== undefined || dry) return { status: 200, body: old }
      const o = clone(old)
      meta(o).deletionTimestamp = now()
      meta(o).deletionGracePeriodSeconds = 0
      const ev = this.commit(d, key, o)
      return { status: 200, body: ev!.object }
    }
    if (dry) return { status: 200, body: old }
    this.commit(d, key, undefined)
    return {
      status: 200,
      body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: r.name!, ...(d.group ? { group: d.group } : {}), kind: d.plural, uid: om.uid! } },
    }
  }

  private deleteCollection(r: Route, q: URLSearchParams, body: string): Reply {
    const items = this.select(r, q, this.store.list(resourceKey(r.def)))
    const deleted: Json[] = []
    for (const o of items) {
      const name = String((o.metadata as Obj).name)
      this.deleteOne({ ...r, name }, q, body)
      deleted.push(o)
    }
    return { status: 200, body: { kind: r.def.listKind, apiVersion: apiVersionOf(r.def), metadata: { resourceVersion: String(this.store.rev) }, items: deleted } }
  }

  private select(r: Route, q: URLSearchParams, items: Obj[]): Obj[] {
    const labels = parseLabelSelector(q.get('labelSelector') ?? undefined)
    const fields = parseFieldSelector(q.get('fieldSelector') ?? undefined, r.def.fields)
    return items.filter((o) => this.matches(r.def, r.namespace, labels, fields, o))
  }

  private matches(d: ResourceDef, ns: string | undefined, labels: Requirement[], fields: FieldRequirement[], o: Obj): boolean {
    const m = o.metadata as Obj
    if (ns !== undefined && m.namespace !== ns) return false
    return matchLabels(labels, m.labels as Record<string, string> | undefined) && matchFields(fields, d.fieldValues(o))
  }

  private rvParam(q: URLSearchParams): number | undefined {
    const s = q.get('resourceVersion')
    if (s === null || s === '') return undefined
    if (!/^\d+$/.test(s)) throw new HttpError(400, 'BadRequest', `invalid resource version: ${JSON.stringify(s)}`)
    return Number(s)
  }

  private tooLarge(rv: number): HttpError {
    return new HttpError(504, 'Timeout', `Too large resource version: ${rv}, current: ${this.store.rev}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 })
  }

  private list(r: Route, q: URLSearchParams): Reply {
    const d = r.def
    const rk = resourceKey(d)
    const cont = q.get('continue')
    const limitS = q.get('limit')
    const rvS = q.get('resourceVersion')
    let limit = limitS ? Number(limitS) : 0
    if (!Number.isInteger(limit) || limit < 0) throw new HttpError(400, 'BadRequest', `invalid limit: ${JSON.stringify(limitS)}`)
    let at: number
    let start = ''
    let items: Obj[] | 'expired' | 'future'
    if (cont) {
      if (rvS) throw new HttpError(400, 'BadRequest', 'specifying resource version is not allowed when using continue')
      let tok: { v?: string; rv?: number; start?: string }
      try { tok = JSON.parse(Buffer.from(cont, 'base64').toString('utf8')) } catch { throw new HttpError(400, 'BadRequest', 'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)') }
      if (tok.v !== 'meta.k8s.io/v1' || typeof tok.rv !== 'number' || typeof tok.start !== 'string') throw new HttpError(400, 'BadRequest', 'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)')
      at = tok.rv
      start = tok.start
      items = this.store.listAt(rk, at)
      if (items === 'expired') {
        throw new HttpError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.')
      }
    } else {
      const rv = this.rvParam(q)
      const match = q.get('resourceVersionMatch')
      if (match && rv === undefined) throw new HttpError(400, 'BadRequest', 'resourceVersionMatch is forbidden unless resourceVersion is provided')
      if (match && match !== 'Exact' && match !== 'NotOlderThan') throw new HttpError(400, 'BadRequest', `resourceVersionMatch: Unsupported value: "${match}"`)
      if (rv !== undefined && rv > this.store.rev) throw this.tooLarge(rv)
      if (match === 'Exact' && rv !== undefined) {
        at = rv
        items = this.store.listAt(rk, rv)
        if (items === 'expired') throw new HttpError(410, 'Expired', `The resourceVersion for the provided list is too old.`)
      } else {
        at = this.store.rev
        items = this.store.list(rk)
        // resourceVersion=0 is served from the watch cache, which ignores limit
        if (rvS === '0') limit = 0
      }
    }
    if (items === 'future') throw this.tooLarge(at)
    const nsKey = (o: Obj) => this.key(String((o.metadata as Obj).namespace ?? ''), String((o.metadata as Obj).name))
    let sel = this.select(r, q, items)
    if (start) sel = sel.filter((o) => nsKey(o) >= start)
    const hasSelector = !!(q.get('labelSelector') || q.get('fieldSelector'))
    const page = limit > 0 ? sel.slice(0, limit) : sel
    const metaOut: Obj = { resourceVersion: String(at) }
    if (limit > 0 && sel.length > limit) {
      const last = nsKey(page[page.length - 1]!)
      metaOut.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: at, start: `${last}\u0000` })).toString('base64')
      if (!hasSelector) metaOut.remainingItemCount = sel.length - limit
    }
    // list items carry no kind / apiVersion (the list does)
    const stripped = page.map(({ kind: _k, apiVersion: _a, ...o }) => o)
    return { status: 200, body: { kind: d.listKind, apiVersion: apiVersionOf(d), metadata: metaOut, items: stripped } }
  }

  // ---------------------------------------------------------------- watch

  private watchSpec(r: Route, q: URLSearchParams): WatchSpec {
    const labels = parseLabelSelector(q.get('labelSelector') ?? undefined)
    const fields = parseFieldSelector(q.get('fieldSelector') ?? undefined, r.def.fields)
    const rvS = q.get('resourceVersion')
    const rv = this.rvParam(q)
    const sendInitial = q.get('sendInitialEvents') === 'true'
    const bookmarks = q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1'
    if (sendInitial && (q.get('resourceVersionMatch') !== 'NotOlderThan' || !bookmarks)) {
      throw this.invalid(r.def, '', [{ reason: 'FieldValueForbidden', field: 'sendInitialEvents', message: 'Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan and allowWatchBookmarks' }])
    }
    const tsS = q.get('timeoutSeconds')
    const timeoutMs = tsS ? Number(tsS) * 1000 : this.opts.watchTimeoutMs ?? 30 * 60_000
    if (rv !== undefined && rv > this.store.rev) throw this.tooLarge(rv)
    const initial = sendInitial || rvS === null || rvS === '' || rvS === '0'
    const from: WatchSpec['from'] = initial ? 'initial' : rv!
    if (from !== 'initial' && from < this.store.oldest && this.expiredWatch === 'status') {
      throw new HttpError(410, 'Expired', `too old resource version: ${from} (${this.store.oldest})`)
    }
    return { def: r.def, ...(r.namespace !== undefined ? { namespace: r.namespace } : {}), labels, fields, bookmarks, timeoutMs, from, initialEventsEnd: sendInitial }
  }

  private startWatch(res: ServerResponse, spec: WatchSpec): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' })
    res.flushHeaders()
    const w = new WatchStream(res, spec, this)
    const rk = resourceKey(spec.def)
    if (spec.from !== 'initial' && spec.from < this.store.oldest) {
      w.line('ERROR', statusBody(410, 'Expired', `too old resource version: ${spec.from} (${this.store.oldest})`))
      w.end()
      return
    }
    this.watches.add(w)
    res.on('close', () => { w.end(); this.watches.delete(w) })
    if (spec.from === 'initial') {
      for (const o of this.store.list(rk)) if (this.matches(spec.def, spec.namespace, spec.labels, spec.fields, o)) w.line('ADDED', o)
      if (spec.initialEventsEnd) {
        w.line('BOOKMARK', { kind: spec.def.kind, apiVersion: apiVersionOf(spec.def), metadata: { resourceVersion: String(this.store.rev), annotations: { 'k8s.io/initial-events-end': 'true' } } })
      }
    } else {
      for (const ev of this.store.since(spec.from)) if (ev.resource === rk) this.deliver(w, ev)
    }
    if (spec.bookmarks) {
      const every = this.opts.bookmarkIntervalMs ?? 60_000
      const tick = () => {
        if (w.done) return
        w.line('BOOKMARK', { kind: spec.def.kind, apiVersion: apiVersionOf(spec.def), metadata: { resourceVersion: String(this.store.rev) } })
        w.timer(setTimeout(tick, every))
      }
      w.timer(setTimeout(tick, every))
    }
    w.timer(setTimeout(() => { w.end(); this.watches.delete(w) }, spec.timeoutMs))
  }

  private onEvent(ev: StoreEvent): void {
    for (const w of this.watches) if (ev.resource === resourceKey(w.spec.def)) this.deliver(w, ev)
  }

  /** The watch cache's filtering: an object entering or leaving the selection is ADDED / DELETED. */
  private deliver(w: WatchStream, ev: StoreEvent): void {
    const s = w.spec
    const now = ev.type !== 'DELETED' && this.matches(s.def, s.namespace, s.labels, s.fields, ev.object)
    const before = ev.prev !== undefined && this.matches(s.def, s.namespace, s.labels, s.fields, ev.prev)
    if (ev.type === 'DELETED') { if (before) w.line('DELETED', ev.object); return }
    if (now && before) w.line('MODIFIED', ev.object)
    else if (now) w.line('ADDED', ev.object)
    else if (before) w.line('DELETED', ev.object)
  }
}
