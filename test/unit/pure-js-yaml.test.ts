// build/pure-js-yaml.mjs marks js-yaml's top-level declarations pure so that esbuild drops the
// tags, schemas and dumper Porter does not use. The js-yaml in dist/porter must read every text
// as the unmodified module does: both bundled here, then compared on the repository's YAML (the
// manifests, systemd/porter.yaml, every YAML block of the docs) and on generated documents.
import t from 'tap'
import fc from 'fast-check'
import { build } from 'esbuild'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../lib/cli.ts'
import { docBlocks } from '../lib/markdown.ts'
import { checkProperty, fastCheckSeed } from '../lib/fuzz.ts'
// @ts-expect-error: a plain ES module of the build, without types
import { pureJsYamlPlugin } from '../../build/pure-js-yaml.mjs'

type Load = (text: string, opts: object) => unknown
interface JsYaml { load: Load; CORE_SCHEMA: object }

const dir = mkdtempSync(join(tmpdir(), 'porter-pure-js-yaml-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const req = createRequire(join(dir, 'x.cjs'))

async function bundled(name: string, plugins: unknown[]): Promise<{ mod: JsYaml; code: string }> {
  const entry = join(dir, `${name}-entry.mjs`)
  writeFileSync(entry, "export { load, CORE_SCHEMA } from 'js-yaml'\n")
  const outfile = join(dir, `${name}.cjs`)
  await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs', minifyWhitespace: true, minifySyntax: true, nodePaths: [join(ROOT, 'node_modules')], logLevel: 'silent', plugins: plugins as never[] })
  return { mod: req(outfile) as JsYaml, code: readFileSync(outfile, 'utf8') }
}

const plain = await bundled('plain', [])
const pure = await bundled('pure', [pureJsYamlPlugin()])

/** what load() makes of `text` (JSON, with undefined, NaN and the infinities named), or its error */
function reading(y: JsYaml, text: string): string {
  try {
    return JSON.stringify(y.load(text, { schema: y.CORE_SCHEMA, json: false }), (_, v: unknown) => (v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? `<${String(v)}>` : v))
  } catch (e) {
    return `error: ${(e as Error).message}`
  }
}

t.test('the marked js-yaml drops what Porter does not use', async (t) => {
  t.ok(pure.code.length < plain.code.length * 0.85, `bundle ${plain.code.length} -> ${pure.code.length} bytes`)
  for (const unused of ['YAML11_SCHEMA', 'DUMP_SCHEMA', 'timestampTag']) {
    t.match(plain.code, unused, `the plain bundle has ${unused}`)
    t.notMatch(pure.code, unused, `the marked bundle has no ${unused}`)
  }
})

t.test('both read the repository YAML alike', async (t) => {
  const files = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean)
  const texts = [...files.map((f) => readFileSync(join(ROOT, f), 'utf8')), ...docBlocks().filter((b) => b.lang === 'yaml').map((b) => b.text)]
  t.ok(files.length >= 5 && texts.length >= 10, `${files.length} files and ${texts.length - files.length} doc blocks`)
  let docs = 0
  for (const text of texts) {
    // the manifests hold several documents: each on its own, as load() takes one
    for (const doc of text.split(/^---$/m)) {
      const a = reading(plain.mod, doc)
      t.equal(reading(pure.mod, doc), a, doc.slice(0, 60))
      if (!a.startsWith('error')) docs++
    }
  }
  t.ok(docs >= 20, `${docs} documents read without error`)
})

t.test('both read generated documents alike', async (t) => {
  const run = fastCheckSeed(t)
  // plain scalars of every core-schema kind and near misses, quoted strings, anchors, tags
  const scalar = fc.oneof(
    fc.constantFrom('~', 'null', 'Null', 'NULL', 'true', 'False', 'yes', 'on', '0x1F', '0o17', '017', '+12', '-0', '1_000', '1e3', '.5', '-.inf', '.NaN', '2001-12-14', '2001:db8::1', '198.51.100.7', '64512', '10s', "'q'", '"d\\tq"', '!!str 1', '!!int "7"', '!!binary aGk=', '!!timestamp 2001-12-14', '<<', '&a x', '*a', '|', '>-'),
    fc.string({ unit: fc.constantFrom(...'0123456789.-+eExo_abc: #'), maxLength: 8 }),
  )
  const line = fc.tuple(fc.constantFrom('a', 'b', 'key', '"k"', '? x'), scalar, fc.constantFrom('', '  ', '\n  - ', ' # c', '\n  x: ')).map(([k, v, tail]) => `${k}: ${v}${tail}`)
  const doc = fc.oneof(fc.array(line, { maxLength: 6 }).map((ls) => ls.join('\n')), fc.array(scalar, { maxLength: 5 }).map((vs) => `[${vs.join(', ')}]`), scalar)
  checkProperty(t, run, 'the marked js-yaml reads as js-yaml', fc.property(doc, (text) => reading(pure.mod, text) === reading(plain.mod, text)), 10_000)
})
