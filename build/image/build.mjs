#!/usr/bin/env node
// `npm run image`: Porter's container image, built with Debian's buildah (no Docker engine).
//
//   node build/image/build.mjs [--binary FILE] [--tag REF] [--root DIR --runroot DIR]
//                              [--storage-driver DRIVER] [--rootfs DIR] [--print-ref]
//
// 1. assembles a root filesystem in a temp dir (or --rootfs DIR, which is kept and nothing is
//    built): the single executable (--binary, default dist/porter: run `npm run build` first),
//    nft and the iptables multi-call binaries with every iptables-* / ip6tables-* name, the shared
//    libraries all of them need (ldd, plus the xtables modules iptables dlopens), a few /etc files;
// 2. `buildah build` of build/image/Containerfile (FROM scratch, COPY rootfs/ /) with a fixed
//    timestamp, tagged --tag (default localhost/porter:<package.json version>: the reference the
//    manifests in build/kubernetes/ use). --root/--runroot/--storage-driver pick a private
//    containers-storage (the tests use one and delete it); by default the machine's own store,
//    from where `buildah push` / `podman push` take it to a registry.
// Prints the image reference and id. Exit 1 on failure, 2 on bad usage.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..', '..')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
/** the reference build/kubernetes/*.yaml use */
export const IMAGE = `localhost/porter:${pkg.version}`
const BUILDAH = '/usr/bin/buildah'
const NONROOT = 65532

/** Host programs copied into the image (absolute paths, Debian 12 layout). */
const PROGRAMS = ['/usr/sbin/nft', '/usr/sbin/xtables-nft-multi', '/usr/sbin/xtables-legacy-multi']
/** iptables names -> the multi-call binary they run (argv[0] picks the tool) */
const XTABLES_LINKS = Object.fromEntries([
  ...['iptables', 'ip6tables'].flatMap((p) => [
    ...['', '-save', '-restore'].map((s) => [`${p}${s}`, 'xtables-nft-multi']),
    ...['', '-save', '-restore'].map((s) => [`${p}-nft${s}`, 'xtables-nft-multi']),
    ...['', '-save', '-restore'].map((s) => [`${p}-legacy${s}`, 'xtables-legacy-multi']),
  ]),
])
const XTABLES_MODULES = '/usr/lib/x86_64-linux-gnu/xtables'
const ETC_FILES = ['/etc/protocols', '/etc/services', '/etc/ethertypes']

const log = (s) => console.error(`image: ${s}`)

function fail(msg, code = 1) {
  console.error(`image: ${msg}`)
  process.exit(code)
}

/** Shared libraries of an ELF file (ldd), absolute paths, including the program interpreter. */
function libsOf(file) {
  const out = execFileSync('ldd', [file], { encoding: 'utf8' })
  const libs = []
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line)
    if (m) libs.push(m[1])
    else if (/not found/.test(line)) throw new Error(`ldd ${file}: ${line.trim()}`)
  }
  return libs
}

/**
 * Copy host file `src` to `rootfs` + `dest` (default: the same path) as a regular file.
 * Paths under a top-level symlink of the host (/lib -> usr/lib on a merged-/usr system) are
 * stored under the link's target: the image gets the same top-level links (mirrorTopLinks).
 */
function put(rootfs, src, dest = src, mode) {
  const target = join(rootfs, hostCanonicalDir(dirname(dest)), basename(dest))
  mkdirSync(dirname(target), { recursive: true })
  copyFileSync(realpathSync(src), target)
  chmodSync(target, mode ?? (lstatSync(realpathSync(src)).mode & 0o7777))
}

/** /lib/x86_64-linux-gnu -> /usr/lib/x86_64-linux-gnu on merged-/usr hosts (only the top-level link is resolved). */
function hostCanonicalDir(dir) {
  const [, top, ...rest] = dir.split('/')
  const p = `/${top}`
  if (top && existsSync(p) && lstatSync(p).isSymbolicLink()) return join('/', readlinkSync(p).replace(/^\//, ''), ...rest)
  return dir
}

/** /bin, /sbin, /lib, /lib64 as on the host: symlinks on a merged-/usr system. */
function mirrorTopLinks(rootfs) {
  for (const top of ['bin', 'sbin', 'lib', 'lib64']) {
    const p = `/${top}`
    if (existsSync(p) && lstatSync(p).isSymbolicLink()) symlinkSync(readlinkSync(p), join(rootfs, top))
  }
}

/** The image's root filesystem in `rootfs` (must be empty or absent). Returns the file count. */
export function assembleRootfs(binary, rootfs) {
  mkdirSync(rootfs, { recursive: true })
  if (readdirSync(rootfs).length) throw new Error(`${rootfs} is not empty`)
  mirrorTopLinks(rootfs)
  put(rootfs, binary, '/usr/bin/porter', 0o755)
  const elves = [binary, ...PROGRAMS]
  for (const p of PROGRAMS) {
    if (!existsSync(p)) throw new Error(`${p} is missing (Debian packages nftables and iptables)`)
    put(rootfs, p)
  }
  for (const [name, multi] of Object.entries(XTABLES_LINKS)) symlinkSync(multi, join(rootfs, 'usr', 'sbin', name))
  // iptables dlopens its match/target modules (-m comment, -m conntrack, -j ACCEPT ...) from here
  for (const f of readdirSync(XTABLES_MODULES)) {
    if (!f.endsWith('.so')) continue
    put(rootfs, join(XTABLES_MODULES, f))
    elves.push(join(XTABLES_MODULES, f))
  }
  const libs = new Set(elves.flatMap(libsOf))
  for (const l of libs) put(rootfs, l)
  for (const f of ETC_FILES) if (existsSync(f)) put(rootfs, f, f, 0o644)
  const etc = join(rootfs, 'etc')
  mkdirSync(join(etc, 'porter'), { recursive: true })
  writeFileSync(join(etc, 'passwd'), `root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:${NONROOT}:${NONROOT}:nonroot:/nonexistent:/usr/sbin/nologin\n`)
  writeFileSync(join(etc, 'group'), `root:x:0:\nnonroot:x:${NONROOT}:\n`)
  writeFileSync(join(etc, 'nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n')
  for (const d of ['tmp', 'run', 'proc', 'sys', 'dev']) mkdirSync(join(rootfs, d), { recursive: true })
  chmodSync(join(rootfs, 'tmp'), 0o1777)
  return 1 + PROGRAMS.length + libs.size + Object.keys(XTABLES_LINKS).length
}

function gitCommit() {
  try { return execFileSync('git', ['-C', ROOT, 'rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() } catch { return 'unknown' }
}

/** buildah's global storage flags */
export function storageArgs(o) {
  return [...(o.root ? ['--root', o.root] : []), ...(o.runroot ? ['--runroot', o.runroot] : []), ...(o['storage-driver'] ? ['--storage-driver', o['storage-driver']] : [])]
}

function main() {
  let values
  try {
    ({ values } = parseArgs({
      options: {
        binary: { type: 'string', default: join(ROOT, 'dist', 'porter') },
        tag: { type: 'string', default: IMAGE },
        root: { type: 'string' },
        runroot: { type: 'string' },
        'storage-driver': { type: 'string' },
        rootfs: { type: 'string' },
        'print-ref': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (e) {
    return fail(`${e.message} (see the header of build/image/build.mjs)`, 2)
  }
  if (values.help) { console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 17).map((l) => l.replace(/^\/\/ ?/, '')).join('\n')); return }
  if (values['print-ref']) { console.log(IMAGE); return }
  if (!existsSync(values.binary)) return fail(`${values.binary} does not exist: run \`npm run build\` first`)
  const t0 = Date.now()
  if (values.rootfs) {
    const n = assembleRootfs(values.binary, values.rootfs)
    log(`root filesystem in ${values.rootfs} (${n} files and links)`)
    return
  }
  if (!existsSync(BUILDAH)) return fail(`${BUILDAH} is missing (Debian package buildah)`)
  const ctx = mkdtempSync(join(tmpdir(), 'porter-image-'))
  try {
    const n = assembleRootfs(values.binary, join(ctx, 'rootfs'))
    const commit = gitCommit()
    const args = [...storageArgs(values), 'build', '--format', 'oci', '--timestamp', '0', '--layers=false',
      '--label', `org.opencontainers.image.title=porter`, '--label', `org.opencontainers.image.version=${pkg.version}`,
      '--label', `org.opencontainers.image.revision=${commit}`, '--label', `org.opencontainers.image.licenses=${pkg.license}`,
      '-f', join(HERE, 'Containerfile'), '-t', values.tag, ctx]
    const r = spawnSync(BUILDAH, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    if (r.status !== 0) return fail(`buildah ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}${r.stdout}`)
    const id = r.stdout.trim().split('\n').pop()
    log(`${n} files and links, built in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    console.log(`${values.tag} ${id}`)
  } finally {
    rmSync(ctx, { recursive: true, force: true })
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) main()
