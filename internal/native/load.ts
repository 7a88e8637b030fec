// Loads Porter's native addons (.node files) wherever Porter runs:
//  - inside the single executable (Node SEA), from the embedded asset: written to a private
//    temp dir (mkdtemp, 0700), process.dlopen'ed, then unlinked (the mapping stays valid);
//  - from source or a plain bundle (dev, tests), from the package in node_modules, found the way
//    the package itself finds it (node-gyp-build: build/Release first, then prebuilds/);
//  - as a last resort, from a file beside the binary: `<dirname(process.execPath)>/<name>.node`.
// build/build.mjs embeds the assets (keys below) and redirects the packages' own binding loads
// (netlink/dist/raw.js -> require('node-gyp-build')(dir); koffi -> require('@koromix/koffi-<os>-<cpu>'))
// to loadAddon(), so `import ... from 'netlink'` and `import koffi from 'koffi'` work unchanged
// inside the executable.
import * as sea from 'node:sea'
import { createRequire } from 'node:module'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { constants as osConstants, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { PorterError } from '../errors/index.ts'

/** The addons Porter ships. build/native-addons.mjs has the build side of the same table. */
export const ADDONS = {
  netlink: { pkg: 'netlink', asset: 'native/netlink.node', file: 'netlink.node', resolver: 'node-gyp-build' },
  koffi: { pkg: 'koffi', asset: 'native/koffi.node', file: 'koffi.node', resolver: 'koffi' },
} as const

/** How a package finds its own addon in node_modules (so we find the same file). */
export type AddonResolver = (typeof ADDONS)[keyof typeof ADDONS]['resolver']

export type AddonName = keyof typeof ADDONS
export type AddonSource = 'sea-asset' | 'package' | 'beside-binary'

export interface LoadedAddon {
  name: AddonName
  source: AddonSource
  /** the file that was dlopen'ed (for a SEA asset, the temp copy, already removed) */
  path: string
  exports: Record<string, unknown>
}

/** Everything the loader touches, injectable for tests. */
export interface LoaderDeps {
  isSea: () => boolean
  /** the asset's bytes; throws when the executable has no such asset */
  getAsset: (key: string) => ArrayBuffer
  dlopen: (module: { exports: Record<string, unknown> }, file: string) => void
  /** where the package's addon is, or throws (found the way the package itself finds it) */
  resolvePackage: (pkg: string, resolver: AddonResolver) => string
  execPath: string
  /** directories tried in order for the private copy of an embedded addon */
  tempBases: () => string[]
}

function moduleUrl(): string {
  // import.meta.url from source; build/build.mjs defines it for the CommonJS bundle
  return import.meta.url
}

/**
 * koffi's binary: the prebuilt one in its optional dependency @koromix/koffi-<os>-<cpu>
 * (<os>_<cpu>/koffi.node for glibc, musl_<cpu>/koffi.node for musl), else one compiled from
 * source into koffi/build/koffi/<os>_<cpu>/. build/native-addons.mjs embeds the same file.
 */
export function koffiBinary(koffiDir: string, platform: string = process.platform, arch: string = process.arch, musl: boolean = isMusl()): string {
  const triplets = musl ? [`musl_${arch}`, `${platform}_${arch}`] : [`${platform}_${arch}`, `musl_${arch}`]
  const dirs: string[] = []
  try {
    dirs.push(dirname(createRequire(join(koffiDir, 'package.json')).resolve(`@koromix/koffi-${platform}-${arch}/package.json`)))
  } catch {}
  dirs.push(join(koffiDir, 'build', 'koffi'))
  const candidates = dirs.flatMap((d) => triplets.map((t) => join(d, t, 'koffi.node')))
  const found = candidates.find((f) => existsSync(f))
  if (!found) throw new Error(`no koffi.node for ${platform}-${arch} (looked for ${candidates.join(', ')})`)
  return found
}

function isMusl(): boolean {
  if (process.platform !== 'linux') return false
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
  return header?.glibcVersionRuntime === undefined
}

/** A package's directory (also for packages whose "exports" hide package.json, like koffi). */
function packageDir(pkg: string): string {
  const require = createRequire(moduleUrl())
  try {
    return dirname(require.resolve(`${pkg}/package.json`))
  } catch (e) {
    const dir = (require.resolve.paths(pkg) ?? []).map((p) => join(p, pkg)).find((d) => existsSync(join(d, 'package.json')))
    if (!dir) throw e
    return dir
  }
}

function defaultResolvePackage(pkg: string, resolver: AddonResolver): string {
  const dir = packageDir(pkg)
  if (resolver === 'koffi') return koffiBinary(dir)
  const ngb = createRequire(join(dir, 'package.json'))('node-gyp-build') as { resolve: (dir: string) => string }
  return ngb.resolve(dir)
}

export const defaultDeps: LoaderDeps = {
  isSea: () => sea.isSea(),
  // a view of the executable's mapped pages, not a copy: the bytes are only written to a file
  getAsset: (key) => sea.getRawAsset(key) as ArrayBuffer,
  dlopen: (module, file) => process.dlopen(module, file, osConstants.dlopen.RTLD_NOW),
  resolvePackage: defaultResolvePackage,
  execPath: process.execPath,
  tempBases: () =>
    [process.env.PORTER_NATIVE_TMPDIR, tmpdir(), process.env.XDG_RUNTIME_DIR, '/dev/shm'].filter(
      (d): d is string => typeof d === 'string' && d !== '',
    ),
}

const msg = (e: unknown): string => (e instanceof Error ? e.message.split('\n')[0]! : String(e))

export interface AddonLoader {
  load(name: AddonName): LoadedAddon
}

export function createAddonLoader(deps: LoaderDeps = defaultDeps): AddonLoader {
  const cache = new Map<AddonName, LoadedAddon>()

  function open(file: string): Record<string, unknown> {
    const module = { exports: {} as Record<string, unknown> }
    deps.dlopen(module, file)
    return module.exports
  }

  /** Write the embedded bytes to a fresh 0700 dir, dlopen, remove: nothing stays on disk. */
  function fromAsset(name: AddonName, bytes: ArrayBuffer, tried: string[]): LoadedAddon | undefined {
    const spec = ADDONS[name]
    for (const base of deps.tempBases()) {
      let dir: string
      try {
        dir = mkdtempSync(join(base, 'porter-native-')) // mode 0700
      } catch (e) {
        tried.push(`${base}: ${msg(e)}`)
        continue
      }
      const file = join(dir, spec.file)
      try {
        writeFileSync(file, new Uint8Array(bytes), { mode: 0o500, flag: 'wx' })
        return { name, source: 'sea-asset', path: file, exports: open(file) }
      } catch (e) {
        // e.g. a noexec mount refuses the mapping: try the next directory
        tried.push(`${file}: ${msg(e)}`)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
    return undefined
  }

  function fromFile(name: AddonName, source: AddonSource, file: string, tried: string[]): LoadedAddon | undefined {
    try {
      return { name, source, path: file, exports: open(file) }
    } catch (e) {
      tried.push(`${file}: ${msg(e)}`)
      return undefined
    }
  }

  function load(name: AddonName): LoadedAddon {
    const hit = cache.get(name)
    if (hit) return hit
    const spec = ADDONS[name]
    if (!spec) throw new PorterError('PORTER_ERR_NATIVE_ADDON', `Unknown native addon ${JSON.stringify(name)}`)
    const tried: string[] = []
    let got: LoadedAddon | undefined
    if (deps.isSea()) {
      let bytes: ArrayBuffer | undefined
      try {
        bytes = deps.getAsset(spec.asset)
      } catch (e) {
        tried.push(`asset "${spec.asset}": ${msg(e)}`)
      }
      if (bytes) got = fromAsset(name, bytes, tried)
    } else {
      let file: string | undefined
      try {
        file = deps.resolvePackage(spec.pkg, spec.resolver)
      } catch (e) {
        tried.push(`package "${spec.pkg}": ${msg(e)}`)
      }
      if (file) got = fromFile(name, 'package', file, tried)
    }
    got ??= fromFile(name, 'beside-binary', join(dirname(deps.execPath), spec.file), tried)
    if (!got) {
      throw new PorterError(
        'PORTER_ERR_NATIVE_ADDON',
        `Cannot load the native addon "${name}" (tried: ${tried.join('; ')}): rebuild with "npm run build", or put ${spec.file} beside the binary`,
      )
    }
    cache.set(name, got)
    return got
  }

  return { load }
}

const defaultLoader = createAddonLoader()

/** The exports of a native addon (cached: each addon is opened once per process). */
export function loadAddon<T = Record<string, unknown>>(name: AddonName): T {
  return defaultLoader.load(name).exports as T
}

/** Where each addon came from and what it exports: `porter debug-native` and the SEA test. */
export function nativeReport(loader: AddonLoader = defaultLoader): { sea: boolean; addons: { name: string; source: AddonSource; path: string; exports: string[] }[] } {
  const addons = (Object.keys(ADDONS) as AddonName[]).map((name) => {
    const a = loader.load(name)
    return { name, source: a.source, path: a.path, exports: Object.keys(a.exports).sort() }
  })
  return { sea: defaultDeps.isSea(), addons }
}
