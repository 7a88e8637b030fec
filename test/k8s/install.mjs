#!/usr/bin/env node
// Builds the real Kubernetes API server and etcd used by the end-to-end tests, from upstream
// source fetched through the Go module proxy, into a cache OUTSIDE the repo:
//
//   ${PORTER_TEST_CACHE:-$HOME/.cache/porter-test}/k8s-<kubernetes version>/{kube-apiserver,etcd}
//
// The versions come from the two Go modules beside this file:
//   test/k8s/apiserver/go.mod  requires k8s.io/kubernetes (and replaces every k8s.io staging
//                              module with its v0.Y.Z release: the kubernetes module's own
//                              `replace` lines do not apply to dependents)
//   test/k8s/etcd/go.mod       requires go.etcd.io/etcd/server/v3 (main.go calls etcdmain.Main;
//                              Debian's etcd-server is 3.4, too old for Kubernetes 1.34)
// Each binary has a `<name>.stamp` beside it: a hash of its module's files, the build flags and
// the Go version. A binary whose stamp matches is kept (idempotent); otherwise it is rebuilt.
// The first build takes many minutes on 2 cores (kube-apiserver is most of it).
//
// Usage:
//   node test/k8s/install.mjs           build what is missing, print the paths
//   node test/k8s/install.mjs --paths   build nothing; print JSON {dir, kubeApiServer, etcd,
//                                       version, etcdVersion, ready} (used by the test harness)
// As a module: `await ensureKubeBinaries()` and `kubeBinaryPaths()`.
// Environment: PORTER_TEST_CACHE (cache root), GO (go binary, default /usr/local/go/bin/go).

import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const APISERVER_MOD = join(here, 'apiserver')
const ETCD_MOD = join(here, 'etcd')

function goBinary() {
  if (process.env.GO) return process.env.GO
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go'
  return 'go'
}

/** `require <module> vX.Y.Z` from a go.mod (block or single-line form). */
function requiredVersion(goMod, module) {
  const text = readFileSync(goMod, 'utf8')
  const re = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+(v\\S+)`, 'm')
  const m = re.exec(text.replace(/^replace[\s\S]*?^\)/gm, ''))
  if (!m) throw new Error(`${goMod} does not require ${module}`)
  return m[1]
}

function versions() {
  const k8s = requiredVersion(join(APISERVER_MOD, 'go.mod'), 'k8s.io/kubernetes') // v1.34.4
  const etcd = requiredVersion(join(ETCD_MOD, 'go.mod'), 'go.etcd.io/etcd/server/v3')
  return { k8s, etcd }
}

function cacheRoot() {
  return process.env.PORTER_TEST_CACHE || join(homedir(), '.cache', 'porter-test')
}

function buildSpecs() {
  const { k8s, etcd } = versions()
  const [major, minor] = k8s.replace(/^v/, '').split('.')
  const x = (pkg, v) => `-X ${pkg}=${v}`
  return {
    k8s, etcd,
    dir: join(cacheRoot(), `k8s-${k8s.replace(/^v/, '')}`),
    bins: [
      {
        name: 'kube-apiserver',
        mod: APISERVER_MOD,
        pkg: 'k8s.io/kubernetes/cmd/kube-apiserver',
        // what `kubectl version` and /version report (otherwise v0.0.0-master)
        ldflags: ['-s', '-w',
          x('k8s.io/component-base/version.gitVersion', k8s),
          x('k8s.io/component-base/version.gitMajor', major),
          x('k8s.io/component-base/version.gitMinor', minor),
          x('k8s.io/component-base/version.gitTreeState', 'clean')].join(' '),
      },
      {
        name: 'etcd',
        mod: ETCD_MOD,
        pkg: '.',
        ldflags: '-s -w',
      },
    ],
  }
}

function stampOf(bin, goVersion) {
  const h = createHash('sha256')
  h.update(`${goVersion}\n${bin.pkg}\n${bin.ldflags}\n`)
  for (const f of readdirSync(bin.mod).sort()) {
    if (f === 'go.mod' || f === 'go.sum' || f.endsWith('.go')) h.update(`${f}\n`).update(readFileSync(join(bin.mod, f)))
  }
  return h.digest('hex')
}

function readStamp(path) {
  try { return readFileSync(path, 'utf8').trim() } catch { return '' }
}

function run(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (code === 0) resolve()
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? code})`))
    })
  })
}

function runCapture(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], ...opts })
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    child.on('error', reject)
    child.on('exit', (code) => code === 0 ? resolve(out.trim()) : reject(new Error(`${cmd} ${args.join(' ')} failed (${code})`)))
  })
}

/** Where the binaries are (or will be) and whether they are built; builds nothing. */
export function kubeBinaryPaths() {
  const s = buildSpecs()
  const kubeApiServer = join(s.dir, 'kube-apiserver')
  const etcd = join(s.dir, 'etcd')
  return {
    dir: s.dir,
    version: s.k8s,
    etcdVersion: s.etcd,
    kubeApiServer,
    etcd,
    // presence only: the stamp check needs `go version`, which ensureKubeBinaries does
    ready: existsSync(kubeApiServer) && existsSync(etcd),
  }
}

/**
 * Builds kube-apiserver and etcd into the cache unless an up-to-date build is there.
 * Returns the same object as kubeBinaryPaths().
 */
export async function ensureKubeBinaries({ log = (m) => process.stderr.write(`[k8s install] ${m}\n`) } = {}) {
  const s = buildSpecs()
  const go = goBinary()
  const env = {
    ...process.env,
    CGO_ENABLED: '0',
    // Go 1.26 satisfies both modules; never let `go` try to download another toolchain
    GOTOOLCHAIN: process.env.GOTOOLCHAIN || 'local',
    // go.sum is complete: never rewrite the modules; no VCS stamping (the module cache has no .git)
    GOFLAGS: '-mod=readonly -buildvcs=false',
  }
  let goVersion
  try {
    goVersion = await runCapture(go, ['env', 'GOVERSION'], { env })
  } catch (e) {
    throw new Error(`Go is needed to build kube-apiserver and etcd (looked for ${go}; set GO=...): ${e.message}`)
  }
  mkdirSync(s.dir, { recursive: true })
  for (const bin of s.bins) {
    const out = join(s.dir, bin.name)
    const stampFile = `${out}.stamp`
    const stamp = stampOf(bin, goVersion)
    if (existsSync(out) && readStamp(stampFile) === stamp) {
      log(`${bin.name}: up to date (${out})`)
      continue
    }
    const v = bin.name === 'etcd' ? s.etcd : s.k8s
    log(`${bin.name} ${v}: building from ${bin.mod.slice(here.length - 'test/k8s'.length)} with ${goVersion} into ${out} ` +
      `(the first build takes many minutes on 2 cores)`)
    const t0 = Date.now()
    const tmp = `${out}.tmp-${process.pid}`
    try {
      await run(go, ['build', '-trimpath', '-ldflags', bin.ldflags, '-o', tmp, bin.pkg], { cwd: bin.mod, env })
      renameSync(tmp, out)
    } finally {
      rmSync(tmp, { force: true })
    }
    writeFileSync(stampFile, `${stamp}\n`)
    const mib = (statSync(out).size / 1048576).toFixed(1)
    log(`${bin.name}: built in ${((Date.now() - t0) / 1000).toFixed(0)} s (${mib} MiB)`)
  }
  return kubeBinaryPaths()
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--paths')) {
    process.stdout.write(`${JSON.stringify(kubeBinaryPaths())}\n`)
  } else {
    ensureKubeBinaries().then(
      (p) => { process.stdout.write(`${p.kubeApiServer}\n${p.etcd}\n`) },
      (e) => { process.stderr.write(`[k8s install] ${e.message}\n`); process.exit(1) },
    )
  }
}
