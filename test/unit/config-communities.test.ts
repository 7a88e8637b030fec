// One table of well-known communities: every name the codec and the RIB know, the config
// accepts too (they disagreed: the config took 6 names, the RIB 12).
import t from 'tap'
import { configSchema } from '../../internal/config/schema.ts'
import { WELL_KNOWN_COMMUNITIES, parseCommunity } from '../../internal/bgp/rib/index.ts'

const withCommunity = (c: string) => configSchema.safeParse({ vips: [{ address: '203.0.113.10', export: { communities: [c] } }] })

t.test('every well-known name is accepted by the config and parses to its value', async (t) => {
  const names = Object.keys(WELL_KNOWN_COMMUNITIES)
  t.ok(names.length >= 11, `the table is not empty (${names.length} names)`)
  for (const n of names) {
    t.ok(withCommunity(n).success, `config accepts ${n}`)
    t.equal(parseCommunity(n), WELL_KNOWN_COMMUNITIES[n], `${n} parses to its value`)
  }
  t.ok(withCommunity('NO_EXPORT').success, 'case and "_" as the RIB matches them')
  t.ok(withCommunity('65000:100').success)
  const bad = withCommunity('no-such-name')
  t.notOk(bad.success)
  t.match(bad.error?.issues[0]?.message ?? '', /is not a community/, 'a clear error')
  t.notOk(withCommunity('65536:1').success, '16-bit halves')
})
