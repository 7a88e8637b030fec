#!/usr/bin/env node
// `npm test`: sets up everything the tests need on a fresh machine, then runs them all.
//  1. as root: apt-get install of the Debian packages the tests and the addon build use, only
//     those missing (daemons are kept from starting in the host namespace during the install)
//  2. npm ci when node_modules is missing or older than package-lock.json
//  3. the real kube-apiserver and etcd (test/k8s/install.mjs): built from upstream source with Go
//     the first time (many minutes), then cached outside the repo in ~/.cache/porter-test
//  4. tap over every *.test.ts under internal/ and test/ (unit and end-to-end)
// Exits non-zero when any test fails or when no test ran at all.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, statSync, writeFileSync, unlinkSync, readdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
process.chdir(root)
const log = (m) => process.stderr.write(`[npm test] ${m}\n`)

// 1. Debian packages (root only; without root the namespace tests report what they need)
const DEB = [
  // [command that proves the package is there, package]
  ['/usr/bin/gcc', 'gcc'], // node-gyp (the patched netlink addon, built by npm ci's postinstall)
  ['/usr/bin/g++', 'g++'],
  ['/usr/bin/make', 'make'],
  ['/usr/bin/systemd-analyze', 'systemd'], // test/unit/systemd.test.ts verifies the units
  ['/usr/sbin/sysctl', 'procps'], // namespace sysctls
  ['/usr/sbin/ip', 'iproute2'],
  ['/usr/sbin/nft', 'nftables'],
  ['/usr/sbin/iptables', 'iptables'],
  ['/usr/sbin/bird', 'bird2'],
  ['/usr/lib/frr/bgpd', 'frr'],
  ['/usr/bin/gobgpd', 'gobgpd'],
  ['/usr/bin/tcpdump', 'tcpdump'],
  ['/usr/bin/ping', 'iputils-ping'],
  ['/usr/bin/curl', 'curl'],
  ['/usr/bin/python3', 'python3'],
  ['/usr/bin/kubectl', 'kubernetes-client'], // drives the fake and the real API server (images often ship a newer kubectl)
  ['/usr/bin/openssl', 'openssl'], // the real API server's serving certificate (test/lib/kube-apiserver.ts)
  ['/usr/bin/chromium', 'chromium'], // headless browser of the dashboard test (driven by playwright-core; never downloads a browser)
  ['/usr/bin/buildah', 'buildah'], // builds the container image without a Docker engine (test/e2e/image.test.ts)
]
if (process.getuid?.() === 0) {
  const missing = DEB.filter(([bin]) => !existsSync(bin)).map(([, pkg]) => pkg)
  if (missing.length) {
    log(`installing Debian packages: ${missing.join(' ')}`)
    const policy = '/usr/sbin/policy-rc.d'
    const hadPolicy = existsSync(policy)
    if (!hadPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 }) // no daemons in the host namespace
    try {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
      const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env })
      if (install().status !== 0) {
        execFileSync('apt-get', ['update'], { stdio: 'inherit', env })
        if (install().status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed`)
      }
    } finally {
      if (!hadPolicy) unlinkSync(policy)
    }
  }
} else {
  log('not root: Debian packages are not installed and the namespace tests will fail')
}

// 2. npm packages (after the Debian packages: the netlink addon is compiled by node-gyp with gcc/g++/make)
const nm = join(root, 'node_modules', '.package-lock.json')
if (!existsSync(nm) || statSync(nm).mtimeMs < statSync(join(root, 'package-lock.json')).mtimeMs) {
  log('installing npm packages (npm ci)')
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' })
}

// 3. the real Kubernetes API server and etcd, built from source into a cache outside the repo
const { ensureKubeBinaries } = await import('./k8s/install.mjs')
await ensureKubeBinaries({ log })

// 4. the tests
function find(dir, acc = []) {
  if (!existsSync(dir)) return acc
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue
    const p = join(dir, e.name)
    if (e.isDirectory()) find(p, acc)
    else if (e.name.endsWith('.test.ts')) acc.push(p.slice(root.length + 1))
  }
  return acc
}
const files = [...find(join(root, 'internal')), ...find(join(root, 'test'))].filter((f) => !f.startsWith('test/bench/'))
if (files.length === 0) {
  log('no test files found')
  process.exit(1)
}
const extra = process.argv.slice(2)
log(`running ${files.length} test files`)
const r = spawnSync('npx', ['tap', '--disable-coverage', '--timeout=900', '--jobs=2', ...extra, ...files], { stdio: 'inherit' })
process.exit(r.status ?? 1)
