// admin.metricsAddress through the CLI (from source, loopback only, no BGP peers): prom-client
// is loaded by the daemon modes only; a bound address is a start-up error naming the address
// and errno; the listener serves while the controller runs and goes away with it.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { MAIN, ROOT, porterSpawn, tempDir } from '../lib/cli.ts'
import { waitFor } from '../lib/wait.ts'
import { parsePromText, promValue } from '../lib/prom-text.ts'

const { dir, cleanup } = tempDir('porter-metrics-cli-')
t.teardown(cleanup)

// prints how many prom-client files were loaded when the process exits
const probe = join(dir, 'probe.mjs')
writeFileSync(probe, [
  "import { createRequire } from 'node:module'",
  "const Module = createRequire(import.meta.url)('module')",
  "process.on('exit', () => process.stderr.write(`PROM-CLIENT-FILES ${Object.keys(Module._cache).filter((k) => k.includes('/node_modules/prom-client/')).length}\\n`))",
  '',
].join('\n'))
const NODE = [process.execPath, '--import', 'tsx', '--import', probe, MAIN]
const promFiles = (out: string) => Number(/PROM-CLIENT-FILES (\d+)/.exec(out)?.[1] ?? NaN)

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen({ host: '127.0.0.1', port: 0 }, r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

function config(name: string, metricsAddress: string): string {
  const file = join(dir, `${name}.yaml`)
  writeFileSync(file, [
    `admin: { socket: ${join(dir, `${name}.sock`)}, metricsAddress: "${metricsAddress}" }`,
    'shutdownTimeout: 5s',
    'bgp: { localAs: 65002, routerId: 192.0.2.2, listenPort: 0 }',
    'vips:',
    '  - { name: web, address: 203.0.113.10, nextHops: [198.51.100.11] }',
    '',
  ].join('\n'))
  return file
}

const http = async (port: number, path: string) => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: r.status, body: await r.text() }
}

t.test('porter version does not load prom-client', async (t) => {
  const r = spawnSync(NODE[0]!, [...NODE.slice(1), 'version'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  t.equal(r.status, 0, r.stderr)
  t.equal(promFiles(r.stderr), 0, `no prom-client module loaded: ${r.stderr}`)
})

t.test('controller with admin.metricsAddress: served while running, gone after SIGTERM', async (t) => {
  const port = await freePort()
  const p = porterSpawn(['controller', '--config', config('ok', `127.0.0.1:${port}`)], {}, NODE)
  t.teardown(() => { p.child.kill('SIGKILL') })
  await waitFor(async () => (await http(port, '/readyz').catch(() => undefined))?.status === 200, { timeoutMs: 20_000, what: 'readyz 200' })
  t.same(await http(port, '/healthz'), { status: 200, body: 'ok\n' })
  t.same(await http(port, '/readyz'), { status: 200, body: 'ok\n' })
  t.equal((await http(port, '/nope')).status, 404)
  const m = parsePromText((await http(port, '/metrics')).body)
  t.equal(promValue(m, 'porter_vip_announced', { vip: '203.0.113.10' }), 1)
  t.equal(promValue(m, 'porter_vip_nexthop_healthy', { vip: '203.0.113.10', nexthop: '198.51.100.11' }), 1, 'no check: healthy')
  t.equal(promValue(m, 'porter_ready'), 1)
  t.ok(m.samples.some((s) => s.name === 'porter_process_start_time_seconds'), 'default process metrics')
  t.ok(p.lines().some((l) => l.includes('"msg":"metrics listening: /metrics, /healthz, /readyz"') && l.includes(`127.0.0.1:${port}`)), 'logged')
  p.child.kill('SIGTERM')
  t.equal(await p.exited, 0)
  t.ok(promFiles(p.lines().join('\n')) > 0, 'the daemon loaded prom-client')
  await t.rejects(http(port, '/healthz'), 'the listener is closed')
})

t.test('an address in use: exit 1, PORTER_ERR_METRICS_LISTEN naming the address and errno, nothing left running', async (t) => {
  const blocker = createServer()
  await new Promise<void>((r) => blocker.listen({ host: '127.0.0.1', port: 0 }, r))
  t.teardown(() => new Promise<void>((r) => blocker.close(() => r())))
  const address = `127.0.0.1:${(blocker.address() as { port: number }).port}`
  const p = porterSpawn(['controller', '--config', config('busy', address)], {}, NODE)
  t.teardown(() => { p.child.kill('SIGKILL') })
  t.equal(await p.exited, 1, 'exit 1 (runtime failure)')
  const fatal = p.lines().filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; msg: string; error?: { code: string; message: string } }).find((l) => l.level === 'fatal')
  t.equal(fatal?.msg, 'controller failed to start')
  t.equal(fatal?.error?.code, 'PORTER_ERR_METRICS_LISTEN')
  t.match(fatal?.error?.message, `Cannot listen for metrics on admin.metricsAddress "${address}": EADDRINUSE`)
  t.notOk(p.lines().some((l) => l.includes('"msg":"controller running"')), 'the controller never started')
})
