import t from 'tap'
import { writeFileSync, statSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { porterSync, porterSpawn, tempDir } from '../lib/cli.ts'
import { waitFor } from '../lib/wait.ts'
import { adminRequest } from '../../internal/admin/index.ts'

const validConfig = (sock: string, extra = '') => `
admin: { socket: ${sock} }
shutdownTimeout: 5s
bgp:
  localAs: 64512
  routerId: 192.0.2.1
  listenAddress: 127.0.0.1
  listenPort: 0
  peers:
    - { address: 127.0.0.2, peerAs: 64513, passive: true }
vips:
  - { name: web, address: 203.0.113.10, nextHops: [198.51.100.11] }
${extra}`

t.test('version prints version, commit and node, exit 0', async (t) => {
  const r = porterSync(['version'])
  t.equal(r.code, 0)
  t.match(r.stdout, /^porter \d+\.\d+\.\d+ \(commit [0-9a-f]+|unknown, node v20\.\d+\.\d+\)/)
  const j = porterSync(['version', '--json'])
  t.equal(j.code, 0)
  t.match(JSON.parse(j.stdout), { version: /^\d+\.\d+\.\d+$/, node: process.version })
})

t.test('usage errors exit 2', async (t) => {
  t.equal(porterSync([]).code, 2)
  const u = porterSync(['frobnicate'])
  t.equal(u.code, 2)
  t.match(u.stderr, 'unknown command "frobnicate"')
  const f = porterSync(['version', '--config', 'x'])
  t.equal(f.code, 2)
  t.match(f.stderr, 'unknown flag --config')
  const g = porterSync(['validate', '--nope'])
  t.equal(g.code, 2)
})

t.test('--help on every command exits 0', async (t) => {
  for (const c of ['controller', 'agent', 'status', 'validate', 'version']) {
    const r = porterSync([c, '--help'])
    t.equal(r.code, 0, c)
    t.match(r.stdout, `Usage: porter ${c}`)
  }
  t.equal(porterSync(['--help']).code, 0)
})

t.test('validate: valid config exit 0 with summary, invalid exit 2 with errors, missing file exit 2', async (t) => {
  const { dir, cleanup } = tempDir()
  t.teardown(cleanup)
  const ok = join(dir, 'porter.yaml')
  writeFileSync(ok, validConfig(join(dir, 's.sock')))
  const r = porterSync(['validate', '--config', ok])
  t.equal(r.code, 0)
  t.match(r.stdout, 'bgp: AS 64512, router id 192.0.2.1')
  const viaEnv = porterSync(['validate'], { PORTER_CONFIG: ok })
  t.equal(viaEnv.code, 0, 'PORTER_CONFIG is honoured')
  const bad = join(dir, 'bad.yaml')
  writeFileSync(bad, 'bgp:\n  localAs: 64512\n  routerId: 192.0.2.1\n  peers:\n    - address: 10.0.0.256\n      peerAs: 1\n')
  const b = porterSync(['validate', '--config', bad])
  t.equal(b.code, 2)
  t.match(b.stderr, 'bad.yaml:5:16: bgp.peers[0].address: "10.0.0.256" is not an IP address')
  const m = porterSync(['validate', '--config', join(dir, 'absent.yaml')])
  t.equal(m.code, 2)
  t.match(m.stderr, 'Cannot read config')
})

t.test('controller with an invalid config starts nothing and exits 2', async (t) => {
  const { dir, cleanup } = tempDir()
  t.teardown(cleanup)
  const bad = join(dir, 'bad.yaml')
  writeFileSync(bad, `admin: { socket: ${join(dir, 's.sock')} }\nbgp: { localAs: 0, routerId: 192.0.2.1 }\n`)
  const r = porterSync(['controller', '--config', bad])
  t.equal(r.code, 2)
  t.match(r.stderr, 'nothing was started')
  t.notOk(existsSync(join(dir, 's.sock')), 'no admin socket was created')
})

t.test('status without a running porter exits 1 with a hint', async (t) => {
  const { dir, cleanup } = tempDir()
  t.teardown(cleanup)
  const r = porterSync(['status', '--socket', join(dir, 'none.sock')])
  t.equal(r.code, 1)
  t.match(r.stderr, 'is porter running?')
})

t.test('controller: admin socket 0600, status, SIGHUP with bad config keeps running, good reload applies, SIGTERM exits 0', async (t) => {
  const { dir, cleanup } = tempDir()
  t.teardown(cleanup)
  const sock = join(dir, 'porter.sock')
  const cfg = join(dir, 'porter.yaml')
  writeFileSync(cfg, validConfig(sock))
  const p = porterSpawn(['controller', '--config', cfg])
  t.teardown(() => { p.child.kill('SIGKILL') })
  await waitFor(() => existsSync(sock), { what: 'admin socket', intervalMs: 50 })
  t.equal(statSync(sock).mode & 0o777, 0o600, 'socket is 0600')
  const st = (await waitFor(() => adminRequest(sock, { cmd: 'status' }), { what: 'status', intervalMs: 50 })) as Record<string, unknown>
  t.equal(st.mode, 'controller')
  t.equal((st.vips as unknown[]).length, 1)
  const text = porterSync(['status', '--socket', sock])
  t.equal(text.code, 0)
  t.match(text.stdout, /PEERS[\s\S]*127\.0\.0\.2[\s\S]*VIPS[\s\S]*203\.0\.113\.10/)
  const json = porterSync(['status', '--config', cfg, '--json'])
  t.equal(json.code, 0)
  t.equal(JSON.parse(json.stdout).mode, 'controller')

  // a bad config on SIGHUP is rejected, the old one keeps running
  writeFileSync(cfg, validConfig(sock).replace('localAs: 64512', 'localAs: -5'))
  p.child.kill('SIGHUP')
  const after = (await waitFor(async () => {
    const s = (await adminRequest(sock, { cmd: 'status' })) as { lastReload?: { ok: boolean; error: string } }
    return s.lastReload ? s : undefined
  }, { what: 'reload result', intervalMs: 50 })) as { lastReload: { ok: boolean; error: string }; vips: unknown[] }
  t.equal(after.lastReload.ok, false)
  t.match(after.lastReload.error, 'bgp.localAs')
  t.equal(after.vips.length, 1, 'old config still in force')
  t.ok(p.lines().some((l) => l.includes('reload rejected')), 'rejection is logged')

  // a good config is applied
  writeFileSync(cfg, validConfig(sock, 'agent: { nodeAddresses: [198.51.100.11] }\n').replace('nextHops: [198.51.100.11] }', 'nextHops: [198.51.100.11] }\n  - { address: 203.0.113.11, nextHops: [198.51.100.12] }'))
  p.child.kill('SIGHUP')
  const ok = (await waitFor(async () => {
    const s = (await adminRequest(sock, { cmd: 'status' })) as { lastReload?: { ok: boolean }; vips: unknown[] }
    return s.lastReload?.ok ? s : undefined
  }, { what: 'good reload', intervalMs: 50 })) as { vips: unknown[] }
  t.equal(ok.vips.length, 2)

  p.child.kill('SIGTERM')
  t.equal(await p.exited, 0)
  t.notOk(existsSync(sock), 'socket removed on exit')
  const lines = p.lines().map((l) => JSON.parse(l) as { msg: string; level: string })
  t.ok(lines.every((l) => typeof l.level === 'string'), 'every log line is JSON')
  t.ok(lines.some((l) => l.msg === 'stopped'))
})

t.test('a second porter on the same admin socket refuses to start (exit 1)', async (t) => {
  const { dir, cleanup } = tempDir()
  t.teardown(cleanup)
  const sock = join(dir, 'porter.sock')
  const cfg = join(dir, 'porter.yaml')
  writeFileSync(cfg, validConfig(sock))
  const p = porterSpawn(['controller', '--config', cfg])
  t.teardown(() => { p.child.kill('SIGKILL') })
  await waitFor(() => existsSync(sock), { what: 'admin socket', intervalMs: 50 })
  const second = porterSync(['controller', '--config', cfg])
  t.equal(second.code, 1)
  t.match(second.stdout, 'Another porter is already serving')
  p.child.kill('SIGINT')
  t.equal(await p.exited, 0)
})

t.test('systemd: READY=1 once started, WATCHDOG=1 when asked, STOPPING=1 on SIGTERM', async (t) => {
  const { receiver } = await import('../lib/notify-receiver.ts')
  const { dir, cleanup } = tempDir()
  t.teardown(cleanup)
  const sock = join(dir, 'porter.sock')
  const cfg = join(dir, 'porter.yaml')
  writeFileSync(cfg, validConfig(sock))
  const plain = await receiver(t, join(dir, 'notify1'), 2)
  const p = porterSpawn(['controller', '--config', cfg], { NOTIFY_SOCKET: join(dir, 'notify1') })
  t.teardown(() => { p.child.kill('SIGKILL') })
  await waitFor(() => existsSync(sock), { what: 'admin socket', intervalMs: 50 })
  await waitFor(() => adminRequest(sock, { cmd: 'status' }), { what: 'status', intervalMs: 50 })
  p.child.kill('SIGTERM')
  t.equal(await p.exited, 0)
  const got = await plain.done
  t.equal(got.length, 2)
  t.match(got[0]!.data, /^READY=1\n/)
  t.match(got[0]!.data, `MAINPID=${p.child.pid}`)
  t.equal(got[1]!.data, 'STOPPING=1')
  t.equal(got[0]!.pid, p.child.pid, 'sent by the main process itself (NotifyAccess=main)')

  const wd = await receiver(t, join(dir, 'notify2'), 3)
  const q = porterSpawn(['controller', '--config', cfg], { NOTIFY_SOCKET: join(dir, 'notify2'), WATCHDOG_USEC: '200000' })
  t.teardown(() => { q.child.kill('SIGKILL') })
  const msgs = await wd.done
  t.match(msgs[0]!.data, /^READY=1/)
  t.same(msgs.slice(1).map((m) => m.data), ['WATCHDOG=1', 'WATCHDOG=1'])
  q.child.kill('SIGTERM')
  t.equal(await q.exited, 0)
})
