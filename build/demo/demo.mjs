#!/usr/bin/env node
// `npm run demo`: on a fresh machine, as root, install what the demo needs (npm packages,
// Debian's bird2, nftables, curl), build the single executable, then run build/demo/run.ts
// with it. Network namespaces are created and always removed by the scenario.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, statSync, writeFileSync, unlinkSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
process.chdir(root)
const say = (m) => process.stderr.write(`[demo] ${m}\n`)

if (process.getuid?.() !== 0) {
  say('the demo creates network namespaces and must run as root')
  process.exit(1)
}
const lock = join(root, 'node_modules', '.package-lock.json')
if (!existsSync(lock) || statSync(lock).mtimeMs < statSync(join(root, 'package-lock.json')).mtimeMs) {
  say('installing npm packages')
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' })
}
const need = [['/usr/sbin/bird', 'bird2'], ['/usr/sbin/nft', 'nftables'], ['/usr/bin/curl', 'curl'], ['/usr/sbin/ip', 'iproute2']]
const missing = need.filter(([bin]) => !existsSync(bin)).map(([, p]) => p)
if (missing.length) {
  say(`installing ${missing.join(' ')}`)
  const policy = '/usr/sbin/policy-rc.d'
  const had = existsSync(policy)
  if (!had) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 }) // no daemons in the host namespace
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    if (spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env }).status !== 0) {
      execFileSync('apt-get', ['update'], { stdio: 'inherit', env })
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env })
    }
  } finally {
    if (!had) unlinkSync(policy)
  }
}
say('building the single executable (npm run build)')
execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' })
const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'build', 'demo', 'run.ts'), join(root, 'dist', 'porter')], { stdio: 'inherit' })
process.exit(r.status ?? 1)
