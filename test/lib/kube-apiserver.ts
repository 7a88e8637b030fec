// Test harness: a REAL Kubernetes API server (upstream kube-apiserver + etcd, built from source by
// test/k8s/install.mjs into ${PORTER_TEST_CACHE:-~/.cache/porter-test}/k8s-<version>/).
//
//   const api = await startKubeApiServer(t, { users: [{ name: 'porter', groups: ['porter'] }] })
//   await api.kubectl(['apply', '-f', '-'], { input: yaml })
//   const kc = api.kubeconfig('porter')          // static-token user, no RBAC unless you add some
//   const inNs = await forwardIntoNetns(api, ns) // https://127.0.0.1:6443 inside netns `ns`
//
// What runs: etcd and kube-apiserver on 127.0.0.1 (free random ports, nothing else is bound),
// data, certificates, tokens, kubeconfigs and logs in a private temp dir. Authentication: static
// tokens (`admin` is in system:masters); authorization: RBAC; anonymous requests may read /version,
// /healthz, /readyz. NO controller-manager and NO scheduler run: no Endpoints/EndpointSlices are
// derived from Pods, deleted Namespaces stay Terminating, ServiceAccounts get no tokens, nothing
// garbage-collects. The apiserver itself allocates ClusterIPs and NodePorts, creates the system
// namespaces (default, kube-system, kube-public, kube-node-lease) and the bootstrap RBAC roles.
// ServiceAccount admission is disabled (it needs the token controller); the `kubernetes` Service
// exists but the endpoint reconciler is off (its Endpoints would have to hold a loopback address).
//
// Cleanup: stop() (registered with t.teardown) and, synchronously, process exit and
// SIGINT/SIGTERM/SIGHUP handlers kill every process started here and remove the temp dir. Should
// the test process be SIGKILLed, etcd and kube-apiserver die too (parent-death signal set with
// setpriv) and the netns relays exit when their stdin closes; the next start removes the temp dir.

import { cleanupAtExit, forgetAtExit, type SyncCleanup } from './exit-cleanup.ts'
import { spawn, spawnSync, execFile, execFileSync, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { request as httpRequest } from 'node:http'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Anything with `teardown`, i.e. a tap `Test` (same shape as test/e2e/lib/netns.ts). */
export interface TeardownHost { teardown(fn: () => unknown): void }

export interface KubectlOptions {
  input?: string
  /** static-token user declared at start (default: admin) */
  user?: string
  /** do not throw on a non-zero exit status */
  allowFail?: boolean
  timeoutMs?: number
}

export interface KubectlResult { stdout: string; stderr: string; code: number }

export interface KubeApiServer {
  /** https://127.0.0.1:<port> */
  url: string
  port: number
  /** temp dir with certs, tokens, kubeconfigs, logs (removed by stop()) */
  dir: string
  /** PEM file of the self-signed serving certificate (it is its own CA; SANs 127.0.0.1, ::1, localhost) */
  caFile: string
  /** path; user `admin` in group system:masters */
  adminKubeconfig: string
  /** path of a kubeconfig for a static-token user declared at start (`admin` too) */
  kubeconfig(user: string): string
  /** the bearer token of a user declared at start (`admin` too) */
  token(user: string): string
  /** Debian's kubectl (/usr/bin/kubectl) with the admin kubeconfig unless `user` is given */
  kubectl(args: string[], opts?: KubectlOptions): Promise<KubectlResult>
  /** kube-apiserver version string, e.g. v1.34.4 */
  version: string
  /** milliseconds from spawning etcd to /readyz ok and namespace `default` present */
  startupMs: number
  /** kills kube-apiserver, etcd and any netns forwarders; removes the dir (idempotent) */
  stop(): Promise<void>
}

export interface StartOptions {
  /** static-token users besides `admin`; they get no RBAC rights unless a test grants some */
  users?: { name: string; groups?: string[] }[]
  /** default 198.19.0.0/16 (allocation range only, nothing is routed) */
  serviceClusterIpRange?: string
  /** extra kube-apiserver flags (`--name=value`) */
  extraArgs?: string[]
  /** keep the temp dir (logs) after stop(); also when PORTER_KEEP_KUBE_DIR=1 */
  keepDir?: boolean
  /** deadline for /readyz (default 90 s) */
  timeoutMs?: number
}

export const KUBECTL = '/usr/bin/kubectl'
const SETPRIV = '/usr/bin/setpriv'
const INSTALL = join(dirname(fileURLToPath(import.meta.url)), '..', 'k8s', 'install.mjs')

interface BinaryPaths { dir: string; version: string; etcdVersion: string; kubeApiServer: string; etcd: string; ready: boolean }

/** Where install.mjs put (or would put) the binaries; throws when they are not built. */
export function kubeBinaries(): BinaryPaths {
  const out = execFileSync(process.execPath, [INSTALL, '--paths'], { encoding: 'utf8' })
  const p = JSON.parse(out) as BinaryPaths
  if (!p.ready) {
    throw new Error(`kube-apiserver/etcd ${p.version} are not built in ${p.dir}: run \`node test/k8s/install.mjs\` ` +
      '(npm test does it; the first build takes many minutes)')
  }
  return p
}

// ---------------------------------------------------------------------------------------------
// process bookkeeping: every live instance is cleaned up synchronously at exit / on signals (exit-cleanup.ts)

function killAndWait(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise(resolve => {
    const timer = setTimeout(() => { try { child.kill('SIGKILL') } catch { /* gone */ } }, graceMs)
    child.once('exit', () => { clearTimeout(timer); resolve() })
    try { child.kill('SIGTERM') } catch { clearTimeout(timer); resolve() }
  })
}

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

/** n distinct free TCP ports on 127.0.0.1 (held open together, then released). */
async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = []
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer()
      await new Promise<void>((res, rej) => { s.once('error', rej); s.listen(0, '127.0.0.1', () => res()) })
      servers.push(s)
    }
    return servers.map(s => (s.address() as AddressInfo).port)
  } finally {
    await Promise.all(servers.map(s => new Promise<void>(r => s.close(() => r()))))
  }
}

function tail(file: string, lines = 30): string {
  try { return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') } catch { return '(no log)' }
}

interface HttpResult { status: number; body: string }
/** GET over http or https (by the URL), with the serving CA and a bearer token for https. */
function get(url: string, o: { ca?: string; token?: string; timeoutMs?: number } = {}): Promise<HttpResult> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = request(url, {
      ...(o.ca ? { ca: o.ca } : {}), timeout: o.timeoutMs ?? 2000,
      headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
    }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', d => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

function writeKubeconfig(path: string, server: string, caPem: string, user: string, token: string): void {
  // JSON is YAML: kubectl and @kubernetes/client-node read it as a kubeconfig
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'porter-test', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: user, context: { cluster: 'porter-test', user } }],
    'current-context': user,
  }
  writeFileSync(path, `${JSON.stringify(cfg, null, 2)}\n`, { mode: 0o600 })
}

function validName(name: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._:@-]*$/.test(name)) throw new Error(`invalid user name "${name}"`)
}

// ---------------------------------------------------------------------------------------------

class ApiServerInstance implements KubeApiServer, SyncCleanup {
  url = ''
  port = 0
  version = ''
  startupMs = 0
  readonly caFile: string
  readonly adminKubeconfig: string
  readonly children = new Set<ChildProcess>()
  readonly closers: (() => Promise<void> | void)[] = []
  readonly tokens = new Map<string, string>()
  private readonly kubeconfigs = new Map<string, string>()
  private stopped = false

  constructor(readonly dir: string, private readonly keepDir: boolean) {
    this.caFile = join(dir, 'serving.crt')
    this.adminKubeconfig = join(dir, 'kubeconfig-admin.json')
  }

  token(user: string): string {
    const t = this.tokens.get(user)
    if (!t) throw new Error(`user "${user}" was not declared in startKubeApiServer(..., { users })`)
    return t
  }

  kubeconfig(user: string): string {
    const token = this.token(user)
    let p = this.kubeconfigs.get(user)
    if (!p) {
      p = join(this.dir, `kubeconfig-${user.replace(/[^a-zA-Z0-9._-]/g, '_')}.json`)
      if (user !== 'admin' || !existsSync(p)) writeKubeconfig(p, this.url, readFileSync(this.caFile, 'utf8'), user, token)
      this.kubeconfigs.set(user, p)
    }
    return p
  }

  kubectl(args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
    const kc = this.kubeconfig(opts.user ?? 'admin')
    const full = ['--kubeconfig', kc, '--cache-dir', join(this.dir, 'kubectl-cache'), ...args]
    return new Promise((resolve, reject) => {
      const child = execFile(KUBECTL, full, {
        timeout: opts.timeoutMs ?? 60_000, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8',
      }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0
        if (err && !opts.allowFail) reject(new Error(`kubectl ${args.join(' ')} failed (${code}): ${stderr || stdout}`))
        else resolve({ stdout, stderr, code })
      })
      child.stdin?.end(opts.input ?? '')
    })
  }

  spawnLogged(label: string, bin: string, args: string[]): ChildProcess {
    const logFile = join(this.dir, `${label}.log`)
    const fd = openSync(logFile, 'a')
    try {
      // setpriv (util-linux) execs `bin` with PR_SET_PDEATHSIG: it is killed even when the test
      // process is SIGKILLed and no handler runs
      const child = existsSync(SETPRIV)
        ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', bin, ...args], { stdio: ['ignore', fd, fd], cwd: this.dir })
        : spawn(bin, args, { stdio: ['ignore', fd, fd], cwd: this.dir })
      this.children.add(child)
      child.once('exit', () => this.children.delete(child))
      child.on('error', () => { /* reported through exit/readiness */ })
      return child
    } finally {
      closeSync(fd)
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const c of this.closers.splice(0).reverse()) { try { await c() } catch { /* best effort */ } }
    // apiserver first (it would log etcd errors otherwise), then etcd
    const kids = [...this.children].reverse()
    for (const c of kids) await killAndWait(c)
    forgetAtExit(this)
    if (!this.keepDir) rmSync(this.dir, { recursive: true, force: true })
  }

  cleanupSync(): void {
    for (const c of this.children) { try { c.kill('SIGKILL') } catch { /* gone */ } }
    this.stopped = true
    forgetAtExit(this)
    if (!this.keepDir) { try { rmSync(this.dir, { recursive: true, force: true }) } catch { /* best effort */ } }
  }
}

const DIR_PREFIX = 'pt-kube-'

/** Removes temp dirs left by a test process that was SIGKILLed (its owner.pid is dead). */
function sweepStaleDirs(): void {
  try {
    for (const name of readdirSync(tmpdir())) {
      if (!name.startsWith(DIR_PREFIX)) continue
      const d = join(tmpdir(), name)
      let pid = 0
      try { pid = Number(readFileSync(join(d, 'owner.pid'), 'utf8')) } catch { continue }
      if (!(pid > 0)) continue
      try { process.kill(pid, 0); continue } catch (e) { if ((e as NodeJS.ErrnoException).code === 'EPERM') continue }
      rmSync(d, { recursive: true, force: true })
    }
  } catch { /* best effort */ }
}

/** Start etcd + kube-apiserver on 127.0.0.1; resolves once /readyz is ok and `default` exists. */
export async function startKubeApiServer(t: TeardownHost | undefined, opts: StartOptions = {}): Promise<KubeApiServer> {
  const bins = kubeBinaries()
  if (!existsSync(KUBECTL)) throw new Error(`${KUBECTL} is missing (Debian package kubernetes-client)`)
  // a bind failure (port taken between freePorts() and the bind) is retried with new ports
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(t, opts, bins)
    } catch (e) {
      if (attempt < 3 && e instanceof Error && /address already in use/i.test(e.message)) continue
      throw e
    }
  }
}

async function startOnce(t: TeardownHost | undefined, opts: StartOptions, bins: BinaryPaths): Promise<KubeApiServer> {
  const keepDir = opts.keepDir ?? process.env.PORTER_KEEP_KUBE_DIR === '1'
  sweepStaleDirs()
  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX))
  writeFileSync(join(dir, 'owner.pid'), `${process.pid}\n`)
  const api = new ApiServerInstance(dir, keepDir)
  cleanupAtExit(api)
  t?.teardown(() => api.stop())
  const t0 = Date.now()
  try {
    const [etcdClient, etcdPeer, apiPort] = await freePorts(3) as [number, number, number]
    api.port = apiPort
    api.url = `https://127.0.0.1:${apiPort}`

    // etcd: single member, loopback only, data in the temp dir, no fsync (throw-away data)
    const etcdUrl = `http://127.0.0.1:${etcdClient}`
    const peerUrl = `http://127.0.0.1:${etcdPeer}`
    const etcd = api.spawnLogged('etcd', bins.etcd, [
      '--name=porter-test',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=porter-test=${peerUrl}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ])

    const exited = (c: ChildProcess, label: string): Error | undefined =>
      c.exitCode !== null || c.signalCode !== null
        ? new Error(`${label} exited (${c.signalCode ?? c.exitCode}) during start-up:\n${tail(join(dir, `${label}.log`))}`)
        : undefined
    const deadline = Date.now() + (opts.timeoutMs ?? 90_000)

    // serving certificate: self-signed (it is its own CA), loopback SANs only
    const cert = api.caFile
    const key = join(dir, 'serving.key')
    const ossl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-nodes', '-keyout', key, '-out', cert, '-days', '7', '-subj', '/CN=porter-test-kube-apiserver',
      '-addext', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost'], { encoding: 'utf8' })
    if (ossl.status !== 0) throw new Error(`openssl req failed (Debian package openssl): ${ossl.stderr || ossl.error}`)
    const caPem = readFileSync(cert, 'utf8')

    // service-account signing key pair
    const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    writeFileSync(join(dir, 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
    writeFileSync(join(dir, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }))

    // static tokens: token,user,uid,"group1,group2"
    const users = [{ name: 'admin', groups: ['system:masters'] }, ...(opts.users ?? [])]
    const lines: string[] = []
    for (const u of users) {
      validName(u.name)
      if (api.tokens.has(u.name)) throw new Error(`user "${u.name}" declared twice`)
      const token = randomBytes(24).toString('hex')
      api.tokens.set(u.name, token)
      const groups = (u.groups ?? []).join(',')
      lines.push(`${token},${u.name},${randomUUID()}${groups ? `,"${groups}"` : ''}`)
    }
    writeFileSync(join(dir, 'tokens.csv'), `${lines.join('\n')}\n`, { mode: 0o600 })

    // etcd first: an apiserver that finds no etcd backs off its gRPC reconnects (slower start)
    for (;;) {
      const err = exited(etcd, 'etcd')
      if (err) throw err
      try { if ((await get(`${etcdUrl}/health`, { timeoutMs: 1000 })).status === 200) break } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error(`etcd not healthy in time:\n${tail(join(dir, 'etcd.log'))}`)
      await sleep(50)
    }
    const etcdMs = Date.now() - t0

    const apiserver = api.spawnLogged('kube-apiserver', bins.kubeApiServer, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      '--advertise-address=127.0.0.1',
      '--endpoint-reconciler-type=none', // the kubernetes Endpoints may not hold a loopback address
      `--cert-dir=${join(dir, 'certs')}`,
      `--tls-cert-file=${cert}`,
      `--tls-private-key-file=${key}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-cluster-ip-range=${opts.serviceClusterIpRange ?? '198.19.0.0/16'}`,
      '--disable-admission-plugins=ServiceAccount', // needs the token controller (no controller-manager)
      '--profiling=false',
      '--v=1',
      ...(opts.extraArgs ?? []),
    ])

    const adminToken = api.token('admin')
    let last = ''
    for (;;) {
      const err = exited(etcd, 'etcd') ?? exited(apiserver, 'kube-apiserver')
      if (err) throw err
      try {
        const r = await get(`${api.url}/readyz`, { ca: caPem })
        last = `/readyz ${r.status}: ${r.body.slice(0, 300)}`
        if (r.status === 200 && r.body.trim() === 'ok') {
          const ns = await get(`${api.url}/api/v1/namespaces/default`, { ca: caPem, token: adminToken })
          last = `namespace default: ${ns.status}`
          if (ns.status === 200) break
        }
      } catch (e) {
        last = e instanceof Error ? e.message : String(e)
      }
      if (Date.now() > deadline) {
        let etcdHealth = ''
        try { etcdHealth = (await get(`${etcdUrl}/health`, { timeoutMs: 1000 })).body } catch (e) { etcdHealth = String(e) }
        throw new Error(`kube-apiserver not ready after ${opts.timeoutMs ?? 90_000} ms (last: ${last}; etcd /health: ${etcdHealth})\n` +
          `${tail(join(dir, 'kube-apiserver.log'))}`)
      }
      await sleep(100)
    }
    api.startupMs = Date.now() - t0
    try { api.version = JSON.parse((await get(`${api.url}/version`, { ca: caPem })).body).gitVersion } catch { /* informational */ }
    writeKubeconfig(api.adminKubeconfig, api.url, caPem, 'admin', adminToken)
    process.stderr.write(`[kube-apiserver] ${api.version} (etcd ${bins.etcdVersion}) ready at ${api.url} in ` +
      `${(api.startupMs / 1000).toFixed(1)} s (etcd ${(etcdMs / 1000).toFixed(1)} s), dir ${dir}\n`)
    return api
  } catch (e) {
    await api.stop() // the error already carries the log tail
    throw e
  }
}

// ---------------------------------------------------------------------------------------------
// reaching the apiserver from inside a network namespace, without touching host interfaces

export interface NetnsForward {
  /** https://127.0.0.1:<port>, valid inside the namespace only */
  url: string
  /** kubeconfig path (for use inside the namespace) of a user declared at start */
  kubeconfig(user: string): string
  /** stops the forwarders (stop() of the API server does it too) */
  stop(): Promise<void>
}

// A relay process: listens on `listen` (a TCP port on 127.0.0.1, or a unix socket path) and pipes
// every connection to `target` (same forms). Two of them per forward: on the host, unix socket ->
// the apiserver's loopback port; inside the namespace (`ip netns exec`), the namespace's own
// 127.0.0.1:<port> -> that unix socket (unix sockets are not network-namespaced). Separate
// processes, so a test that blocks its event loop (execFileSync curl ...) still gets answers.
// Each exits when its stdin closes, i.e. when the test process dies however it dies.
const RELAY = `
const net = require('node:net')
const fs = require('node:fs')
const spec = s => /^\\d+$/.test(s) ? { port: Number(s), host: '127.0.0.1' } : { path: s }
const [listen, target] = process.argv.slice(1).map(spec)
const srv = net.createServer(c => {
  const u = net.connect(target)
  c.pipe(u); u.pipe(c)
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy())
  c.on('close', () => u.destroy()); u.on('close', () => c.destroy())
})
srv.on('error', e => { console.error(String(e)); process.exit(1) })
if (listen.path) fs.rmSync(listen.path, { force: true })
srv.listen(listen, () => console.log('listening'))
process.stdin.on('end', () => process.exit(0)); process.stdin.on('error', () => process.exit(0)); process.stdin.resume()
`

/** Start a RELAY (optionally inside netns `ns`) and wait until it listens. */
async function startRelay(api: ApiServerInstance, label: string, listen: string, target: string, ns?: string): Promise<ChildProcess> {
  const logFile = join(api.dir, `${label}.log`)
  const fd = openSync(logFile, 'a')
  let c: ChildProcess
  try {
    const cmd = [process.execPath, '-e', RELAY, listen, target]
    c = ns ? spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['pipe', 'pipe', fd] })
      : spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', fd] })
  } finally { closeSync(fd) }
  api.children.add(c)
  c.once('exit', () => api.children.delete(c))
  c.on('error', () => { /* reported by exit */ })
  try {
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`${label} did not start: ${tail(logFile)}`)), 10_000)
      c.stdout!.on('data', d => {
        out += d
        if (out.includes('listening')) { clearTimeout(timer); resolve() }
      })
      c.once('exit', code => { clearTimeout(timer); reject(new Error(`${label} exited (${code}): ${tail(logFile)}`)) })
    })
  } catch (e) {
    await killAndWait(c, 1000)
    throw e
  }
  c.stdout!.resume()
  return c
}

/**
 * Makes `api` reachable inside network namespace `ns` at https://127.0.0.1:<port> (the
 * namespace's own loopback): a relay on the host from a unix socket in the API server's dir to the
 * apiserver's loopback port, and a relay started with `ip netns exec <ns>` from the namespace's
 * 127.0.0.1:<port> to that socket. Brings the namespace's `lo` up (a new namespace has it down).
 * No host interface, route or rule is touched. The serving certificate covers 127.0.0.1, so the
 * returned kubeconfigs verify it with the CA.
 */
export async function forwardIntoNetns(api: KubeApiServer, ns: string, port = 6443): Promise<NetnsForward> {
  if (!(api instanceof ApiServerInstance)) throw new Error('forwardIntoNetns needs an instance from startKubeApiServer')
  if (!existsSync(join('/run/netns', ns))) throw new Error(`network namespace "${ns}" does not exist`)
  const tag = `${ns}-${port}`.replace(/[^a-zA-Z0-9._-]/g, '_')
  const sockPath = join(api.dir, `fwd-${tag}.sock`)

  const lo = spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up'], { encoding: 'utf8' })
  if (lo.status !== 0) throw new Error(`ip -n ${ns} link set lo up: ${lo.stderr}`)
  const host = await startRelay(api, `fwd-${tag}-host`, sockPath, String(api.port))
  let inner: ChildProcess
  try {
    inner = await startRelay(api, `fwd-${tag}-netns`, String(port), sockPath, ns)
  } catch (e) {
    await killAndWait(host, 1000)
    throw e
  }

  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    for (const c of [inner, host]) {
      c.stdin?.end()
      await killAndWait(c, 2000)
    }
    rmSync(sockPath, { force: true })
  }
  api.closers.push(stop)
  const url = `https://127.0.0.1:${port}`
  const kubeconfigs = new Map<string, string>()
  return {
    url,
    stop,
    kubeconfig(user: string): string {
      const token = api.token(user)
      let p = kubeconfigs.get(user)
      if (!p) {
        p = join(api.dir, `kubeconfig-${user.replace(/[^a-zA-Z0-9._-]/g, '_')}-${tag}.json`)
        writeKubeconfig(p, url, readFileSync(api.caFile, 'utf8'), user, token)
        kubeconfigs.set(user, p)
      }
      return p
    },
  }
}
