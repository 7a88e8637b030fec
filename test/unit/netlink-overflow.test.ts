// netlink@0.3.0 aborted the process when its socket overflowed (patches/netlink+0.3.0.patch).
// A child node process, inside a network namespace made here, subscribes to IPv4 route
// notifications with the smallest receive buffer and blocks its event loop while thousands of
// routes from 198.18.0.0/15 are added to lo in that namespace: the queue must overflow. The
// patched addon (built from source by postinstall) must report ENOBUFS as an 'error' event and
// keep a working socket; the package's shipped prebuild, under the same flood, aborts (the
// control that proves the flood reaches the overflow path).
import t, { type Test } from 'tap'
import { spawnSync, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { constants, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const NETLINK_DIR = dirname(createRequire(join(ROOT, 'package.json')).resolve('netlink/package.json'))
const ROUTES = 4000

// The child: CommonJS, loads the project's netlink package, prints one JSON line.
const CHILD = String.raw`
const { createRtNetlink } = require(process.env.NETLINK_DIR)
const { execFileSync } = require('node:child_process')
const ngb = require(require.resolve('node-gyp-build', { paths: [process.env.NETLINK_DIR] }))
const out = { binding: ngb.resolve(process.env.NETLINK_DIR), errors: [], routes: -1 }
const rt = createRtNetlink()
rt.socket.setRecvBufferSize(1) // the kernel rounds up to its minimum (about 2 KiB)
out.rcvbuf = rt.socket.getRecvBufferSize()
if (!process.env.NO_LISTENER) rt.socket.on('error', (e) => out.errors.push({ message: e.message, errno: e.errno, code: e.code, syscall: e.syscall }))
rt.addMembership('IPV4_ROUTE')
const N = Number(process.env.ROUTES)
const batch = []
for (let i = 0; i < N; i++) batch.push('route add 198.18.' + (i >> 8) + '.' + (i & 255) + '/32 dev lo')
// the event loop is blocked while the kernel queues N notifications
execFileSync('ip', ['-batch', '-'], { input: batch.join('\n') + '\n' })
const deadline = Date.now() + 10000
const tick = async () => {
  if (out.errors.length === 0 && Date.now() < deadline) return setTimeout(tick, 20)
  // the socket must still work: raise the buffer and dump the routes back
  rt.socket.setRecvBufferSize(4 << 20)
  const routes = await rt.getRoutes({ family: 2 }, {}, { timeout: 20000 })
  // attrs.dst is a Buffer of the address bytes; count 198.18.0.0/15 host routes
  out.routes = routes.filter((r) => r.data.dstLen === 32 && r.attrs.dst && r.attrs.dst[0] === 198 && (r.attrs.dst[1] & 0xfe) === 18).length
  rt.socket.close()
  process.stdout.write(JSON.stringify(out) + '\n')
}
tick()
`

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

interface ChildOut {
  binding: string
  rcvbuf: number
  errors: { message: string; errno: number; code: string; syscall?: string }[]
  routes: number
}

/** A fresh namespace with lo up, deleted in teardown (even when the test fails). */
function namespace(tt: Test): string {
  const ns = `pt-${randomBytes(4).toString('hex')}`
  ip('netns', 'add', ns)
  tt.teardown(() => {
    try {
      ip('netns', 'del', ns)
    } catch {}
  })
  ip('-n', ns, 'link', 'set', 'lo', 'up')
  return ns
}

function runChild(tt: Test, ns: string, env: NodeJS.ProcessEnv) {
  const dir = mkdtempSync(join(tmpdir(), 'porter-nlflood-'))
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const script = join(dir, 'flood.cjs')
  writeFileSync(script, CHILD)
  // ulimit -c 0: the control run aborts and must not leave a core file behind
  return spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', 'ulimit -c 0; exec "$0" "$1"', process.execPath, script], {
    cwd: dir,
    env: { ...process.env, NETLINK_DIR, ROUTES: String(ROUTES), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  })
}

t.test('needs root for network namespaces', async (tt) => {
  tt.equal(process.getuid?.(), 0, 'run as root (CI is root): the test makes a network namespace')
})

t.test('patched addon reports ENOBUFS and the socket survives the overflow', async (tt) => {
  const ns = namespace(tt)
  const r = runChild(tt, ns, {})
  tt.equal(r.signal, null, `child not killed by a signal (stderr: ${r.stderr})`)
  tt.equal(r.status, 0, `child exits 0 (stderr: ${r.stderr})`)
  const out = JSON.parse(r.stdout.trim()) as ChildOut
  tt.equal(out.binding, join(NETLINK_DIR, 'build', 'Release', 'netlink_binding.node'), 'node-gyp-build picks the addon built from patched source, not prebuilds/')
  tt.ok(out.rcvbuf < 8192, `receive buffer is tiny (${out.rcvbuf} bytes)`)
  tt.ok(out.errors.length >= 1, 'an error event was emitted')
  const e = out.errors[0]!
  tt.equal(e.errno, constants.errno.ENOBUFS, 'errno is ENOBUFS')
  tt.equal(e.code, 'ENOBUFS')
  tt.equal(e.syscall, 'recvmsg')
  tt.match(e.message, /no buffer space available/i)
  tt.equal(out.routes, ROUTES, 'after the overflow the same socket dumps every route that was added')
})

t.test('without an error listener the overflow is an ordinary uncaught exception, not an abort', async (tt) => {
  const ns = namespace(tt)
  const r = runChild(tt, ns, { NO_LISTENER: '1' })
  tt.equal(r.signal, null, 'not killed by a signal')
  tt.equal(r.status, 1, "exit 1: Node's uncaught-exception path")
  tt.match(r.stderr, /Error when receiving Netlink message: no buffer space available/)
  tt.match(r.stderr, /code: 'ENOBUFS'/)
})

t.test('control: the shipped prebuild aborts under the same flood', async (tt) => {
  const prebuilds = join(NETLINK_DIR, 'prebuilds')
  tt.ok(existsSync(join(prebuilds, `linux-${process.arch}`, 'node.napi.node')), 'netlink ships a prebuild for this arch')
  // node-gyp-build honours NETLINK_PREBUILD=<dir>: a dir with only prebuilds/ in it
  const alt = mkdtempSync(join(tmpdir(), 'porter-nlprebuild-'))
  tt.teardown(() => rmSync(alt, { recursive: true, force: true }))
  symlinkSync(prebuilds, join(alt, 'prebuilds'))
  const ns = namespace(tt)
  const r = runChild(tt, ns, { NETLINK_PREBUILD: alt })
  tt.equal(r.signal, 'SIGABRT', `unpatched binding aborts (status ${r.status}, stderr: ${r.stderr.slice(0, 300)})`)
  tt.match(r.stderr, /terminate called/, 'std::terminate from the NULL syscall name')
})
