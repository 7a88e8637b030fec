// The committed regression corpus (corpus/*.hex, README.md): every input is decoded as a session
// does without throwing anything but a BgpWireError with a proper NOTIFICATION, and gives the
// outcome pinned in its `# expect:` line.
import t from 'tap'
import { ctxFromJson, decodeOutcome, readCorpus } from './lib.ts'

const corpus = readCorpus()

t.test('the corpus is not empty', async (t) => {
  t.ok(corpus.length >= 10, `${corpus.length} inputs in test/fuzz/corpus`)
  t.ok(corpus.filter((e) => e.expect).length >= 10, 'at least 10 with a pinned outcome')
  t.ok(corpus.some((e) => e.expect?.some((x) => x.startsWith('error 3/'))), 'UPDATE errors among them')
  t.ok(corpus.some((e) => e.expect?.some((x) => x.startsWith('error 2/'))), 'OPEN errors among them')
})

for (const e of corpus) {
  t.test(e.file, async (t) => {
    let got: string[] = []
    t.doesNotThrow(() => { got = decodeOutcome(e.bytes, ctxFromJson(e.ctx)) }, e.comments.join(' / '))
    if (e.expect) t.same(got, e.expect, `outcome ${got.join('; ')}`)
  })
}
