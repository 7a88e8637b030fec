// Grow the regression corpus (by hand, not part of npm test):
//
//   npx tsx test/fuzz/grow-corpus.ts [--seed N] [--samples N] [--dry-run]
//
// Samples mutated golden vectors (the decoder fuzz's generator, a fixed seed) and writes, for
// every outcome sequence the corpus does not cover yet (`update attribute-discard`,
// `error 3/11`, ...), the shortest input that produced it, with its outcome pinned as
// `# expect:`. An input that breaks the oracle is written as `crash-*.hex` (fix the decoder, keep
// the file). Review the new files and commit them.
import fc from 'fast-check'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CORPUS_DIR, ctxFromJson, decodeOutcome, goldenSeeds, mutatedSeedArb, readCorpus, renderCorpusFile, type MutatedInput } from './lib.ts'
import { DEFAULT_FC_SEED } from '../lib/fuzz.ts'

const { values } = parseArgs({ options: { seed: { type: 'string' }, samples: { type: 'string' }, 'dry-run': { type: 'boolean' } } })
const seed = Number(values.seed ?? DEFAULT_FC_SEED)
const samples = Number(values.samples ?? 20_000)

const covered = new Set(readCorpus().map((e) => decodeOutcome(e.bytes, ctxFromJson(e.ctx)).join('; ')))
const best = new Map<string, MutatedInput>()
const crashes: { x: MutatedInput; error: string }[] = []
for (const x of fc.sample(mutatedSeedArb(goldenSeeds()), { numRuns: samples, seed })) {
  let key: string
  try {
    key = decodeOutcome(x.bytes, ctxFromJson(x.ctx)).join('; ')
  } catch (e) {
    crashes.push({ x, error: (e as Error).message.split('\n')[0]! })
    continue
  }
  if (covered.has(key)) continue
  const b = best.get(key)
  if (!b || x.bytes.length < b.bytes.length) best.set(key, x)
}

const slug = (s: string) => s.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase()
let written = 0
for (const [key, x] of best) {
  const file = `${slug(key || 'nothing').slice(0, 60)}--${slug(x.seed.replace(/\.json$/, ''))}.hex`
  const text = renderCorpusFile({ comments: [`mutated ${x.seed} (grow-corpus.ts --seed ${seed})`], ctx: x.ctx, bytes: x.bytes, expect: key ? key.split('; ') : [] })
  console.log(`${values['dry-run'] ? 'would write' : 'write'} ${file}: ${key || '(nothing)'}`)
  if (!values['dry-run']) writeFileSync(join(CORPUS_DIR, file), text)
  written++
}
crashes.forEach(({ x, error }, i) => {
  const file = `crash-${seed}-${i}.hex`
  console.log(`CRASH ${file}: ${error}`)
  if (!values['dry-run']) writeFileSync(join(CORPUS_DIR, file), renderCorpusFile({ comments: [`mutated ${x.seed}: ${error}`], ctx: x.ctx, bytes: x.bytes }))
})
console.log(`${samples} samples, seed ${seed}: ${written} new outcome(s), ${crashes.length} crash(es), ${covered.size} already covered`)
