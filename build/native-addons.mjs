// The native addons Porter ships, and how each one is made.
//
// Every addon is embedded in the single executable as a SEA asset (build/build.mjs).
// internal/native/load.ts carries the same table at run time (asset name -> package): keep the
// two in step. netlink is built from (patched) source on `npm ci` (build/postinstall.mjs); koffi
// is taken prebuilt (below).
//
// netlink@0.3.0 is patched (patches/netlink+0.3.0.patch, applied by patch-package): the shipped
// binding aborts the whole process when its socket overflows (ENOBUFS). The patched source is
// compiled with node-gyp into node_modules/netlink/build/Release, which node-gyp-build prefers
// over the package's prebuilds/ (the unpatched ones). Its own install script is denied in
// package.json "allowScripts" so that the build here is the only one (esbuild's postinstall is
// denied too: esbuild runs from its @esbuild/<platform> package without it).
//
// To change the patch: edit node_modules/netlink/src/binding.cc, then
//   npx patch-package netlink --exclude '^build/|^\.porter-build-stamp$|package\.json$'
// (the excludes keep the compiled output and our stamp out of the patch).
//
// koffi (FFI to libc for internal/sys: TCP MD5, sd_notify) ships one prebuilt, unmodified binary
// per platform in its optional dependency @koromix/koffi-<os>-<cpu> (<os>_<cpu>/koffi.node for
// glibc, musl_<cpu>/ for musl); that file is embedded. Its install script (which would only check
// for, or compile, the same binary with cmake) is denied in "allowScripts". The version is pinned
// here because the koffi JavaScript refuses a binary of another version ("Mismatched native Koffi
// modules").
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

/** name -> package holding the addon, its compiled file, and the SEA asset key. */
export const ADDONS = {
  netlink: {
    pkg: 'netlink',
    version: '0.3.0',
    built: 'build/Release/netlink_binding.node',
    sources: ['src/binding.cc', 'binding.gyp'],
    asset: 'native/netlink.node',
    /** text only the patched source contains: proves patch-package ran */
    patchMarker: 'porter patch',
  },
  koffi: {
    pkg: 'koffi',
    version: '3.3.4',
    prebuilt: true,
    asset: 'native/koffi.node',
  },
}

function isMusl() {
  if (process.platform !== 'linux') return false
  return process.report.getReport().header.glibcVersionRuntime === undefined
}

/** koffi's binary for this machine: the same search as koffiBinary() in internal/native/load.ts. */
export function koffiBinary(koffiDir) {
  const { platform, arch } = process
  const triplets = isMusl() ? [`musl_${arch}`, `${platform}_${arch}`] : [`${platform}_${arch}`, `musl_${arch}`]
  const dirs = []
  try {
    dirs.push(dirname(createRequire(join(koffiDir, 'package.json')).resolve(`@koromix/koffi-${platform}-${arch}/package.json`)))
  } catch {}
  dirs.push(join(koffiDir, 'build', 'koffi'))
  const candidates = dirs.flatMap((d) => triplets.map((t) => join(d, t, 'koffi.node')))
  const found = candidates.find((f) => existsSync(f))
  if (!found) {
    throw new Error(`koffi has no binary for ${platform}-${arch} (looked for ${candidates.join(', ')}): is the optional dependency @koromix/koffi-${platform}-${arch} installed? (npm ci without --omit=optional)`)
  }
  return found
}

const STAMP = '.porter-build-stamp'

/** A package's directory (also for packages whose "exports" hide package.json, like koffi). */
export function pkgDir(root, pkg) {
  const require = createRequire(join(root, 'package.json'))
  try {
    return dirname(require.resolve(`${pkg}/package.json`))
  } catch (e) {
    const dir = (require.resolve.paths(pkg) ?? []).map((p) => join(p, pkg)).find((d) => existsSync(join(d, 'package.json')))
    if (!dir) throw e
    return dir
  }
}

function sourceHash(dir, addon) {
  const h = createHash('sha256')
  for (const f of addon.sources) h.update(f).update('\0').update(readFileSync(join(dir, f))).update('\0')
  h.update(process.version).update(process.arch)
  return h.digest('hex')
}

/** npm's bundled node-gyp: npm exports its path to lifecycle scripts; otherwise find it beside npm. */
function nodeGypCommand() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ].filter(Boolean)
  for (const c of candidates) if (existsSync(c)) return [process.execPath, c]
  return ['node-gyp']
}

/**
 * Node's headers: node-gyp downloads them unless told where they are, and this machine has no
 * network but the registries. npm passes its "nodedir" setting to scripts; outside npm, use the
 * headers installed beside this node binary (e.g. /usr/include/node).
 */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`]
  const prefix = join(dirname(process.execPath), '..')
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return [`--nodedir=${prefix}`]
  return []
}

function run(cmd, args, cwd, log) {
  log(`$ ${[cmd, ...args].join(' ')}${cwd === ROOT ? '' : `  (in ${cwd})`}`)
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: process.env })
}

/** Apply patches/ with patch-package (idempotent: already-applied patches are left alone). */
export function applyPatches({ root = ROOT, log = console.error } = {}) {
  const require = createRequire(join(root, 'package.json'))
  let bin
  try {
    bin = join(dirname(require.resolve('patch-package/package.json')), 'index.js')
  } catch {
    throw new Error('patch-package is not installed: run "npm ci" (devDependencies are needed to build Porter)')
  }
  run(process.execPath, [bin, '--error-on-fail'], root, log)
}

/**
 * Make sure every addon is compiled from its (patched) source and that the package's loader
 * (node-gyp-build) picks the compiled file. Rebuilds only when the sources changed since the
 * last build. Returns { name: absolute path of the .node file }.
 */
export function ensureAddons({ root = ROOT, log = console.error, force = false } = {}) {
  const out = {}
  for (const [name, addon] of Object.entries(ADDONS)) {
    const dir = pkgDir(root, addon.pkg)
    const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
    if (version !== addon.version) {
      throw new Error(`${addon.pkg} is ${version} but patches/ and build/native-addons.mjs are for ${addon.version}: update both together`)
    }
    if (addon.prebuilt) {
      const file = koffiBinary(dir)
      log(`${name}: prebuilt ${file}`)
      out[name] = file
      continue
    }
    const src = readFileSync(join(dir, addon.sources[0]), 'utf8')
    if (!src.includes(addon.patchMarker)) {
      throw new Error(`${addon.pkg}/${addon.sources[0]} is not patched: run "npm run postinstall"`)
    }
    const file = join(dir, addon.built)
    const stamp = join(dir, STAMP)
    const hash = sourceHash(dir, addon)
    const fresh = existsSync(file) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash
    if (force || !fresh) {
      const [cmd, ...pre] = nodeGypCommand()
      run(cmd, [...pre, 'rebuild', ...nodedirArgs()], dir, log)
      writeFileSync(stamp, hash)
    } else {
      log(`${name}: ${addon.built} is up to date`)
    }
    // node-gyp-build must choose our build over the package's unpatched prebuilds/
    const require = createRequire(join(dir, 'package.json'))
    const resolved = require('node-gyp-build').resolve(dir)
    if (resolved !== file) throw new Error(`node-gyp-build resolves ${addon.pkg} to ${resolved}, expected ${file}`)
    out[name] = file
  }
  return out
}
