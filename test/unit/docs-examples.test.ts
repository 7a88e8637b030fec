// Nothing documented that does not work: every fenced block and command in README.md and docs/
// is checked by the tool it is written for.
//   ```yaml starting with "# porter.yaml"  -> `dist/porter validate`
//   ```yaml with apiVersion/kind           -> parsed; Porter's CRDs converted with no error and no ignored field
//   ```bird                                -> `bird -p -c` (BIRD 2's own parser)
//   ```frr                                 -> `vtysh -C -f` (FRR's own parser)
//   ```toml                                -> `gobgpd -d -f` (GoBGP's dry run)
//   `porter <command> [--flags]`           -> the command is in `porter --help`, each flag in `porter <command> --help`
//   [text](relative/path)                  -> the file exists
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { ROOT } from '../lib/cli.ts'
import { builtPorter } from '../lib/dist.ts'
import { DOC_FILES, docBlocks, where, type Block } from '../lib/markdown.ts'
import { toBgpConfInfo, toBgpPeerInfo, toEipInfo } from '../../internal/k8s/crd.ts'

const FILES = DOC_FILES
const dir = mkdtempSync(join(tmpdir(), 'porter-docs-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const ALL = docBlocks()
const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 })
const fileOf = (b: Block, ext: string) => {
  const p = join(dir, `${b.file.replace(/\W/g, '_')}_${b.line}.${ext}`)
  writeFileSync(p, b.text)
  return p
}

t.test('the documents have code to check', async (t) => {
  t.ok(FILES.length >= 6, `${FILES.length} documents`)
  for (const lang of ['yaml', 'bird', 'frr', 'toml', 'sh']) t.ok(ALL.some((b) => b.lang === lang), `at least one ${lang} block`)
})

t.test('Porter configs validate with dist/porter', async (t) => {
  const porter = builtPorter(dir)
  const configs = ALL.filter((b) => b.lang === 'yaml' && b.text.startsWith('# porter.yaml'))
  t.ok(configs.length >= 3, `${configs.length} configs`)
  for (const b of configs) {
    const r = run(porter, ['validate', '--config', fileOf(b, 'yaml')])
    t.equal(r.status, 0, `${where(b)} is valid ${r.stdout}${r.stderr}`)
  }
})

t.test('Kubernetes objects parse; Porter\'s CRD objects convert with no error and no ignored field', async (t) => {
  const manifests = ALL.filter((b) => b.lang === 'yaml' && /^apiVersion:/m.test(b.text))
  t.ok(manifests.length >= 2, `${manifests.length} manifests`)
  let crs = 0
  for (const b of manifests) {
    for (const d of parseAllDocuments(b.text)) {
      t.same(d.errors, [], `${where(b)}: YAML`)
      const o = d.toJS() as { apiVersion?: string; kind?: string }
      t.ok(o.apiVersion && o.kind, `${where(b)}: apiVersion and kind`)
      const info = o.kind === 'Eip' ? toEipInfo(o) : o.kind === 'BgpConf' ? toBgpConfInfo(o) : o.kind === 'BgpPeer' ? toBgpPeerInfo(o) : undefined
      if (o.apiVersion !== 'network.kubesphere.io/v1alpha2') continue
      crs++
      t.ok(info, `${where(b)}: ${o.kind} converts`)
      t.same(info?.errors, [], `${where(b)}: ${o.kind} has no error`)
      t.same(info?.ignored, [], `${where(b)}: ${o.kind} uses no field Porter ignores`)
    }
  }
  t.ok(crs >= 3, `${crs} Porter objects`)
})

t.test('router snippets pass the routers\' own parsers', async (t) => {
  const checks: [string, (f: string) => ReturnType<typeof run>, string][] = [
    ['bird', (f) => run('bird', ['-p', '-c', f]), 'conf'],
    ['frr', (f) => run('vtysh', ['-C', '-f', f]), 'conf'],
    ['toml', (f) => run('gobgpd', ['-d', '-f', f, '-t', 'toml']), 'toml'],
  ]
  for (const [lang, check, ext] of checks) {
    const bs = ALL.filter((b) => b.lang === lang)
    t.ok(bs.length >= 1, `${bs.length} ${lang} snippet(s)`)
    for (const b of bs) {
      const r = check(fileOf(b, ext))
      t.equal(r.status, 0, `${where(b)} parses: ${r.stdout}${r.stderr}`)
    }
  }
})

t.test('every porter command and flag shown exists', async (t) => {
  const porter = builtPorter(dir)
  const main = run(porter, ['--help']).stdout
  const commands = new Set([...main.matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]!))
  t.ok(commands.size >= 5, `porter --help lists ${[...commands].join(', ')}`)
  const helpOf = new Map<string, string>()
  const uses: { at: string; cmd: string; flags: string[] }[] = []
  for (const file of FILES) {
    const text = readFileSync(join(ROOT, file), 'utf8')
    text.split('\n').forEach((line, i) => {
      for (const m of line.matchAll(/(?:^|[\s`|(])porter ([a-z]+)((?: +(?:--?[\w-]+|[A-Z]+|\[[^\]]*\]|\/\S+|[\w./=-]+))*)/g)) {
        if (!/^(controller|agent|status|validate|version|[a-z]+)$/.test(m[1]!)) continue
        // prose ("porter status shows ...") names a command too; only code spans and blocks are checked for flags
        const flags = [...m[2]!.matchAll(/--[\w-]+/g)].map((f) => f[0])
        uses.push({ at: `${file}:${i + 1}`, cmd: m[1]!, flags })
      }
    })
  }
  const shown = uses.filter((u) => commands.has(u.cmd) || /^(controller|agent|status|validate|version)$/.test(u.cmd))
  t.ok(shown.length >= 10, `${shown.length} uses of porter commands in the documents`)
  for (const u of shown) {
    t.ok(commands.has(u.cmd), `${u.at}: porter ${u.cmd} is a command`)
    if (!helpOf.has(u.cmd)) helpOf.set(u.cmd, run(porter, [u.cmd, '--help']).stdout + run(porter, [u.cmd, '--help']).stderr)
    for (const f of u.flags) if (f !== '--help') t.match(helpOf.get(u.cmd)!, f, `${u.at}: porter ${u.cmd} takes ${f}`)
  }
})

t.test('relative links point at files that exist', async (t) => {
  let n = 0
  for (const file of FILES) {
    const text = readFileSync(join(ROOT, file), 'utf8')
    for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      const target = m[1]!
      if (/^[a-z]+:/.test(target)) continue
      n++
      t.ok(existsSync(join(ROOT, dirname(file), target)), `${file}: link to ${target}`)
    }
  }
  t.ok(n >= 10, `${n} relative links`)
})
