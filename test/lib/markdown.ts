// Fenced code blocks of the project's documents (README.md and docs/*.md), for the tests that
// check that what is documented works (test/unit/docs-examples.test.ts, test/e2e/docs-routers.test.ts).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './cli.ts'

export interface Block { file: string; line: number; lang: string; text: string }

/** README.md and every docs/*.md, relative to the repository root */
export const DOC_FILES: readonly string[] = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)]

/** Every fenced block (an indented fence loses its indentation), in document order. */
export function docBlocks(files: readonly string[] = DOC_FILES): Block[] {
  const out: Block[] = []
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n')
    for (let i = 0; i < lines.length; i++) {
      const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]!)
      if (!open) continue
      const indent = open[1]!.length
      const body: string[] = []
      let j = i + 1
      for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(indent))
      out.push({ file, line: i + 1, lang: open[2]!, text: body.join('\n') + '\n' })
      i = j
    }
  }
  return out
}

/** The one block of `lang` in `file` (optionally whose text starts with `prefix`); throws unless exactly one. */
export function docBlock(file: string, lang: string, prefix = ''): Block {
  const bs = docBlocks([file]).filter((b) => b.lang === lang && b.text.startsWith(prefix))
  if (bs.length !== 1) throw new Error(`${file}: ${bs.length} \`\`\`${lang} blocks starting with ${JSON.stringify(prefix)}, want 1`)
  return bs[0]!
}

export const where = (b: Block): string => `${b.file}:${b.line}`
