// The shipped systemd units pass `systemd-analyze verify` and carry the required hardening.
import t from 'tap'
import { readFileSync, writeFileSync, chmodSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { ROOT, tempDir } from '../lib/cli.ts'

const UNITS = ['porter-controller.service', 'porter-agent.service']

for (const unit of UNITS) {
  t.test(`${unit}: systemd-analyze verify is clean`, async (t) => {
    const { dir, cleanup } = tempDir()
    t.teardown(cleanup)
    // verify needs ExecStart's binary to exist: point it at a stand-in in the temp dir
    const fake = join(dir, 'porter')
    writeFileSync(fake, '#!/bin/sh\nexit 0\n')
    chmodSync(fake, 0o755)
    const text = readFileSync(join(ROOT, 'systemd', unit), 'utf8').replaceAll('/usr/local/bin/porter', fake)
    writeFileSync(join(dir, unit), text)
    const r = spawnSync('systemd-analyze', ['verify', join(dir, unit)], { encoding: 'utf8' })
    t.equal(r.status, 0, r.stderr)
    t.equal(r.stderr.trim(), '', 'no warnings')
  })

  t.test(`${unit}: notify, reload, restart and hardening directives`, async (t) => {
    const text = readFileSync(join(ROOT, 'systemd', unit), 'utf8')
    const has = (line: string) => t.ok(text.split('\n').some((l) => l.trim() === line), line)
    has('Type=notify')
    has('ExecReload=/bin/kill -HUP $MAINPID')
    has('Restart=on-failure')
    has('NoNewPrivileges=yes')
    has('ProtectSystem=strict')
    has('ProtectHome=yes')
    has('PrivateTmp=yes')
    has('ConfigurationDirectory=porter')
    t.match(text, /^RuntimeDirectory=porter/m)
    const caps = /^CapabilityBoundingSet=(.*)$/m.exec(text)?.[1]?.split(/\s+/) ?? []
    t.ok(caps.length > 0 && caps.every((c) => ['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'].includes(c)), `capabilities limited: ${caps.join(' ')}`)
  })
}

t.test('the controller runs as a dynamic user; only the agent keeps root (netlink/nft)', async (t) => {
  t.match(readFileSync(join(ROOT, 'systemd', 'porter-controller.service'), 'utf8'), /^DynamicUser=yes$/m)
  t.match(readFileSync(join(ROOT, 'systemd', 'porter-agent.service'), 'utf8'), /^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW$/m)
})

t.test('the controller runs with one malloc arena, under systemd and in Kubernetes alike', async (t) => {
  t.match(readFileSync(join(ROOT, 'systemd', 'porter-controller.service'), 'utf8'), /^Environment=MALLOC_ARENA_MAX=1$/m)
  t.match(readFileSync(join(ROOT, 'build', 'kubernetes', 'controller.yaml'), 'utf8'), /- name: MALLOC_ARENA_MAX\n\s+value: "1"\n/)
})
