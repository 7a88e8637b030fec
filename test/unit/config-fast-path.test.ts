// internal/config/load.ts reads a config with js-yaml first (no positions, fast) and falls back to
// `yaml` with positions for errors. Both must read every text to the same data: here the fast
// reader against `yaml` (the full path's parser) over the repository's configs and a table of
// YAML 1.2 core-schema scalars and structures; texts the fast reader leaves to the full path
// must be exactly the ones it cannot read as `yaml` does.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseDocument } from 'yaml'
import { parseFast } from '../../internal/config/load.ts'
import { parseConfig, ConfigError } from '../../internal/config/index.ts'
import { ROOT } from '../lib/cli.ts'

const full = (text: string): unknown => parseDocument(text, { uniqueKeys: true, prettyErrors: false }).toJS()

const CONFIGS = ['systemd/porter.yaml', 'build/demo/porter-demo.yaml'].map((f) => ({ name: f, text: readFileSync(join(ROOT, f), 'utf8') }))

const SCALARS = [
  '~', 'null', 'Null', 'NULL', '', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'yes', 'no', 'on', 'off', 'y', 'n',
  '0', '-0', '+12', '012', '0o17', '0x1F', '0b101', '1_000', '12:30', '1.5', '-1.5e3', '1e3', '.5', '5.', '.inf', '-.Inf', '.nan',
  '198.18.0.1', '2001:db8::1', '2001:db8::1/128', '65001:100', '"quoted: yes"', "'single ''q'''", '2001-12-14', '500ms', '2s',
  'no-export', 'a b  c', '"\\u00e9\\t"', '!!str 12', '!!int "7"',
]

t.test('the corpus is not empty', async (t) => {
  t.ok(CONFIGS.length >= 2 && CONFIGS.every((c) => c.text.length > 100))
  t.ok(SCALARS.length > 40)
})

t.test("the repository's configs: the fast reader gives what yaml gives", async (t) => {
  for (const c of CONFIGS) {
    const fast = parseFast(c.text)
    t.ok(fast, `${c.name} is read by the fast path`)
    t.same(fast, full(c.text), c.name)
  }
})

t.test('core-schema scalars as values, in block and flow style: the same data or the full path', async (t) => {
  let fastCount = 0
  for (const s of SCALARS) {
    for (const text of [`k: ${s}\n`, `k: [${s}, x]\n`, `k:\n  - ${s}\n  - { v: ${s} }\n`]) {
      const fast = parseFast(text)
      if (fast === undefined) continue
      fastCount++
      t.same(fast, full(text), JSON.stringify(text))
    }
  }
  t.ok(fastCount > SCALARS.length * 2, `most texts take the fast path (${fastCount})`)
})

t.test('structures: anchors, aliases, multi-line strings, comments, nesting', async (t) => {
  const texts = [
    'a: &x { p: 1, q: [1, 2] }\nb: *x\n',
    'a: |\n  line 1\n  line 2\nb: >-\n  folded\n  text\n',
    '# c\na: 1 # trailing\n\n---\n',
    'a:\n  b:\n    - c: 1\n      d: [x, "y", \'z\']\n    - []\n  e: {}\n',
    'a: "multi\n  line"\n',
    '? complex\n: value\n',
  ]
  for (const text of texts) {
    const fast = parseFast(text)
    if (fast !== undefined) t.same(fast, full(text), JSON.stringify(text))
  }
  t.ok(parseFast(texts[0]!), 'anchors and aliases take the fast path')
})

t.test('what the fast reader leaves to the full path', async (t) => {
  t.equal(parseFast('a: 1\na: 2\n'), undefined, 'a duplicate key (yaml: uniqueKeys)')
  t.equal(parseFast('a: [1, 2\n'), undefined, 'a syntax error')
  t.equal(parseFast('- 1\n- 2\n'), undefined, 'a sequence at the top')
  t.equal(parseFast(''), undefined, 'an empty file')
  t.equal(parseFast('a: 1\n---\nb: 2\n'), undefined, 'two documents')
  t.equal(parseFast('__proto__: { x: 1 }\n'), undefined, 'a __proto__ key')
  t.equal(parseFast('a: !custom 1\n'), undefined, 'an unknown tag')
})

t.test('a config the fast path reads but validation rejects is reported with file:line:col', async (t) => {
  const text = 'bgp:\n  localAs: 65001\n  routerId: 192.0.2.1\n  peers:\n    - { address: 192.0.2.300, peerAs: 65002 }\n'
  t.ok(parseFast(text), 'readable by the fast path')
  const e = t.throws(() => parseConfig(text, 'p.yaml')) as ConfigError
  t.ok(e instanceof ConfigError)
  t.match(e.message, /^p\.yaml:5:18: bgp\.peers\[0\]\.address: "192\.0\.2\.300" is not an IP address/)
})
