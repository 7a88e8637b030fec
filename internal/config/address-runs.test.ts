// The address-run cut of parseFast (load.ts): long lists of addresses are read without js-yaml
// and must give exactly what js-yaml gives for the whole text, or leave the text to it.
import t from 'tap'
import { load, CORE_SCHEMA } from 'js-yaml'
import { cutAddressRuns, parseConfig, parseFast } from './load.ts'

const N = 100
const list = (indent: number, n = N, f = (i: number) => `198.18.${i >> 8}.${i & 255}`) =>
  Array.from({ length: n }, (_, i) => `${' '.repeat(indent)}- ${f(i)}`).join('\n')
const whole = (text: string) => load(text, { schema: CORE_SCHEMA, json: false })

const cases: [string, string, boolean][] = [
  // [name, text, whether the text has runs to cut (a cut in a string is then undone: same document)]
  ['a VIP list', `vips:\n  - name: a\n    nextHops: [192.0.2.1]\n    address:\n${list(6)}\n`, true],
  ['two lists, IPv6, /len, trailing spaces, last line without newline', `a:\n${list(2)}\nb:\n${list(4, N, (i) => `2001:db8::${i.toString(16)}/128  `)}`, true],
  ['a comment splits a run in two', `a:\n${list(2)}\n  # note\n${list(2, N, (i) => `203.0.113.${i}`)}\n`, true],
  ['other items between', `a:\n${list(2)}\n  - { address: 192.0.2.1 }\n  - x\n${list(2, N, (i) => `203.0.113.${i}`)}\n`, true],
  ['inside a block scalar', `a: |\n${list(2)}\nb: 1\n`, true],
  ['continuing a multi-line plain scalar', `a: text\n${list(2)}\nb: 1\n`, true],
  ['an anchored list and its alias', `a: &x\n${list(2)}\nb: *x\n`, true],
  ['numbers are not addresses', `a:\n${list(2, N, (i) => `${i}.5`)}\n`, false],
  ['"2001:db8::" at the end of a line is a mapping in YAML', `a:\n${list(2, N, (i) => `2001:db8:${i.toString(16)}::`)}\n`, false],
  ['CRLF line ends', `a:\r\n${list(2).split('\n').join('\r\n')}\r\n`, false],
  ['too short to bother', `a:\n${list(2, 10)}\n`, false],
  // a run of plain lines ("<indent>- <token>") is read by replacing the separators; any other
  // spacing in one line sends the whole run through the line-by-line expression
  ['extra spaces after the dash in one line, trailing ones in another', `a:\n${list(2).replace('- 198.18.0.7', '-    198.18.0.7').replace('198.18.0.9\n', '198.18.0.9   \n')}\n`, true],
  ['plain lines, no newline at the end', `a:\n${list(4)}`, true],
]

t.test('each case reads as js-yaml reads the whole text', async (t) => {
  t.ok(cases.length > 0)
  for (const [name, text, cut] of cases) {
    t.equal(cutAddressRuns(text) !== undefined, cut, `${name}: runs found`)
    t.same(parseFast(text), whole(text), `${name}: same document`)
  }
})

t.test('with the file\'s bytes (an ASCII file): the same runs, copied from them; bytes that do not match the text are not used', async (t) => {
  t.ok(cases.length > 0)
  for (const [name, text] of cases) {
    t.same(cutAddressRuns(text, Buffer.from(text, 'latin1')), cutAddressRuns(text), `${name}: same cut`)
    t.same(parseFast(text, Buffer.from(text, 'latin1')), whole(text), `${name}: same document`)
  }
  const text = `a:\n${list(2)}\n`
  t.same(cutAddressRuns(text, Buffer.from(`${text}x`, 'latin1')), cutAddressRuns(text), 'a buffer of another length is ignored')
})

t.test('an alias gets the same spliced list', async (t) => {
  const v = parseFast(`a: &x\n${list(2)}\nb: *x\n`) as { a: string[]; b: string[] }
  t.equal(v.a.length, N)
  t.equal(v.a, v.b, 'one list, as js-yaml makes it')
})

t.test('a 10k-VIP config through the cut: valid, and an error still has its line and column', async (t) => {
  const head = 'bgp:\n  localAs: 65001\n  routerId: 192.0.2.1\n  peers: [{ address: 192.0.2.2, peerAs: 65002 }]\nvips:\n  - nextHops: [192.0.2.10]\n    address:\n'
  const good = head + list(6, 10_000) + '\n'
  t.ok(cutAddressRuns(good), 'the list is cut')
  const cfg = parseConfig(good)
  t.equal(cfg.vips[0]!.address.length, 10_000)
  t.equal(cfg.vips[0]!.address[9_999], '198.18.39.15')
  const bad = good.replace('      - 198.18.20.0\n', '      - 198.18.20.300\n')
  t.throws(() => parseConfig(bad, 'bad.yaml'), { message: /^bad\.yaml:5128:9: vips\[0\]\.address\[5120\]: "198\.18\.20\.300" is not a host address/ })
})

t.test('errors in a config with address runs are placed from the cut, exactly as the full parse with positions places them', async (t) => {
  const head = 'bgp:\n  localAs: 65001\n  routerId: 192.0.2.1\n  peers: [{ address: 192.0.2.2, peerAs: 65002 }]\nvips:\n'
  const entry = (nh: string, body: string, more = '') => `  - nextHops: [${nh}]\n${more}    address:\n${body}\n`
  const v4 = list(6, 2_000)
  const v6 = list(6, 300, (i) => `2001:db8::${(i + 1).toString(16)}`)
  const variants: [string, string][] = [
    // in the runs
    ['a bad IPv4 address', head + entry('192.0.2.10', v4.replace('      - 198.18.5.7\n', '      - 198.18.5.700\n'))],
    ['two bad addresses in two lists, one IPv6', head + entry('192.0.2.10', v4.replace('- 198.18.0.3\n', '- 198.18.0.3/24\n')) + entry('2001:db8::a', v6.replace('- 2001:db8::2a\n', '- 2001:db8::2a::1\n'))],
    ['an address twice, in two lists', head + entry('192.0.2.10', v4) + entry('192.0.2.11', list(6, 100, (i) => (i === 70 ? '198.18.1.4' : `203.0.113.${i}`)))],
    ['an address twice in one list', head + entry('192.0.2.10', v4.replace('- 198.18.7.9\n', '- 198.18.0.1\n')) + entry('2001:db8::b', v6)],
    // elsewhere, between and after runs
    ['a bad next hop after a run', head + entry('192.0.2.10', v4) + entry('192.0.2.300', v6)],
    ['an unknown field in an entry between runs, and one at the top', head + entry('192.0.2.10', v4, '    colour: red\n') + entry('2001:db8::a', v6) + 'bogus: 1\n'],
    ['a next hop of the other family (a check across fields)', head + entry('192.0.2.10', v4) + entry('192.0.2.11', v6)],
    ['a required field missing after a run', head + entry('192.0.2.10', v4) + entry('2001:db8::a', v6) + '  - nextHops: [192.0.2.12]\n'],
    ['a bad address in a list that is a run and more', head + entry('192.0.2.10', `${v4}\n      - { not: an address }\n      - 198.18.200.300`)],
  ]
  let compared = 0
  for (const [name, text] of variants) {
    t.ok(cutAddressRuns(text), `${name}: the lists are cut`)
    const fast = issuesOf(() => parseConfig(text, 'c.yaml'))
    // "__proto__" anywhere sends a file past the fast parser (a comment at the end changes no place)
    const full = issuesOf(() => parseConfig(`${text}# __proto__\n`, 'c.yaml'))
    t.ok(fast.length > 0 && fast.every((m) => /^c\.yaml:\d+:\d+: /.test(m)), `${name}: reported, each with its line and column`)
    t.strictSame(fast, full, `${name}: the same issues, places and order as the full path`)
    compared++
  }
  t.equal(compared, variants.length)
  // a list read twice through an alias: the full path places the second reading at the alias
  const aliased = head + '  - nextHops: [192.0.2.10]\n    address: &list\n' + v4 + '\n  - nextHops: [192.0.2.11]\n    address: *list\n'
  const twice = issuesOf(() => parseConfig(aliased, 'c.yaml'))
  t.equal(twice.length, 2_000, 'every address of the aliased list is a duplicate')
  t.ok(twice.every((m) => m.startsWith(`c.yaml:${aliased.split('\n').length - 1}:14: vips[1].address[`)), 'each placed at the alias, as `yaml` places it')
})

function issuesOf(f: () => unknown): string[] {
  try {
    f()
  } catch (e) {
    return (e as { issues: { path: string; message: string; line?: number; col?: number }[] }).issues.map((i) => `c.yaml:${i.line}:${i.col}: ${i.path}: ${i.message}`)
  }
  return []
}

t.test('a reload with the config in force: the same config as a parse of its own, whatever changed', async (t) => {
  const head = 'bgp:\n  localAs: 65001\n  routerId: 192.0.2.1\n  peers: [{ address: 192.0.2.2, peerAs: 65002 }]\nvips:\n'
  const entry = (nh: string, items: string[]) => `  - nextHops: [${nh}]\n    address:\n${items.map((a) => `      - ${a}`).join('\n')}\n`
  const v4 = Array.from({ length: 1_000 }, (_, i) => `198.18.${i >> 8}.${i & 255}`)
  const v6 = Array.from({ length: 200 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`)
  const before = parseConfig(head + entry('192.0.2.10', v4) + entry('2001:db8::a', v6), 'c.yaml')
  const edits: [string, string[], string[]][] = [
    ['nothing', v4, v6],
    ['one address replaced', v4.map((a, i) => (i === 500 ? '203.0.113.9' : a)), v6],
    ['one inserted at the front', ['203.0.113.9', ...v4], v6],
    ['one removed in the middle', v4.filter((_, i) => i !== 10), v6],
    ['an IPv6 address spelt another way', v4, v6.map((a, i) => (i === 3 ? a.toUpperCase().replace('::', ':0::') : a))],
    ['the lists swapped', v6, v4],
    ['a shorter first list', v4.slice(0, 100), v6],
  ]
  let compared = 0
  for (const [name, a, b] of edits) {
    const text = head + entry(a[0]!.includes(':') ? '2001:db8::a' : '192.0.2.10', a) + entry(b[0]!.includes(':') ? '2001:db8::a' : '192.0.2.10', b)
    t.strictSame(parseConfig(text, 'c.yaml', undefined, before), parseConfig(text, 'c.yaml'), `${name}: the same config`)
    t.strictSame(parseConfig(text, 'c.yaml', Buffer.from(text, 'latin1'), before), parseConfig(text, 'c.yaml'), `${name}: the same config, from the file's bytes`)
    compared++
  }
  t.equal(compared, edits.length)
  const bad = head + entry('192.0.2.10', v4.map((a, i) => (i === 7 ? '198.18.0.300' : a)))
  const alone = issuesOf(() => parseConfig(bad, 'c.yaml'))
  t.match(alone, [/^c\.yaml:15:9: vips\[0\]\.address\[7\]: "198\.18\.0\.300" is not a host address/])
  t.strictSame(issuesOf(() => parseConfig(bad, 'c.yaml', undefined, before)), alone, 'an invalid reload is reported as without the config in force')
})
