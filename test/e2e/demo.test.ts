// The `npm run demo` steps as an end-to-end test (from source): three hosts behind one VIP,
// ECMP at the router, a failed health check drops one next hop, recovery restores it.
import t from 'tap'
import { runDemo } from '../../build/demo/scenario.ts'

t.test('demo: VIP on three hosts with ECMP, health-check failover and recovery', async (t) => {
  const r = await runDemo({ t })
  t.ok(r.established, 'BGP session established')
  t.same(r.ecmp3, ['198.51.100.11', '198.51.100.12', '198.51.100.13'], 'three next hops')
  t.equal(r.failures, 0, 'all 30 requests answered')
  t.equal(Object.values(r.spread).reduce((a, b) => a + b, 0), 30)
  t.same(Object.keys(r.spread).sort(), ['h1', 'h2', 'h3'], 'every host got traffic')
  t.same(r.ecmp2, ['198.51.100.11', '198.51.100.13'], 'h2 dropped')
  t.equal(r.failuresAfterDrop, 0, 'requests keep succeeding')
  t.same(Object.keys(r.spreadAfterDrop).sort(), ['h1', 'h3'], 'no request to the failed host')
  t.same(r.ecmpRestored, ['198.51.100.11', '198.51.100.12', '198.51.100.13'], 'h2 back')
})
