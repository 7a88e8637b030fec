// internal/sys/notify.ts: sdNotify against a real AF_UNIX datagram receiver (python3), from a
// child process as systemd would see it (path and abstract sockets), and watchdogInterval.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { notifySockaddr, sdNotify, watchdogInterval } from '../../internal/sys/index.ts'
import { PorterError } from '../../internal/errors/index.ts'
import { receiver } from '../lib/notify-receiver.ts'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const NOTIFY_TS = join(ROOT, 'internal', 'sys', 'notify.ts')

/** A child Porter-like process that calls sdNotify(state) and prints the result as JSON. */
function notifyChild(env: NodeJS.ProcessEnv, ...states: string[]): { code: number | null; results: unknown; pid: number | undefined; stderr: string } {
  const code = `import { sdNotify } from ${JSON.stringify(NOTIFY_TS)}\nconst states = JSON.parse(process.argv[1])\nconsole.log(JSON.stringify({ pid: process.pid, results: states.map((s) => sdNotify(s)) }))`
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, JSON.stringify(states)], {
    cwd: ROOT, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 30_000,
  })
  let parsed: { pid?: number; results?: unknown } = {}
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed
  } catch {}
  return { code: r.status, results: parsed.results, pid: parsed.pid, stderr: r.stderr }
}

t.test('a path socket receives exactly "READY=1", from the child\'s own pid', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'porter-notify-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const sock = join(dir, 'notify')
  const rx = await receiver(t, sock, 1)
  const c = notifyChild({ NOTIFY_SOCKET: sock }, 'READY=1')
  t.equal(c.code, 0, c.stderr)
  t.same(c.results, [true], 'sdNotify returned true')
  const got = await rx.done
  t.same(got, [{ data: 'READY=1', pid: c.pid }], 'one datagram "READY=1" with the sender pid systemd checks (NotifyAccess=main)')
})

t.test('an abstract socket ("@name") receives several messages in order', async (t) => {
  const name = `@porter-test-${randomBytes(6).toString('hex')}`
  const rx = await receiver(t, name, 3)
  const c = notifyChild({ NOTIFY_SOCKET: name }, 'READY=1\nSTATUS=2 peers established', 'WATCHDOG=1', 'STOPPING=1')
  t.equal(c.code, 0, c.stderr)
  t.same(c.results, [true, true, true])
  t.same((await rx.done).map((r) => r.data), ['READY=1\nSTATUS=2 peers established', 'WATCHDOG=1', 'STOPPING=1'])
})

t.test('NOTIFY_SOCKET unset or empty: false, nothing sent, no error', async (t) => {
  t.equal(sdNotify('READY=1', {}), false)
  t.equal(sdNotify('READY=1', { NOTIFY_SOCKET: '' }), false)
  const c = notifyChild({}, 'READY=1')
  t.equal(c.code, 0, c.stderr)
  t.same(c.results, [false], 'in a child without the variable')
})

t.test('errors: nobody listening, unsupported or too long addresses', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'porter-notify-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  t.throws(() => sdNotify('READY=1', { NOTIFY_SOCKET: join(dir, 'absent') }), {
    code: 'PORTER_ERR_SD_NOTIFY', errno: 2, syscall: 'sendto',
    message: `Cannot notify systemd at NOTIFY_SOCKET=${JSON.stringify(join(dir, 'absent'))}: sendto failed with ENOENT (errno 2)`,
  })
  t.throws(() => sdNotify('READY=1', { NOTIFY_SOCKET: `@porter-absent-${randomBytes(6).toString('hex')}` }), { code: 'PORTER_ERR_SD_NOTIFY', errno: 111, message: /ECONNREFUSED/ })
  t.throws(() => sdNotify('READY=1', { NOTIFY_SOCKET: 'vsock:2:1234' }), { code: 'PORTER_ERR_SD_NOTIFY', message: /only an absolute path or an "@" abstract name is supported$/ })
  t.throws(() => sdNotify('READY=1', { NOTIFY_SOCKET: `/${'x'.repeat(107)}` }), { message: /longer than 107 bytes$/ })
  let err: unknown
  try {
    sdNotify('READY=1', { NOTIFY_SOCKET: 'relative/path' })
  } catch (e) {
    err = e
  }
  t.type(err, PorterError)
})

t.test('sockaddr_un bytes: family, path with its NUL; abstract name after a NUL, none after', async (t) => {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
  t.equal(hex(notifySockaddr('/run/n')), '0100' + Buffer.from('/run/n').toString('hex') + '00')
  t.equal(hex(notifySockaddr('@sd')), '0100' + '00' + Buffer.from('sd').toString('hex'))
  t.equal(notifySockaddr(`/${'x'.repeat(106)}`).length, 2 + 108, 'the longest path fills sun_path')
})

t.test('watchdogInterval: half of WATCHDOG_USEC in ms, for this pid only', async (t) => {
  const steps: [NodeJS.ProcessEnv, number | undefined, string][] = [
    [{}, undefined, 'no watchdog'],
    [{ WATCHDOG_USEC: '30000000' }, 15_000, '30 s -> every 15 s'],
    [{ WATCHDOG_USEC: '3000' }, 1.5, '3 ms -> 1.5 ms'],
    [{ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '4242' }, 15_000, 'for this pid'],
    [{ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '4243' }, undefined, 'for another pid'],
    [{ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '' }, 15_000, 'empty pid counts as unset'],
    [{ WATCHDOG_USEC: '0' }, undefined, 'zero'],
    [{ WATCHDOG_USEC: '-5' }, undefined, 'negative'],
    [{ WATCHDOG_USEC: '1e6' }, undefined, 'not an integer'],
    [{ WATCHDOG_USEC: '99999999999999999999' }, undefined, 'too large'],
    [{ WATCHDOG_PID: '4242' }, undefined, 'pid without interval'],
  ]
  t.ok(steps.length > 0)
  for (const [env, want, what] of steps) t.equal(watchdogInterval(env, 4242), want, what)
  t.equal(watchdogInterval({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: String(process.pid) }), 1000, 'defaults to process.pid')
})
