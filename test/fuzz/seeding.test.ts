// Every test file that uses fast-check takes its seed from test/lib/fuzz.ts (fixed by default,
// printed, PORTER_FC_SEED to vary it): none seeds from the clock or a constant of its own.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { ROOT } from '../lib/cli.ts'

function testFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...testFiles(p))
    else if (e.name.endsWith('.test.ts')) out.push(p)
  }
  return out
}

const users = [...testFiles(join(ROOT, 'internal')), ...testFiles(join(ROOT, 'test'))]
  .filter((f) => /from 'fast-check'/.test(readFileSync(f, 'utf8')))

t.test('fast-check test files use the shared seeding', async (t) => {
  t.ok(users.length >= 10, `${users.length} test files use fast-check`)
  for (const f of users) {
    const text = readFileSync(f, 'utf8')
    t.ok(/fastCheckSeed\(t\)/.test(text), `${relative(ROOT, f)}: calls fastCheckSeed(t)`)
    t.notMatch(text, /seed:\s*(\d|Date|Number\(process)/, `${relative(ROOT, f)}: no seed of its own`)
    t.notMatch(text, /process\.env\.PORTER_FC_SEED/, `${relative(ROOT, f)}: does not read PORTER_FC_SEED itself`)
  }
})
