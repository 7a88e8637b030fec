// The container image (build/image/): built with Debian's buildah from the built dist/porter,
// FROM scratch, into a private containers-storage in the lab's temp dir (vfs driver: no overlay
// mounts), then checked through its exported filesystem (`buildah mount`), because running a
// container does not work on this machine (crun refuses: cgroups in hybrid mode). Everything
// from the image runs chrooted into that filesystem inside a network namespace the test created
// (`ip netns exec` gives a private mount namespace for /proc, /sys and /dev). The agent from the
// image programs a VIP into such a namespace with the image's own nft and iptables.
// Cleanup: the working container and the image are removed, then the whole storage with the lab.
import t from 'tap'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLab, run, waitFor, type Lab } from './lib/netns.ts'
import { addrs, nftSetElems } from './agent-harness.ts'
import { builtPorter } from '../lib/dist.ts'
import { ROOT } from '../lib/cli.ts'
import { adminRequest } from '../../internal/admin/index.ts'

const BUILD = join(ROOT, 'build', 'image', 'build.mjs')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }

const lab: Lab = createLab()
const storage = join(lab.dir, 'storage')
const runroot = join(lab.dir, 'runroot')
const storageArgs = ['--root', storage, '--runroot', runroot, '--storage-driver', 'vfs']
// buildah's big temporary files (layer tarballs) go to the lab dir too
const env = { ...process.env, TMPDIR: lab.dir }
const buildah = (args: string[], allowFail = false) => run('/usr/bin/buildah', [...storageArgs, ...args], { env, allowFail, timeoutMs: 120_000 })

let ref = ''
let container = ''
let rootfs = ''

t.teardown(async () => {
  // the agents chrooted into the image are stopped by their tests' teardowns
  if (container) await buildah(['rm', container], true)
  if (ref) await buildah(['rmi', '--force', ref], true)
  // then the namespaces and lab.dir with the whole storage
  await lab.cleanup()
})

/** A command from the image: chrooted into its filesystem, in namespace `ns`, with /proc, /sys and a minimal /dev. */
async function inImage(ns: string, argv: string[], o: { user?: string; allowFail?: boolean } = {}) {
  return run('ip', ['netns', 'exec', ns, ...chrootCmd(argv, o.user)], { allowFail: o.allowFail ?? false, env: { PATH: '/usr/sbin:/usr/bin' } })
}

/** sh (the host's) sets up the mounts in the private mount namespace `ip netns exec` made, then execs chroot. */
function chrootCmd(argv: string[], user?: string): string[] {
  const script = [
    'set -e; R="$1"; shift',
    'mountpoint -q "$R/proc" || mount -t proc proc "$R/proc"',
    'mountpoint -q "$R/sys" || mount -t sysfs sysfs "$R/sys"',
    'if ! mountpoint -q "$R/dev"; then mount -t tmpfs -o mode=755,size=1m tmpfs "$R/dev"; for d in null zero random urandom; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done; fi',
    'exec chroot ${USERSPEC:+--userspec=$USERSPEC} "$R" "$@"',
  ].join('\n')
  return ['env', '-i', 'PATH=/usr/sbin:/usr/bin', `USERSPEC=${user ?? ''}`, '/bin/sh', '-c', script, 'sh', rootfs, ...argv]
}

t.test('buildah builds the image FROM scratch from dist/porter, no Docker engine', async (t) => {
  const binary = builtPorter(lab.dir)
  const printed = await run(process.execPath, [BUILD, '--print-ref'])
  t.equal(printed.stdout.trim(), `localhost/porter:${pkg.version}`, 'the reference is localhost/porter:<package.json version>')
  const out = await run(process.execPath, [BUILD, '--binary', binary, ...storageArgs], { env, timeoutMs: 300_000 })
  const [builtRef, id] = out.stdout.trim().split(' ')
  ref = builtRef!
  t.equal(ref, printed.stdout.trim(), 'tagged with that reference')
  t.match(id, /^[0-9a-f]{64}$/, 'an image id')
  const images = JSON.parse((await buildah(['images', '--json'])).stdout) as { names?: string[] }[]
  t.ok(images.some((i) => i.names?.includes(ref)), 'the image is in the (private) storage')

  const info = JSON.parse((await buildah(['inspect', '--type', 'image', ref])).stdout) as {
    OCIv1: { config: { User?: string; Entrypoint?: string[]; Env?: string[]; Labels?: Record<string, string> }; rootfs: { diff_ids: string[] }; created?: string }
  }
  const cfg = info.OCIv1.config
  t.equal(cfg.User, '65532:65532', 'non-root by default')
  t.same(cfg.Entrypoint, ['/usr/bin/porter'])
  t.equal(cfg.Labels?.['org.opencontainers.image.version'], pkg.version)
  t.equal(info.OCIv1.rootfs.diff_ids.length, 1, 'one layer: FROM scratch, one COPY')
  t.equal(info.OCIv1.created, '1970-01-01T00:00:00Z', 'fixed timestamp (reproducible)')

  // the image's filesystem, exported: a working container, mounted (vfs: a plain directory)
  container = (await buildah(['from', '--pull-never', ref])).stdout.trim().split('\n').pop()!
  rootfs = (await buildah(['mount', container])).stdout.trim()
  // a short path to it: unix socket paths inside it would exceed 107 bytes
  symlinkSync(rootfs, join(lab.dir, 'r'))
  t.ok(existsSync(join(rootfs, 'usr', 'bin', 'porter')), `mounted at ${rootfs}`)
  const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex')
  t.equal(sha(join(rootfs, 'usr', 'bin', 'porter')), sha(binary), '/usr/bin/porter is dist/porter, byte for byte')
})

t.test('from a chroot into the image: porter, nft and iptables run with the libraries the image has', async (t) => {
  t.ok(rootfs, 'the image was built and mounted')
  const ns = await lab.ns('chroot')
  const version = await inImage(ns, ['/usr/bin/porter', 'version'])
  t.match(version.stdout, new RegExp(`^porter ${pkg.version.replace(/\./g, '\\.')} \\(commit \\w+, node v20\\.`), 'porter version')
  const help = await inImage(ns, ['/usr/bin/porter', 'agent', '--help'])
  t.match(help.stdout, /--cleanup/, 'porter agent --help')
  const asNonroot = await inImage(ns, ['/usr/bin/porter', 'version', '--json'], { user: '65532:65532' })
  t.equal((JSON.parse(asNonroot.stdout) as { version: string }).version, pkg.version, 'runs as the image\'s non-root user too (native addons unpacked in /tmp)')
  t.match((await inImage(ns, ['nft', '--version'])).stdout, /^nftables v1\./, 'nft --version')
  t.match((await inImage(ns, ['iptables', '--version'])).stdout, /^iptables v1\.8\.\d+ \(nf_tables\)/, 'iptables --version: iptables-nft')
  t.match((await inImage(ns, ['ip6tables-legacy', '--version'])).stdout, /\(legacy\)/, 'ip6tables-legacy --version')
  // real kernel transactions from the image's userspace, in the namespace
  writeFileSync(join(rootfs, 'tmp', 'rules.nft'), 'table inet pt {\n  set s {\n    type ipv4_addr\n    elements = { 192.0.2.77 }\n  }\n}\n')
  await inImage(ns, ['nft', '-f', '/tmp/rules.nft'])
  t.match((await inImage(ns, ['nft', '-j', 'list', 'table', 'inet', 'pt'])).stdout, /"elem":\s*\["192\.0\.2\.77"\]/, 'nft (libnftables, JSON) writes and lists a table')
  const rules = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -d 192.0.2.77/32 -m comment --comment pt -m conntrack --ctstate NEW -j ACCEPT\nCOMMIT\n'
  writeFileSync(join(rootfs, 'tmp', 'rules.v4'), rules)
  await inImage(ns, ['iptables-nft-restore', '/tmp/rules.v4'])
  t.match((await inImage(ns, ['iptables-nft-save'])).stdout, /-A INPUT -d 192\.0\.2\.77\/32 -m comment --comment pt -m conntrack --ctstate NEW -j ACCEPT/, 'iptables modules (comment, conntrack) load from the image')
  await inImage(ns, ['iptables-legacy-restore', '/tmp/rules.v4'])
  t.match((await inImage(ns, ['iptables-legacy-save'])).stdout, /192\.0\.2\.77/, 'iptables-legacy too')
  t.notOk(existsSync(join(rootfs, 'bin', 'sh')) || existsSync(join(rootfs, 'usr', 'bin', 'sh')), 'no shell in the image')
  const bins = readdirSync(join(rootfs, 'usr', 'bin'))
  t.same(bins, ['porter'], '/usr/bin holds the single executable only')
})

for (const firewall of ['nftables', 'iptables'] as const) {
  t.test(`the agent from the image programs a VIP in a namespace (agent.firewall ${firewall})`, async (t) => {
    t.ok(rootfs, 'the image was built and mounted')
    const ns = await lab.ns(`agent-${firewall.slice(0, 3)}`)
    const vip = firewall === 'nftables' ? '192.0.2.50' : '192.0.2.51'
    const sock = `/run/porter-agent-${firewall}/porter.sock`
    const cfgFile = `/etc/porter/agent-${firewall}.yaml`
    mkdirSync(join(rootfs, 'etc', 'porter'), { recursive: true })
    writeFileSync(join(rootfs, cfgFile), [
      `agent: { interface: lo, firewall: ${firewall}, nodeAddresses: [192.0.2.1] }`,
      `vips: [{ address: ${vip}, nextHops: [192.0.2.1] }]`,
      `admin: { socket: ${sock} }`,
      'shutdownTimeout: 3s',
      '',
    ].join('\n'))
    const child = lab.spawn(ns, chrootCmd(['/usr/bin/porter', 'agent', '--config', cfgFile]), { label: `agent-${firewall}`, env: { PATH: '/usr/sbin:/usr/bin' } })
    t.teardown(() => lab.kill(child))
    const status = await waitFor(async () => {
      const s = await adminRequest(join(lab.dir, 'r', sock), { cmd: 'status' }, 2000) as { agent?: { vips: string[]; backend: string } }
      return s.agent?.vips.includes(vip) ? s : undefined
    }, { timeoutMs: 20_000, what: `the image's agent programming ${vip}` })
    t.equal(status.agent!.backend, firewall, `backend ${firewall}`)
    t.ok((await addrs(ns)).some((a) => a.ifname === 'lo' && a.local === vip), `${vip} on lo of the namespace`)
    if (firewall === 'nftables') t.same(await nftSetElems(ns, 'vips4'), [vip], 'in the nftables set, written by the image\'s nft')
    else t.match((await run('ip', ['netns', 'exec', ns, 'iptables-nft-save'])).stdout, new RegExp(`-A PORTER-INPUT -d ${vip.replace(/\./g, '\\.')}/32 -j ACCEPT`), 'accepted in PORTER-INPUT, written by the image\'s iptables-nft-restore')
  })
}

t.test('the Kubernetes manifests run this image', async (t) => {
  t.ok(ref, 'the image was built')
  const dir = join(ROOT, 'build', 'kubernetes')
  const images = readdirSync(dir).filter((f) => f.endsWith('.yaml')).flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/^\s*image:\s*(\S+)/gm)].map((m) => [f, m[1]!]))
  t.ok(images.length >= 2, `the manifests name an image (${images.map(([f]) => f).join(', ')})`)
  for (const [f, image] of images) t.equal(image, ref, `${f}: image ${image}`)
})
