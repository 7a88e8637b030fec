// The native loader's order of sources, with the SEA, dlopen and the file system injected;
// then the real thing from source (node_modules).
import t, { type Test } from 'tap'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createAddonLoader, koffiBinary, loadAddon, nativeReport, type LoaderDeps } from './load.ts'
import { PorterError } from '../errors/index.ts'

const ASSET = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3, 4]).buffer

interface Opened { file: string; bytes: Buffer | null; dirMode: number | null }

function fake(t: Test, over: Partial<LoaderDeps> & { failOpen?: (file: string) => boolean } = {}) {
  const base = mkdtempSync(join(tmpdir(), 'porter-load-test-'))
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const opened: Opened[] = []
  const deps: LoaderDeps = {
    isSea: () => false,
    getAsset: () => ASSET,
    resolvePackage: (pkg) => `/nm/${pkg}/build/Release/binding.node`,
    execPath: '/opt/porter/bin/porter',
    tempBases: () => [base],
    dlopen: (module, file) => {
      // look at the file while it exists, as dlopen would
      opened.push({
        file,
        bytes: existsSync(file) ? readFileSync(file) : null,
        dirMode: existsSync(file) ? statSync(dirname(file)).mode & 0o777 : null,
      })
      if (over.failOpen?.(file)) throw new Error(`cannot open ${file}`)
      module.exports = { NativeNetlink: function NativeNetlink() {} }
    },
    ...over,
  }
  return { deps, opened, base }
}

t.test('from source: the package in node_modules, opened once', async (t) => {
  const { deps, opened } = fake(t)
  const loader = createAddonLoader(deps)
  const a = loader.load('netlink')
  t.equal(a.source, 'package')
  t.equal(a.path, '/nm/netlink/build/Release/binding.node')
  t.type(a.exports.NativeNetlink, 'function')
  t.equal(loader.load('netlink'), a, 'second load is the cached one')
  t.equal(opened.length, 1, 'dlopen called once')
})

t.test('from source, package missing: the file beside the binary', async (t) => {
  const { deps, opened } = fake(t, {
    resolvePackage: () => {
      throw new Error("Cannot find module 'netlink/package.json'")
    },
  })
  const a = createAddonLoader(deps).load('netlink')
  t.equal(a.source, 'beside-binary')
  t.equal(a.path, '/opt/porter/bin/netlink.node')
  t.same(opened.map((o) => o.file), ['/opt/porter/bin/netlink.node'])
})

t.test('SEA: the asset goes to a private dir, is opened, then removed', async (t) => {
  const { deps, opened, base } = fake(t, { isSea: () => true })
  const a = createAddonLoader(deps).load('netlink')
  t.equal(a.source, 'sea-asset')
  t.equal(opened.length, 1)
  const o = opened[0]!
  t.equal(dirname(dirname(o.file)), base, 'inside the temp base')
  t.match(o.file, /\/porter-native-[^/]+\/netlink\.node$/)
  t.equal(o.dirMode, 0o700, 'dir is 0700 while the addon is opened')
  t.same(o.bytes, Buffer.from(ASSET), 'file holds the embedded bytes')
  t.notOk(existsSync(o.file), 'file removed after dlopen')
  t.notOk(existsSync(dirname(o.file)), 'dir removed after dlopen')
})

t.test('SEA: a temp dir that cannot be mapped (noexec) falls through to the next', async (t) => {
  const second = mkdtempSync(join(tmpdir(), 'porter-load-test2-'))
  t.teardown(() => rmSync(second, { recursive: true, force: true }))
  const first = { base: '' }
  const { deps, opened, base } = fake(t, {
    isSea: () => true,
    failOpen: (file) => file.startsWith(first.base + '/'),
  })
  first.base = base
  deps.tempBases = () => ['/nonexistent-porter-dir', base, second]
  const a = createAddonLoader(deps).load('netlink')
  t.equal(a.source, 'sea-asset')
  t.equal(opened.length, 2)
  t.equal(dirname(dirname(opened[0]!.file)), base, 'tried the first usable base')
  t.equal(dirname(dirname(a.path)), second, 'loaded from the second')
  t.notOk(existsSync(dirname(opened[0]!.file)), 'failed attempt cleaned up')
})

t.test('SEA without the asset: the file beside the binary', async (t) => {
  const { deps } = fake(t, {
    isSea: () => true,
    getAsset: () => {
      throw new Error('No matching asset found')
    },
  })
  const a = createAddonLoader(deps).load('netlink')
  t.equal(a.source, 'beside-binary')
  t.equal(a.path, '/opt/porter/bin/netlink.node')
})

t.test('nothing works: one PorterError naming everything tried', async (t) => {
  const { deps } = fake(t, { isSea: () => true, failOpen: () => true })
  const err = (() => {
    try {
      createAddonLoader(deps).load('netlink')
    } catch (e) {
      return e
    }
  })()
  t.type(err, PorterError)
  t.equal((err as PorterError).code, 'PORTER_ERR_NATIVE_ADDON')
  t.match((err as Error).message, /^Cannot load the native addon "netlink" \(tried: .*porter-native-.*netlink\.node: cannot open.*\/opt\/porter\/bin\/netlink\.node: cannot open/)
  t.match((err as Error).message, /put netlink\.node beside the binary$/)
})

t.test('real: netlink from node_modules, built from the patched source', async (t) => {
  const exports = loadAddon<{ NativeNetlink: unknown }>('netlink')
  t.type(exports.NativeNetlink, 'function')
  const r = nativeReport()
  t.equal(r.sea, false)
  t.equal(r.addons.length, 2)
  t.match(r.addons[0], { name: 'netlink', source: 'package', exports: ['NativeNetlink'] })
  t.match(r.addons[0]!.path, /node_modules\/netlink\/build\/Release\/netlink_binding\.node$/)
  t.match(r.addons[1], { name: 'koffi', source: 'package' })
  t.ok(r.addons[1]!.exports.includes('load') && r.addons[1]!.exports.includes('errno'), 'koffi exports load and errno')
  t.match(r.addons[1]!.path, new RegExp(`node_modules/@koromix/koffi-${process.platform}-${process.arch}/${process.platform}_${process.arch}/koffi\\.node$`))
})

t.test('koffiBinary: the prebuilt package for this platform, glibc first unless musl', async (t) => {
  const koffiDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules', 'koffi')
  const pkg = `@koromix/koffi-${process.platform}-${process.arch}/`
  t.ok(koffiBinary(koffiDir, process.platform, process.arch, false).endsWith(`${pkg}${process.platform}_${process.arch}/koffi.node`), 'glibc binary')
  t.ok(koffiBinary(koffiDir, process.platform, process.arch, true).endsWith(`${pkg}musl_${process.arch}/koffi.node`), 'musl binary on musl')
  t.throws(() => koffiBinary('/nonexistent/koffi', 'plan9', 'mips'), /no koffi\.node for plan9-mips/)
})
