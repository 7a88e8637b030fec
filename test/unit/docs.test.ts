// The README documents every error code and every top-level config section.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ErrorCodes } from '../../internal/errors/index.ts'
import { configSchema } from '../../internal/config/index.ts'
import { ROOT } from '../lib/cli.ts'

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')

t.test('every error code is in the README', async (t) => {
  const codes = Object.keys(ErrorCodes)
  t.ok(codes.length > 5, 'the catalog is not empty')
  for (const c of codes) t.ok(readme.includes(`\`${c}\``), c)
})

t.test('every config field is in the README table', async (t) => {
  const sections = configSchema.sections
  t.ok(sections.length >= 6)
  for (const s of sections) t.match(readme, new RegExp(`\\| \`${s}[.\`[]`), s)
})
