import t from 'tap'
import fc from 'fast-check'
import { parseArgs } from 'node:util'
import { parseFlags, type FlagSpec } from './args.ts'
import { checkProperty, fastCheckSeed } from '../../test/lib/fuzz.ts'

const FLAGS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'log-level': { type: 'string' },
} as const satisfies Record<string, FlagSpec>

/** node:util's reading of the same argv (strict, no positionals), which parseFlags replaces */
function nodeReading(args: string[]): Record<string, unknown> | 'error' {
  try {
    return { ...parseArgs({ args, options: FLAGS, strict: true, allowPositionals: false }).values }
  } catch {
    return 'error'
  }
}

t.test('flags, values and errors', async (t) => {
  const ok = (args: string[]) => {
    const r = parseFlags(args, FLAGS)
    return 'values' in r ? { ...r.values } : r
  }
  t.same(ok([]), {})
  t.same(ok(['--config', 'a.yaml', '--json']), { config: 'a.yaml', json: true })
  t.same(ok(['--config=a=b.yaml']), { config: 'a=b.yaml' }, 'the first = splits')
  t.same(ok(['--config=']), { config: '' })
  t.same(ok(['--config', '-']), { config: '-' }, 'a lone dash is a value')
  t.same(ok(['--config=-x']), { config: '-x' }, 'a value that starts with a dash, inline')
  t.same(ok(['--config', 'a', '--config', 'b']), { config: 'b' }, 'the last one wins')
  t.same(ok(['-h']), { help: true })
  t.same(ok(['--log-level', 'debug', '--']), { 'log-level': 'debug' })
  t.same(ok(['--nope']), { error: 'unknown flag --nope' })
  t.same(ok(['-x']), { error: 'unknown flag -x' })
  t.same(ok(['-hj']), { error: 'unknown flag -hj' })
  t.same(ok(['--json=1']), { error: '--json takes no value' })
  t.same(ok(['--config']), { error: '--config needs a value (--config VALUE or --config=VALUE)' })
  t.same(ok(['--config', '--json']), { error: '--config needs a value (--config VALUE or --config=VALUE)' }, 'a flag is not taken as the value')
  t.same(ok(['file.yaml']), { error: 'unexpected argument "file.yaml" (porter takes flags only)' })
  t.same(ok(['--', '--json']), { error: 'unexpected argument "--json" (porter takes flags only)' })
  t.same(ok(['-']), { error: 'unexpected argument "-" (porter takes flags only)' })
  t.same(ok(['--toString']), { error: 'unknown flag --toString' }, 'no inherited names')
  t.same(ok(['--__proto__=x']), { error: 'unknown flag --__proto__' })
})

t.test('accepts and refuses what node:util parseArgs does, with the same values', async (t) => {
  const run = fastCheckSeed(t)
  const word = fc.constantFrom('--config', '--json', '--help', '-h', '--log-level', '--', '-', '-x', '--nope', '--json=1', '--config=a', '--config=', '--config=-x', 'a.yaml', 'debug', '', '=', '-hj', '--=x')
  checkProperty(t, run, 'parseFlags(argv) reads argv as parseArgs does', fc.property(fc.array(word, { maxLength: 6 }), (args) => {
    const mine = parseFlags(args, FLAGS)
    const theirs = nodeReading(args)
    return 'error' in mine ? theirs === 'error' : theirs !== 'error' && JSON.stringify({ ...mine.values }) === JSON.stringify(theirs)
  }), 20_000)
})
