#!/usr/bin/env node
// `npm run build`: Porter as ONE executable file.
//
// Output: dist/porter (git-ignored), a Node single executable application (SEA) for this
// machine's platform and Node version; copy that one file anywhere and run it, no
// node_modules needed. Also left in dist/: porter.cjs with the bundles beside it (runnable with
// `node dist/porter.cjs`), sea-config.json and porter.blob (intermediate).
//
// Steps:
//  1. patches/ applied and native addons compiled from (patched) source: build/native-addons.mjs
//  2. esbuild bundles cmd/porter/main.ts (through build/sea-entry.ts) into one CommonJS file,
//     dist/porter-main.cjs: SEA runs CommonJS only. PORTER_VERSION / PORTER_COMMIT are defined;
//     import.meta.url is mapped to the bundle's own file URL; the packages' native bindings
//     (node-gyp-build, koffi's @koromix/koffi-<os>-<cpu>) are redirected to internal/native/load.ts.
//     The daemon modes (cmd/porter/daemon.ts, through build/sea-daemon.ts) are a second bundle,
//     dist/porter-daemon.cjs, the Kubernetes code (build/sea-kube.ts) a third,
//     dist/porter-kube.cjs, and `yaml` (read only to place a config error) a fourth,
//     dist/porter-yaml.cjs, each with a V8 code cache (dist/porter-*.cache; see bundle()). The
//     CLI bundle has two warm code caches, made by running it (warmCodeCache()), and the SEA's
//     main script, dist/porter.cjs, only loads it with the one for the command.
//  3. sea-config.json (useCodeCache, addons, the bundles and caches as assets) -> node --experimental-sea-config
//  4. copy of process.execPath (debug info stripped when `strip` exists) + postject with the
//     NODE_SEA_FUSE sentinel, chmod 755, then a self-check run of the result.
// Runs from any working directory: every path is taken from this file's location.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createRequire } from 'node:module'
import { join, relative, sep } from 'node:path'
import { ADDONS, ROOT, applyPatches, ensureAddons, pkgDir } from './native-addons.mjs'
import { pureJsYamlPlugin } from './pure-js-yaml.mjs'

const started = process.hrtime.bigint()
const DIST = join(ROOT, 'dist')
const OUT = join(DIST, 'porter')
/** the SEA's main script: a loader of the CLI bundle (MAIN), see warmCodeCache() */
const BUNDLE = join(DIST, 'porter.cjs')
const BLOB = join(DIST, 'porter.blob')
const SEA_CONFIG = join(DIST, 'sea-config.json')
const ENTRY = join(ROOT, 'build', 'sea-entry.ts')
const DAEMON_ENTRY = join(ROOT, 'build', 'sea-daemon.ts')
const KUBE_ENTRY = join(ROOT, 'build', 'sea-kube.ts')
/** the bundles loaded from SEA assets (beside dist/porter.cjs without SEA): file and asset names */
const MAIN = { bundle: join(DIST, 'porter-main.cjs'), cache: join(DIST, 'porter-main.cache'), asset: 'porter-main.cjs', cacheAsset: 'porter-main.cache' }
/**
 * The CLI bundle's second warm code cache, for `porter validate`: the config module, valibot and
 * js-yaml compiled. The other commands load the first, smaller one (V8 deserializes every
 * function of a cache, used or not); the daemons too: with this one they started no sooner and
 * held ~1 MiB more.
 */
const MAIN_CONFIG = { ...MAIN, cache: join(DIST, 'porter-main-config.cache'), cacheAsset: 'porter-main-config.cache' }
const CONFIG_COMMANDS = ['validate']
const DAEMON = { bundle: join(DIST, 'porter-daemon.cjs'), cache: join(DIST, 'porter-daemon.cache'), asset: 'porter-daemon.cjs', cacheAsset: 'porter-daemon.cache' }
/**
 * The daemon bundle's cache for the controller without Kubernetes, which runs without V8's
 * optimizing compiler (cmd/porter/heap.ts, DaemonTier): made under that flag, taken when the
 * daemon has recorded that tier (daemonCacheOf).
 */
const DAEMON_BASELINE = { ...DAEMON, cache: join(DIST, 'porter-daemon-baseline.cache'), cacheAsset: 'porter-daemon-baseline.cache' }
/** which of the daemon bundle's caches to take: setDaemonTier (cmd/porter/heap.ts) records the tier in this global */
const daemonCacheOf = `(globalThis[Symbol.for("porter.daemonTier")] === "baseline" ? ${JSON.stringify(DAEMON_BASELINE.cacheAsset)} : ${JSON.stringify(DAEMON.cacheAsset)})`
const KUBE = { bundle: join(DIST, 'porter-kube.cjs'), cache: join(DIST, 'porter-kube.cache'), asset: 'porter-kube.cjs', cacheAsset: 'porter-kube.cache' }
/**
 * `yaml`, the parser with positions, as a fourth bundle: it is read only to place a config
 * error, and inside the CLI bundle its ~150 KB of source were copied into a string at every
 * start (a one-byte copy costs ~3 us per KiB on this machine, a new page ~10 us: every command
 * paid ~1 ms for a parser it did not run). Its code cache is made under no flags, as the CLI
 * runs; a daemon that places a reload's error compiles it afresh.
 */
const YAML_ASSET = { bundle: join(DIST, 'porter-yaml.cjs'), cache: join(DIST, 'porter-yaml.cache'), asset: 'porter-yaml.cjs', cacheAsset: 'porter-yaml.cache' }
/** an asset bundle is one function expression: compiled by vm.Script, called like a CommonJS module */
const ASSET_HEAD = '(function (exports, require, module, __filename, __dirname) {'
const ASSET_TAIL = '\n})'
/** the process-wide table of modules the bundles share (see sharedModulesPlugin) */
const REGISTRY = 'globalThis[Symbol.for("porter.modules")]'
const LOADER = join(ROOT, 'internal', 'native', 'load.ts')
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'
const require = createRequire(join(ROOT, 'package.json'))

const log = (s) => console.error(`build: ${s}`)
const rel = (p) => relative(process.cwd(), p) || '.'

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || 'unknown'
  } catch {
    return 'unknown'
  }
}

/**
 * Packages loaded on first use: `import koffi from 'koffi'` and `import { parseDocument } from
 * 'yaml'` get a stand-in that requires the real package when one of its exports is first read.
 * koffi opens its binary as soon as it is required (`porter version` must not write and dlopen
 * an addon it never uses); yaml, the parser with positions, is read only to report a config error
 * (its module setup was ~2% of `porter validate`'s instructions). The stand-in knows the
 * package's export names (read here, at build time) so that esbuild's ESM interop can list them
 * without loading anything. koffi's real package is its CommonJS build, whose binary load is a
 * plain `require('@koromix/koffi-<os>-<cpu>')` (its ESM build hides it behind createRequire), and
 * that require is redirected to loadAddon('koffi').
 */
const LAZY_PACKAGES = {
  koffi: { file: () => join(pkgDir(ROOT, 'koffi'), 'index.cjs'), uses: ['load', 'errno'], by: 'internal/sys' },
  yaml: { file: () => require.resolve('yaml'), uses: ['parseDocument', 'LineCounter', 'isMap', 'isSeq', 'isScalar'], by: 'internal/config/load.ts', asset: YAML_ASSET },
}

function lazyStandIn(name) {
  const { file, uses, by, asset } = LAZY_PACKAGES[name]
  const cjs = file()
  const keys = Object.keys(require(cjs)).sort()
  const missing = uses.filter((k) => !keys.includes(k))
  if (missing.length) throw new Error(`${name}'s exports are not what ${by} uses (no ${missing.join(', ')}): ${keys.join(', ')}`)
  return [
    `const KEYS = ${JSON.stringify(keys)}`,
    'let real',
    // a package with an asset bundle of its own is that bundle, loaded by its asset loader
    `const load = () => (real ??= require(${JSON.stringify(asset ? `porter-asset:${name}` : cjs)}))`,
    'module.exports = new Proxy({}, {',
    "  get: (_, k) => (k === '__esModule' ? undefined : load()[k]),",
    '  has: (_, k) => KEYS.includes(k),',
    '  ownKeys: () => [...KEYS],',
    '  getOwnPropertyDescriptor: (_, k) => (KEYS.includes(k) ? { configurable: true, enumerable: true, get: () => load()[k] } : undefined),',
    '})',
    '',
  ].join('\n')
}

/** esbuild plugin: the LAZY_PACKAGES as their stand-ins */
function lazyPackagesPlugin() {
  const filter = new RegExp(`^(${Object.keys(LAZY_PACKAGES).join('|')})$`)
  return {
    name: 'porter-lazy-packages',
    setup(b) {
      b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'porter-lazy' }))
      b.onLoad({ filter: /.*/, namespace: 'porter-lazy' }, (args) => ({ contents: lazyStandIn(args.path), resolveDir: ROOT, loader: 'js' }))
      b.onResolve({ filter: /^porter-asset:/ }, (args) => ({ path: args.path.slice('porter-asset:'.length), namespace: 'porter-lazy-asset' }))
      b.onLoad({ filter: /.*/, namespace: 'porter-lazy-asset' }, (args) => ({ contents: assetLoader(LAZY_PACKAGES[args.path].asset, new Set()), resolveDir: ROOT, loader: 'js' }))
    },
  }
}

/**
 * esbuild plugin: a package's own binding load (`require('node-gyp-build')(dir)`, koffi's
 * `require('@koromix/koffi-<os>-<cpu>')`) becomes loadAddon(<name>) from internal/native/load.ts.
 * Any other native load fails the build, so a new addon cannot slip into the bundle unembedded.
 */
function nativeAddonsPlugin() {
  const byPkg = new Map(Object.entries(ADDONS).map(([name, a]) => [a.pkg, name]))
  const owner = (importer) => {
    const parts = importer.split(sep)
    const i = parts.lastIndexOf('node_modules')
    if (i < 0) return undefined
    return parts[i + 1]?.startsWith('@') ? `${parts[i + 1]}/${parts[i + 2]}` : parts[i + 1]
  }
  return {
    name: 'porter-native-addons',
    setup(b) {
      b.onResolve({ filter: /^(node-gyp-build|bindings|node-pre-gyp|@mapbox\/node-pre-gyp|prebuild-install)$/ }, (args) => {
        const pkg = owner(args.importer)
        const name = pkg && byPkg.get(pkg)
        if (!name || args.path !== 'node-gyp-build') {
          return { errors: [{ text: `"${pkg ?? args.importer}" loads a native addon through ${args.path}, which the single executable cannot embed: add it to build/native-addons.mjs and internal/native/load.ts` }] }
        }
        return { path: name, namespace: 'porter-native' }
      })
      // koffi/src/static.cjs tries every platform's package in turn: only this machine's is
      // embedded, the others are stubs that throw (koffi catches that and moves on)
      b.onResolve({ filter: /^@koromix\/koffi-/ }, (args) => {
        if (owner(args.importer) !== 'koffi') return { errors: [{ text: `${args.path} imported from ${args.importer}: import "koffi" instead` }] }
        if (args.path === `@koromix/koffi-${process.platform}-${process.arch}`) return { path: 'koffi', namespace: 'porter-native-direct' }
        return { path: args.path, namespace: 'porter-native-absent' }
      })
      b.onLoad({ filter: /.*/, namespace: 'porter-native-direct' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(LOADER)}).loadAddon(${JSON.stringify(args.path)})\n`,
        resolveDir: ROOT,
        loader: 'js',
      }))
      b.onLoad({ filter: /.*/, namespace: 'porter-native-absent' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`${args.path} is not in this build of porter (built for ${process.platform}-${process.arch})`)})\n`,
        loader: 'js',
      }))
      b.onResolve({ filter: /\.node$/ }, (args) => ({
        errors: [{ text: `native addon "${args.path}" required directly from ${args.importer}: load it with internal/native/load.ts` }],
      }))
      // The binding is opened on first use, not when the package is imported: `porter version`
      // must not write and dlopen an addon it never uses.
      b.onLoad({ filter: /.*/, namespace: 'porter-native' }, (args) => ({
        contents: [
          `const { loadAddon } = require(${JSON.stringify(LOADER)})`,
          `const real = () => loadAddon(${JSON.stringify(args.path)})`,
          'const lazy = new Proxy({}, {',
          '  get: (_, k) => real()[k],',
          '  has: (_, k) => k in real(),',
          '  ownKeys: () => Reflect.ownKeys(real()),',
          '  getOwnPropertyDescriptor: (_, k) => { const d = Reflect.getOwnPropertyDescriptor(real(), k); if (d) d.configurable = true; return d },',
          '})',
          'module.exports = function nodeGypBuild() { return lazy }',
          '',
        ].join('\n'),
        resolveDir: ROOT,
        loader: 'js',
      }))
    },
  }
}

/**
 * ws (under @kubernetes/client-node) tries require('bufferutil') and require('utf-8-validate'),
 * optional speed-ups that are not installed. In the SEA such a require prints a warning on
 * every start; bundle them as modules that fail the way a missing module does.
 */
function absentOptionalPlugin() {
  return {
    name: 'absent-optional',
    setup(b) {
      b.onResolve({ filter: /^(bufferutil|utf-8-validate)$/ }, (a) => ({ path: a.path, namespace: 'absent-optional' }))
      b.onLoad({ filter: /.*/, namespace: 'absent-optional' }, (a) => ({
        contents: `throw Object.assign(new Error(${JSON.stringify(`Cannot find module '${a.path}'`)}), { code: 'MODULE_NOT_FOUND' })`,
        loader: 'js',
      }))
    },
  }
}

/**
 * Four bundles, one executable (the fourth, dist/porter-yaml.cjs, is YAML_ASSET).
 * dist/porter-main.cjs holds the CLI and what `version`,
 * `validate` and `status` need (the SEA's main script, dist/porter.cjs, is its loader); the daemon
 * modes (BGP, netlink, nftables, the agent) are dist/porter-daemon.cjs, and
 * @kubernetes/client-node with Porter's Kubernetes code (~3 MB of JavaScript with undici, ws and
 * the rest) is dist/porter-kube.cjs, all embedded as assets.
 * V8 compiles (or deserializes) every byte of a script it is given, and keeps the source in
 * memory: with one 8.5 MB bundle `porter version` spent ~100 ms CPU before its first statement,
 * and with the Kubernetes client in the daemon bundle an idle `porter controller` without
 * Kubernetes held its source (string and mapped pages, ~6 MB of RSS). The daemon bundle is
 * compiled only by `porter controller` / `porter agent`, the Kubernetes bundle only when
 * `kubernetes.enabled` (the import() of internal/controller/kube-factory.ts and
 * internal/k8s/index.ts), each from its own code cache made here (vm.Script + createCachedData
 * with this same node binary).
 *
 * A module is in one bundle only: a later bundle takes the modules of Porter (internal/, cmd/)
 * that an earlier one has from it (sharedModulesPlugin), so there is one config schema, one
 * PorterError class, one valibot and one yaml in the process.
 *
 * In the main bundle, `import('./daemon.ts')` (cmd/porter/main.ts) and sea-entry's import of
 * cmd/porter/daemon.ts resolve to a loader for that asset (beside the bundle when run with plain
 * `node dist/porter.cjs`); likewise the two Kubernetes import()s in the daemon bundle.
 */
function assetLoader(a, provide, cacheAsset = JSON.stringify(a.cacheAsset)) {
  return [
    "const vm = require('node:vm')",
    // this bundle's modules that the asset's bundle takes from it
    `const reg = (${REGISTRY} ??= Object.create(null))`,
    ...[...provide].sort().map((f) => `reg[${JSON.stringify(relative(ROOT, f))}] ??= () => require(${JSON.stringify(f)})`),
    'let code',
    'let cachedData',
    "const sea = (() => { try { return require('node:sea') } catch { return undefined } })()",
    // the raw assets are views of the executable's mapped pages (no copy). The bundle is ASCII
    // (esbuild's charset), so latin1 is its text; getAsset(key, 'utf8') would decode it with ICU's
    // converters and map ~2 MB of ICU data into the process for good
    'if (sea && sea.isSea()) {',
    `  code = Buffer.from(sea.getRawAsset(${JSON.stringify(a.asset)})).toString('latin1')`,
    `  try { cachedData = Buffer.from(sea.getRawAsset(${cacheAsset})) } catch {}`,
    '} else {',
    "  const { readFileSync } = require('node:fs')",
    "  const { join } = require('node:path')",
    `  code = readFileSync(join(__dirname, ${JSON.stringify(a.asset)}), 'utf8')`,
    `  try { cachedData = readFileSync(join(__dirname, ${cacheAsset})) } catch {}`,
    '}',
    `const script = new vm.Script(code, { filename: ${JSON.stringify(a.asset)}, cachedData })`,
    'const m = { exports: {} }',
    'script.runInThisContext()(m.exports, require, m, __filename, __dirname)',
    "m.exports.codeCache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used'",
    // what V8 did with each bundle's cache, for the daemon's "started" line (cmd/porter/daemon.ts)
    `;(globalThis[Symbol.for("porter.codeCaches")] ??= {})[${JSON.stringify(a.asset)}] = m.exports.codeCache`,
    'module.exports = m.exports',
    '',
  ].join('\n')
}

/** The main bundle: `import('./daemon.ts')` -> the daemon asset's loader. */
function daemonAssetPlugin(provide = new Set()) {
  return {
    name: 'porter-daemon-asset',
    setup(b) {
      b.onResolve({ filter: /(^|\/)daemon\.ts$/ }, (args) => {
        const target = join(args.resolveDir, args.path)
        if (target !== join(ROOT, 'cmd', 'porter', 'daemon.ts')) return undefined
        if (args.kind !== 'dynamic-import') return { errors: [{ text: `${args.importer} imports cmd/porter/daemon.ts statically: only import() keeps it out of the start-up bundle` }] }
        return { path: 'daemon', namespace: 'porter-daemon-asset' }
      })
      b.onLoad({ filter: /.*/, namespace: 'porter-daemon-asset' }, () => ({ contents: assetLoader(DAEMON, provide, daemonCacheOf), resolveDir: ROOT, loader: 'js' }))
    },
  }
}

/** The files whose import() loads the Kubernetes bundle, and its export holding each one's module. */
const KUBE_MODULES = new Map([
  [join(ROOT, 'internal', 'controller', 'kube-factory.ts'), 'kubeFactory'],
  [join(ROOT, 'internal', 'k8s', 'index.ts'), 'k8s'],
])

/** The daemon bundle: import() of a KUBE_MODULES file -> that module, from the Kubernetes asset. */
function kubeAssetPlugin(provide = new Set()) {
  return {
    name: 'porter-kube-asset',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        const key = KUBE_MODULES.get(join(args.resolveDir, args.path))
        if (!key) return undefined
        if (args.kind !== 'dynamic-import') return { errors: [{ text: `${args.importer} imports ${args.path} statically: only import() keeps Kubernetes out of the daemon bundle` }] }
        return { path: key, namespace: 'porter-kube-module' }
      })
      b.onResolve({ filter: /^porter-kube-asset$/ }, () => ({ path: 'kube', namespace: 'porter-kube-asset' }))
      b.onLoad({ filter: /.*/, namespace: 'porter-kube-module' }, (args) => ({ contents: `module.exports = require('porter-kube-asset')[${JSON.stringify(args.path)}]\n`, resolveDir: ROOT, loader: 'js' }))
      b.onLoad({ filter: /.*/, namespace: 'porter-kube-asset' }, () => ({ contents: assetLoader(KUBE, provide), resolveDir: ROOT, loader: 'js' }))
    },
  }
}

/**
 * A later bundle: a relative import, from Porter's own code, of a module in `shared` (the files of
 * Porter that an earlier bundle has) becomes that bundle's instance of it, from the registry the
 * earlier bundle's asset loader filled.
 */
function sharedModulesPlugin(shared) {
  return {
    name: 'porter-shared-modules',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.pluginData?.porterShared || !args.importer || args.importer.includes(`${sep}node_modules${sep}`)) return undefined
        const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { porterShared: true } })
        if (r.errors.length || !shared.has(r.path)) return undefined
        return { path: relative(ROOT, r.path), namespace: 'porter-shared' }
      })
      b.onLoad({ filter: /.*/, namespace: 'porter-shared' }, (args) => ({ contents: `module.exports = ${REGISTRY}[${JSON.stringify(args.path)}]()\n`, loader: 'js' }))
    },
  }
}

/**
 * V8 code caches of asset bundles, made right after compiling (cold: what V8 compiles eagerly), in
 * a child node under the flags the bundles will run under: none for the CLI's (the yaml bundle),
 * and for the daemon's (dist/porter-daemon.cjs and, loaded from it, dist/porter-kube.cjs) the
 * ones a daemon has set when it compiles them. V8 rejects a cache made under other flags, even
 * one set with v8.setFlagsFromString (as the daemon sets its heap policy), and it did so for both
 * daemon bundles until 2026-12-06. With `daemonFlags` (a DaemonTier: 'full' or 'baseline') the
 * child first runs cmd/porter/heap.ts's own daemonFlags(tier), bundled here, so the flags cannot
 * drift apart. Each cache must be taken
 * under them. The daemon logs what V8 did with each (`codeCaches` in its "started" line).
 */
async function coldCodeCaches(assets, { daemonFlags } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'porter-build-'))
  try {
    const heapFile = join(dir, 'heap.cjs')
    if (daemonFlags) {
      const heap = await require('esbuild').build({
        absWorkingDir: ROOT, entryPoints: [join(ROOT, 'cmd', 'porter', 'heap.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', write: false, logLevel: 'silent',
      })
      writeFileSync(heapFile, heap.outputFiles[0].text)
    }
    const env = { ...process.env }
    delete env.NODE_OPTIONS
    const r = spawnSync(process.execPath, ['-e', [
      "const vm = require('node:vm'), fs = require('node:fs')",
      'const [, list, heapFile] = process.argv',
      `if (heapFile) require(heapFile).daemonFlags(${JSON.stringify(daemonFlags)})`,
      'const sizes = []',
      'for (const [bundle, cache, filename] of JSON.parse(list)) {',
      "  const code = fs.readFileSync(bundle, 'latin1')",
      '  const data = new vm.Script(code, { filename }).createCachedData()',
      '  fs.writeFileSync(cache, data)',
      "  if (new vm.Script(code, { filename, cachedData: data }).cachedDataRejected) throw new Error(`V8 rejected the code cache it just made for ${filename}`)",
      '  sizes.push(data.length)',
      '}',
      'process.stdout.write(JSON.stringify(sizes))',
    ].join('\n'), JSON.stringify(assets.map((a) => [a.bundle, a.cache, a.asset])), ...(daemonFlags ? [heapFile] : [])], { env, encoding: 'utf8', timeout: 120_000 })
    if (r.status !== 0) throw new Error(`making the code caches of ${assets.map((a) => a.asset).join(', ')} failed (status ${r.status}):\n${r.stderr}${r.stdout}`)
    return JSON.parse(r.stdout)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * V8 code cache of the CLI bundle made after running it: a warm cache. A cache made right after
 * compiling (coldCodeCaches(), and the SEA's own useCodeCache) holds only what V8 compiles eagerly;
 * every other function is compiled at its first call, in every run: a third of the instructions
 * of `porter validate` (the config module, its schema library, js-yaml; valgrind). A child node compiles the
 * bundle, runs the commands `runs(dir)` gives (a scratch directory), all in that one process, and
 * serializes the script with every function they compiled. Each run's output must show its
 * `shows` text (a failed warm-up would leave a cold cache). The child runs without flags, as the
 * SEA does: V8 rejects a cache made under other flags (even one set with v8.setFlagsFromString).
 */
function warmCodeCache(a, runs) {
  const dir = mkdtempSync(join(tmpdir(), 'porter-build-'))
  const env = { ...process.env }
  for (const k of ['NODE_OPTIONS', 'NOTIFY_SOCKET', 'PORTER_CONFIG']) delete env[k]
  const child = (code, args) => spawnSync(process.execPath, ['-e', code, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 })
  try {
    const list = runs(dir)
    const warm = child([
      "const vm = require('node:vm'), fs = require('node:fs'), path = require('node:path')",
      'const [node, bundle, out, runs] = process.argv',
      `const script = new vm.Script(fs.readFileSync(bundle, 'latin1'), { filename: ${JSON.stringify(a.asset)} })`,
      'const run = script.runInThisContext()',
      // each run reads process.argv in a microtask after its start: the next starts a macrotask later
      ';(async () => {',
      '  for (const args of JSON.parse(runs)) {',
      '    process.argv = [node, bundle, ...args]',
      '    const m = { exports: {} }',
      '    run(m.exports, require, m, bundle, path.dirname(bundle))',
      '    await new Promise((r) => setImmediate(r))',
      '  }',
      "  process.once('beforeExit', () => { fs.writeFileSync(out, script.createCachedData()); process.exitCode = 0 })",
      '})()',
    ].join('\n'), [a.bundle, a.cache, JSON.stringify(list.map((r) => r.args))])
    const output = warm.stdout + warm.stderr
    const failed = list.find((r) => !output.includes(r.shows))
    if (warm.status !== 0 || failed) throw new Error(`the warm-up run of ${a.asset} (${(failed ?? list[0]).args.join(' ')}) failed (status ${warm.status}):\n${output}`)
    const check = child([
      "const vm = require('node:vm'), fs = require('node:fs')",
      `const s = new vm.Script(fs.readFileSync(process.argv[1], 'latin1'), { filename: ${JSON.stringify(a.asset)}, cachedData: fs.readFileSync(process.argv[2]) })`,
      "process.stdout.write(s.cachedDataRejected ? 'rejected' : 'used')",
    ].join('\n'), [a.bundle, a.cache])
    if (check.stdout !== 'used') throw new Error(`V8 rejected the warm code cache of ${a.asset}: ${check.stdout}${check.stderr}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return statSync(a.cache).size
}

/** Porter's own source files among a bundle's inputs (absolute paths), and the shared ones it takes. */
const own = (inputs) => new Set(inputs.filter((f) => /^(internal|cmd)\//.test(f)).map((f) => join(ROOT, f)))
const taken = (inputs) => new Set(inputs.filter((f) => f.startsWith('porter-shared:')).map((f) => join(ROOT, f.slice('porter-shared:'.length))))

async function bundle(version, commit) {
  const opts = (o) => ({ ...o, version, commit })
  // which bundle has which module: the main bundle, then the daemon's, then the Kubernetes one
  const mainProbe = await bundleOne(opts({ entry: ENTRY, plugins: [daemonAssetPlugin()] }))
  const mainOwn = own(mainProbe.inputs)
  const daemonProbe = await bundleOne(opts({ entry: DAEMON_ENTRY, plugins: [kubeAssetPlugin(), sharedModulesPlugin(mainOwn)] }))
  const daemonOwn = own(daemonProbe.inputs)
  const kube = await bundleOne(opts({ entry: KUBE_ENTRY, outfile: KUBE.bundle, head: ASSET_HEAD, tail: ASSET_TAIL, plugins: [sharedModulesPlugin(new Set([...mainOwn, ...daemonOwn]))] }))
  const yaml = await bundleOne(opts({ entry: LAZY_PACKAGES.yaml.file(), outfile: YAML_ASSET.bundle, head: ASSET_HEAD, tail: ASSET_TAIL }))
  const kubeTakes = taken(kube.inputs)
  const fromMain = new Set([...taken(daemonProbe.inputs), ...kubeTakes].filter((f) => mainOwn.has(f)))
  const fromDaemon = new Set([...kubeTakes].filter((f) => daemonOwn.has(f)))
  const main = await bundleOne(opts({ entry: ENTRY, outfile: MAIN.bundle, head: ASSET_HEAD, tail: ASSET_TAIL, plugins: [daemonAssetPlugin(fromMain)] }))
  const cacheOf = `(${JSON.stringify(CONFIG_COMMANDS)}.includes(process.argv[2]) ? ${JSON.stringify(MAIN_CONFIG.cacheAsset)} : ${JSON.stringify(MAIN.cacheAsset)})`
  writeFileSync(BUNDLE, `"use strict";\n// dist/porter's main script: the CLI is ${MAIN.asset}, compiled with a warm code cache for the command (build/build.mjs)\n${assetLoader(MAIN, new Set(), cacheOf)}`)
  const daemon = await bundleOne(opts({ entry: DAEMON_ENTRY, outfile: DAEMON.bundle, head: ASSET_HEAD, tail: ASSET_TAIL, plugins: [kubeAssetPlugin(fromDaemon), sharedModulesPlugin(mainOwn)] }))
  if (!main.inputs.some((f) => f.endsWith('cmd/porter/main.ts'))) throw new Error('cmd/porter/main.ts is not in the bundle')
  if (!daemon.inputs.some((f) => f.endsWith('cmd/porter/daemon.ts'))) throw new Error('cmd/porter/daemon.ts is not in the daemon bundle')
  if (own(main.inputs).size !== mainOwn.size || own(daemon.inputs).size !== daemonOwn.size) throw new Error('the bundles changed between the probe and the build')
  // (the BGP codec too: reached through the community parser's import of the wire index, it cost
  // every command ~2 ms of start-up)
  const heavy = main.inputs.filter((f) => /node_modules\/(@kubernetes|netlink|pino|prom-client)\/|internal\/(bgp\/(session|speaker)\/|bgp\/wire\/(?!well-known-communities\.ts$)|(k8s|agent|controller|netlink|nft)\/)/.test(f))
  if (heavy.length) throw new Error(`the start-up bundle (dist/porter.cjs) pulls in daemon code: ${heavy.slice(0, 5).join(', ')}`)
  const kubeInDaemon = daemon.inputs.filter((f) => /node_modules\/(@kubernetes|undici|ws)\/|internal\/k8s\//.test(f))
  if (kubeInDaemon.length) throw new Error(`the daemon bundle pulls in Kubernetes code: ${kubeInDaemon.slice(0, 5).join(', ')}`)
  if (!kube.inputs.some((f) => f.includes('node_modules/@kubernetes/client-node/'))) throw new Error('@kubernetes/client-node is not in the Kubernetes bundle')
  const mainCache = warmCodeCache(MAIN, (dir) => [
    { args: ['version'], shows: `porter ${version} (commit ${commit}` },
    { args: ['status', '--socket', join(dir, 'absent.sock')], shows: 'Cannot reach porter' },
  ])
  // the example config a user starts from
  const example = join(ROOT, 'systemd', 'porter.yaml')
  const mainConfigCache = warmCodeCache(MAIN_CONFIG, () => [{ args: ['validate', '--config', example], shows: `${example}: valid` }])
  if (main.inputs.some((f) => f.startsWith('node_modules/yaml/'))) throw new Error('the start-up bundle carries the yaml package: it is an asset of its own (YAML_ASSET)')
  const [daemonCache, kubeCache] = await coldCodeCaches([DAEMON, KUBE], { daemonFlags: 'full' })
  const [daemonBaselineCache] = await coldCodeCaches([DAEMON_BASELINE], { daemonFlags: 'baseline' })
  const [yamlCache] = await coldCodeCaches([YAML_ASSET])
  return { main, daemon, kube, yaml, mainCache, mainConfigCache, daemonCache, daemonBaselineCache, kubeCache, yamlCache }
}

/** One bundle; without `outfile`, only its list of inputs (a probe: nothing is written). */
async function bundleOne({ version, commit, entry, outfile, plugins = [], head = '', tail = '' }) {
  const esbuild = require('esbuild')
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile: outfile ?? join(DIST, '.probe.cjs'),
    write: outfile !== undefined,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'silent',
    legalComments: 'none',
    // whitespace and syntax only: names stay (stack traces, --cpu-prof); a smaller source is less
    // for V8 to deserialize at start and to keep in memory (it keeps the source for lazy compiles)
    minifyWhitespace: true,
    minifySyntax: true,
    // non-ASCII characters as escapes: the asset loaders read a bundle as latin1 (see assetLoader)
    charset: 'ascii',
    metafile: true,
    // import.meta does not exist in CommonJS: point it at this file (in the SEA, __filename is
    // the executable itself), computed on first use (node:url is not needed to start)
    banner: { js: `${head}"use strict";\nconst __porterMeta = { get url() { return require("node:url").pathToFileURL(__filename).href } };` },
    footer: { js: tail },
    define: {
      PORTER_VERSION: JSON.stringify(version),
      PORTER_COMMIT: JSON.stringify(commit),
      'import.meta.url': '__porterMeta.url',
      'import.meta.filename': '__filename',
      'import.meta.dirname': '__dirname',
    },
    plugins: [...plugins, lazyPackagesPlugin(), nativeAddonsPlugin(), absentOptionalPlugin(), pureJsYamlPlugin()],
  })
  for (const w of result.warnings) log(`esbuild warning: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}`)
  if (outfile === undefined) return { inputs: Object.keys(result.metafile.inputs) }
  const code = readFileSync(outfile, 'utf8')
  // a real import() survives only for a non-bundled target; SEA with code cache cannot run it
  // (block comments first: JSDoc types such as `@type {import('./x')}` are not code)
  const uncommented = code.replace(/\/\*[\s\S]*?\*\//g, '')
  const dyn = uncommented.match(/\bimport\((?!\s*["'`]node:)[^)]*\)/g)?.filter((m) => !/^import\(\s*\)$/.test(m))
  if (dyn?.length) throw new Error(`${rel(outfile)} still has dynamic import(): ${dyn.slice(0, 3).join(', ')}`)
  if (/\bimport\.meta\b/.test(code)) throw new Error(`${rel(outfile)} still uses import.meta`)
  if (/[^\x00-\x7f]/.test(code)) throw new Error(`${rel(outfile)} is not ASCII`)
  const inputs = Object.keys(result.metafile.inputs)
  return { bytes: Buffer.byteLength(code), inputs }
}

function seaBlob() {
  const assets = {}
  const built = ensureAddons({ log })
  for (const [name, a] of Object.entries(ADDONS)) assets[a.asset] = built[name]
  for (const a of [MAIN, MAIN_CONFIG, DAEMON, DAEMON_BASELINE, KUBE, YAML_ASSET]) {
    assets[a.asset] = a.bundle
    assets[a.cacheAsset] = a.cache
  }
  const config = { main: BUNDLE, output: BLOB, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: true, assets }
  writeFileSync(SEA_CONFIG, JSON.stringify(config, null, 2) + '\n')
  const r = spawnSync(process.execPath, ['--experimental-sea-config', SEA_CONFIG], { cwd: DIST, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`node --experimental-sea-config failed:\n${r.stderr}${r.stdout}`)
  return assets
}

function executable() {
  const tmp = join(DIST, '.porter.tmp')
  rmSync(tmp, { force: true })
  copyFileSync(process.execPath, tmp)
  chmodSync(tmp, 0o755)
  // debug info is most of node's size; .symtab stays so native backtraces keep their names
  const s = spawnSync('strip', ['--strip-debug', tmp], { encoding: 'utf8' })
  if (s.error) log(`strip not found, keeping node's debug info (${s.error.message})`)
  else if (s.status !== 0) throw new Error(`strip --strip-debug failed: ${s.stderr}`)
  const postject = join(require.resolve('postject/package.json'), '..', 'dist', 'cli.js')
  const r = spawnSync(process.execPath, [postject, tmp, 'NODE_SEA_BLOB', BLOB, '--sentinel-fuse', FUSE], { encoding: 'utf8' })
  // postject's ELF parser prints harmless "Can't find string offset" warnings: show them only on failure
  if (r.status !== 0) throw new Error(`postject failed:\n${r.stderr}${r.stdout}`)
  chmodSync(tmp, 0o755)
  rmSync(OUT, { force: true }) // a running dist/porter keeps its old inode
  renameSync(tmp, OUT)
}

/**
 * The result must start, load its embedded addons, dump links over netlink (read-only) and set a
 * TCP MD5 key through koffi.
 */
function selfCheck() {
  const env = { ...process.env, PORTER_SELFTEST_NATIVE: '1' }
  delete env.NOTIFY_SOCKET // the self-test would notify whoever runs the build
  const r = spawnSync(OUT, [], { cwd: '/', env, encoding: 'utf8', timeout: 30_000 })
  let report
  try {
    report = JSON.parse(r.stdout)
  } catch {}
  const embedded = Object.keys(ADDONS).every((n) => report?.addons?.some((a) => a.name === n && a.source === 'sea-asset'))
  if (r.status !== 0 || !report?.ok || !report.sea || !embedded || !report.netlink?.links?.includes('lo') || report.sys?.md5 !== true) throw new Error(`dist/porter failed its self-check (status ${r.status}):\n${r.stdout}${r.stderr}`)
  return report.addons.map((a) => `${a.name} (${a.source})`).join(', ')
}

/**
 * One build at a time per checkout (parallel test files may build): an exclusive lock directory
 * holding the builder's pid; a lock whose pid is gone is stale and taken over.
 */
async function withBuildLock(fn) {
  const lock = join(DIST, '.build.lock')
  const deadline = Date.now() + 15 * 60_000
  for (;;) {
    try {
      mkdirSync(lock)
      writeFileSync(join(lock, 'pid'), String(process.pid))
      break
    } catch (e) {
      if (e.code !== 'EEXIST') throw e
      let pid = 0
      try { pid = Number(readFileSync(join(lock, 'pid'), 'utf8')) } catch {}
      let alive = pid > 0
      if (alive) { try { process.kill(pid, 0) } catch { alive = false } }
      if (!alive && pid > 0) { rmSync(lock, { recursive: true, force: true }); continue }
      if (Date.now() > deadline) throw new Error(`another build holds ${lock} (pid ${pid})`)
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  try { return await fn() } finally { rmSync(lock, { recursive: true, force: true }) }
}

try {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  const commit = gitCommit()
  mkdirSync(DIST, { recursive: true })
  await withBuildLock(async () => {
  applyPatches({ log })
  const b = await bundle(pkg.version, commit)
  log(`bundled ${b.main.inputs.length} files into ${rel(MAIN.bundle)} (${(b.main.bytes / 1024).toFixed(0)} KiB, warm code caches ${(b.mainCache / 1024).toFixed(0)} and ${(b.mainConfigCache / 1024).toFixed(0)} KiB; loaded by ${rel(BUNDLE)}), ${b.daemon.inputs.length} into ${rel(DAEMON.bundle)} (${(b.daemon.bytes / 1024).toFixed(0)} KiB, code caches ${(b.daemonCache / 1024).toFixed(0)} and, without the optimizing compiler, ${(b.daemonBaselineCache / 1024).toFixed(0)} KiB) ${b.kube.inputs.length} into ${rel(KUBE.bundle)} (${(b.kube.bytes / 1024).toFixed(0)} KiB, code cache ${(b.kubeCache / 1024).toFixed(0)} KiB) and ${b.yaml.inputs.length} into ${rel(YAML_ASSET.bundle)} (${(b.yaml.bytes / 1024).toFixed(0)} KiB, code cache ${(b.yamlCache / 1024).toFixed(0)} KiB), version ${pkg.version}, commit ${commit}`)
  const assets = seaBlob()
  log(`embedded assets: ${Object.keys(assets).join(', ')}`)
  executable()
  const addons = selfCheck()
  const secs = Number(process.hrtime.bigint() - started) / 1e9
  const mib = statSync(OUT).size / 1024 / 1024
  console.log(`${rel(OUT)}: ${mib.toFixed(1)} MiB, built in ${secs.toFixed(1)} s (porter ${pkg.version}, commit ${commit}, node ${process.version}; addons: ${addons})`)
  })
} catch (e) {
  log(`FAILED: ${e instanceof Error ? e.message : String(e)}`)
  process.exit(1)
}
