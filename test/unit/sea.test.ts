// The single executable: `npm run build` (always: it takes seconds and is right on a fresh clone
// where dist/ does not exist), then dist/porter copied ALONE into an empty directory with no
// node_modules above it, run from there: version, validate, and the embedded netlink addon
// loaded and used inside a network namespace made here.
import t from 'tap'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, parse } from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()
  } catch {
    return 'unknown'
  }
}

// Build first, from an unrelated working directory (the build must not depend on it).
// HEAD read before and after: other commits may land while the build runs.
const commitBefore = gitCommit()
const buildCwd = mkdtempSync(join(tmpdir(), 'porter-build-cwd-'))
const build = spawnSync('npm', ['--prefix', ROOT, 'run', 'build'], { cwd: buildCwd, encoding: 'utf8', timeout: 600_000 })
rmSync(buildCwd, { recursive: true, force: true })
const commits = [...new Set([commitBefore, gitCommit()])]
const DIST_PORTER = join(ROOT, 'dist', 'porter')

const dir = mkdtempSync(join(tmpdir(), 'porter-sea-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: dir, LANG: 'C' } // no NODE_PATH, no npm_*
const run = (args: string[], extra: NodeJS.ProcessEnv = {}, cmd = './porter', pre: string[] = []) =>
  spawnSync(cmd, [...pre, ...args], { cwd: dir, env: { ...env, ...extra }, encoding: 'utf8', timeout: 60_000 })

t.test('npm run build produces dist/porter', async (t) => {
  t.equal(build.status, 0, build.status === 0 ? 'build exits 0' : `build failed:\n${build.stderr}`)
  t.match(build.stdout, /dist\/porter: \d+(\.\d+)? MiB, built in \d+(\.\d+)? s/, 'prints size and time')
  t.ok(existsSync(DIST_PORTER), 'dist/porter exists')
  t.equal(statSync(DIST_PORTER).mode & 0o777, 0o755, 'mode 755')
  copyFileSync(DIST_PORTER, join(dir, 'porter'))
  execFileSync('chmod', ['755', join(dir, 'porter')])
})

t.test('copied alone into an empty directory with no node_modules above it', async (t) => {
  t.same(readdirSync(dir), ['porter'], 'the directory holds only the binary')
  for (let d = dir; ; d = dirname(d)) {
    t.notOk(existsSync(join(d, 'node_modules')), `no ${join(d, 'node_modules')}`)
    if (d === parse(d).root) break
  }
})

t.test('porter version: exit 0, version from package.json and the git commit', async (t) => {
  const r = run(['version'])
  t.equal(r.status, 0, r.stderr)
  t.ok(commits.some((c) => r.stdout.trim() === `porter ${pkg.version} (commit ${c}, node ${process.version})`), `prints version ${pkg.version} and commit ${commits.join(' or ')}: ${r.stdout}`)
  const j = run(['version', '--json'])
  t.equal(j.status, 0, j.stderr)
  const info = JSON.parse(j.stdout) as { version: string; commit: string; node: string }
  t.same({ version: info.version, node: info.node }, { version: pkg.version, node: process.version })
  t.ok(commits.includes(info.commit), `commit ${info.commit} is HEAD at build time (${commits.join(' or ')})`)
})

t.test('porter validate: a valid config exits 0, an invalid one exits 2 with line:column', async (t) => {
  writeFileSync(
    join(dir, 'porter.yaml'),
    [
      'admin: { socket: ./porter.sock }',
      'bgp:',
      '  localAs: 64512',
      '  routerId: 192.0.2.1',
      '  peers:',
      '    - { address: 192.0.2.254, peerAs: 64513 }',
      'vips:',
      '  - { name: web, address: 203.0.113.10, nextHops: [198.51.100.11] }',
      '',
    ].join('\n'),
  )
  const r = run(['validate', '--config', 'porter.yaml'])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /^porter\.yaml: valid/)
  writeFileSync(join(dir, 'bad.yaml'), 'bgp:\n  localAs: 64512\n  routerId: 1.2.3\n')
  const b = run(['validate', '--config', 'bad.yaml'])
  t.equal(b.status, 2, 'invalid config exits 2')
  t.match(b.stderr, /^bad\.yaml:3:13: bgp\.routerId: "1\.2\.3" is not an IPv4 address/m)
})

t.test('the embedded netlink addon loads and works inside the SEA (in a private namespace)', async (t) => {
  t.equal(process.getuid?.(), 0, 'run as root (CI is root): the check runs in a network namespace')
  const ns = `pt-${randomBytes(4).toString('hex')}`
  execFileSync('ip', ['netns', 'add', ns])
  t.teardown(() => {
    try {
      execFileSync('ip', ['netns', 'del', ns])
    } catch {}
  })
  const r = run([], { PORTER_SELFTEST_NATIVE: '1' }, 'ip', ['netns', 'exec', ns, './porter'])
  t.equal(r.status, 0, `self-test exits 0: ${r.stdout}${r.stderr}`)
  const out = JSON.parse(r.stdout) as { ok: boolean; sea: boolean; addons: { name: string; source: string; path: string; exports: string[] }[]; netlink: { links: string[] }; sys: { md5: boolean; notified: boolean } }
  t.equal(out.ok, true)
  t.equal(out.sea, true, 'running as a single executable')
  t.equal(out.addons.length, 2)
  t.match(out.addons[0], { name: 'netlink', source: 'sea-asset', exports: ['NativeNetlink'] })
  t.match(out.addons[1], { name: 'koffi', source: 'sea-asset' })
  for (const a of out.addons) t.notOk(existsSync(dirname(a.path)), `the private copy of ${a.name} is gone`)
  t.same(out.netlink.links, ['lo'], "the netlink package dumped the namespace's links through the embedded addon")
  t.same(out.sys, { md5: true, notified: false }, 'the koffi package set a TCP MD5 key through the embedded addon; no NOTIFY_SOCKET, no notification')
  t.same(readdirSync(dir).sort(), ['bad.yaml', 'porter', 'porter.yaml'], 'nothing written beside the binary')
})

t.test('the embedded koffi sends a systemd notification to NOTIFY_SOCKET', async (t) => {
  const sockDir = mkdtempSync(join(tmpdir(), 'porter-sea-notify-'))
  t.teardown(() => rmSync(sockDir, { recursive: true, force: true }))
  const sock = join(sockDir, 'notify.sock')
  // python3 receives one datagram and prints it
  const rx = spawn('python3', ['-c', 'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("ready",flush=True)\ns.settimeout(20)\nsys.stdout.write(s.recv(4096).decode())', sock], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => rx.kill())
  let got = ''
  rx.stdout!.setEncoding('utf8').on('data', (d: string) => (got += d))
  await new Promise<void>((resolve) => rx.stdout!.on('data', () => got.startsWith('ready\n') && resolve()))
  const r = run([], { PORTER_SELFTEST_NATIVE: '1', NOTIFY_SOCKET: sock })
  t.equal(r.status, 0, `self-test exits 0: ${r.stdout}${r.stderr}`)
  t.match(JSON.parse(r.stdout), { ok: true, sea: true, sys: { md5: true, notified: true } })
  await new Promise((resolve) => rx.once('exit', resolve))
  t.equal(got, 'ready\nPORTER_SELFTEST=1', 'the receiver got exactly the notification')
})
