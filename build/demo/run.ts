// Runs the demo scenario with the built executable and prints it; exit 0 only when every step
// happened as shown. Started by build/demo/demo.mjs (`npm run demo`).
import { runDemo, VIP } from './scenario.ts'

const binary = process.argv[2]
const line = '-'.repeat(78)
const print = (s: string) => process.stdout.write(s + '\n')
print(`${line}\nPorter demo: a VIP on three hosts, announced over BGP to a BIRD 2 router with ECMP\n${line}`)
try {
  const r = await runDemo({ binary, print })
  const checks: [string, boolean][] = [
    ['BGP session established', r.established],
    ['router has an ECMP route with three next hops', r.ecmp3.length === 3],
    ['30 requests succeeded and reached all three hosts', r.failures === 0 && Object.keys(r.spread).length === 3],
    [`a failed health check dropped the route to two next hops (${r.dropMs} ms)`, r.ecmp2.length === 2 && !r.ecmp2.includes('198.51.100.12')],
    ['requests kept succeeding on the two remaining hosts', r.failuresAfterDrop === 0 && !('h2' in r.spreadAfterDrop) && Object.keys(r.spreadAfterDrop).length === 2],
    [`the restored host came back: three next hops (${r.restoreMs} ms)`, r.ecmpRestored.length === 3],
  ]
  print(`\n${line}\nSummary for VIP ${VIP}`)
  for (const [what, ok] of checks) print(`  ${ok ? 'OK  ' : 'FAIL'} ${what}`)
  const ok = checks.every(([, v]) => v)
  print(ok ? '\nDemo passed: every step happened as shown.' : '\nDemo FAILED.')
  process.exitCode = ok ? 0 : 1
} catch (e) {
  print(`\nDemo FAILED: ${(e as Error).message}`)
  process.exitCode = 1
}
