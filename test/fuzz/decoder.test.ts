// Mutation fuzzing of the BGP message decoder, seeded with the golden vectors (real BIRD, FRR and
// GoBGP messages): each mutated input, framed and decoded as a session does, gives messages or a
// BgpWireError that makes a proper NOTIFICATION, never anything else. Fixed fast-check seed
// (test/lib/fuzz.ts); a failure prints the input: add it to corpus/ (README.md) with the fix.
import t from 'tap'
import fc from 'fast-check'
import { decodeOutcome, ctxFromJson, goldenSeeds, mutatedSeedArb, toHex, renderCorpusFile } from './lib.ts'
import { fastCheckSeed, checkProperty } from '../lib/fuzz.ts'

const FC = fastCheckSeed(t)
const seeds = goldenSeeds()

t.test('the seeds: every golden vector decodes as is', async (t) => {
  t.ok(seeds.length >= 20, `${seeds.length} golden vectors as seeds`)
  for (const s of ['bird/', 'frr/', 'gobgp/']) t.ok(seeds.some((x) => x.name.startsWith(s)), `seeds from ${s}`)
  for (const s of seeds) {
    const o = decodeOutcome(s.bytes, ctxFromJson(s.ctx))
    t.ok(o.length === 1 && !o[0]!.startsWith('error') && o[0] !== 'incomplete', `${s.name}: ${o.join(', ')}`)
  }
})

t.test('mutated golden vectors: messages or a BgpWireError with a proper NOTIFICATION, nothing else', async (t) => {
  const seen = new Map<string, number>()
  checkProperty(t, FC, 'mutated seeds', fc.property(mutatedSeedArb(seeds), (x) => {
    let o: string[]
    try {
      o = decodeOutcome(x.bytes, ctxFromJson(x.ctx))
    } catch (e) {
      const file = renderCorpusFile({ comments: [`from ${x.seed}: ${(e as Error).message.split('\n')[0]}`], ctx: x.ctx, bytes: x.bytes })
      throw new Error(`${(e as Error).message}\ninput ${toHex(x.bytes)}\nas a corpus file:\n${file}`)
    }
    const k = o.at(-1) ?? 'nothing'
    seen.set(k, (seen.get(k) ?? 0) + 1)
    return true
  }), 20_000)
  // the mutations reach the body parsers, not only the header check
  const kinds = [...seen.keys()]
  t.ok(kinds.some((k) => k.startsWith('error 3/')), 'UPDATE errors reached')
  t.ok(kinds.some((k) => k.startsWith('error 2/')), 'OPEN errors reached')
  t.ok(kinds.some((k) => k.startsWith('update')), 'some mutants still decode as UPDATEs')
  t.comment(`outcomes: ${[...seen].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} x${n}`).join(', ')}`)
})
